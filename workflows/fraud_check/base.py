"""The fraud case: its id, its statuses and what every step of it shares (the number, the reports, the outcome,
the suspension, the messages to the centre) and its view.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.fraud_check import (
        CentreNotice,
        CheckOutcome,
        FraudCaseInput,
        FraudCaseView,
        LiftDecision,
        NetworkResult,
        RecordedReport,
        SubscriberRecord,
    )
    from rules.identifiers import masked_number
    from workflows.case import CaseWorkflow

__all__ = ["ACT", "PROCEDURE", "FraudCase", "Status", "fraud_case_id"]

PROCEDURE = "fraud_check"
ACT = "171"


def fraud_case_id(number: str) -> str:
    """The one workflow id of the case about ``number`` (a keyed hash: the number never appears in clear).

    Computed at the edge (the API's start path, the CLI), never by workflow code."""
    from infra.pseudonym import case_id  # at the edge only: the key comes from settings

    return case_id(PROCEDURE, number)


class Status:
    CHECK = "check"
    SUSPENDING = "suspending"
    SUSPENDED = "suspended"
    NOT_CONFIRMED_NOTICE = "not_confirmed_notice"
    RESTORING = "restoring"
    CLOSED = "closed"


class FraudCase(CaseWorkflow):
    """What every step of the fraud case shares."""

    PROCEDURE = PROCEDURE
    TERMS = (
        "fraud.check",
        "fraud.not_confirmed_notice",
        "fraud.suspension",
        "fraud.suspension_notice",
    )  # 171 p.116–120

    def __init__(self, inp: FraudCaseInput) -> None:
        super().__init__()
        self.number = inp.first.suspect_number
        self.cycle = inp.cycle
        self.reports: list[RecordedReport] = []
        self._refs: set[str] = set()
        self._refs_by_way_in: set[tuple[str, str]] = set()
        self._opening_ref = inp.first.ref
        self._opening_answered = False
        self.check_outcome: CheckOutcome | None = None
        self.outcome_at: datetime | None = None
        self.subscriber: SubscriberRecord | None = None
        self.suspension: NetworkResult | None = None
        self.lift: LiftDecision | None = None
        self.lift_at: datetime | None = None
        self.restoration: NetworkResult | None = None
        self.notices: list[CentreNotice] = []
        self._tasks: list[asyncio.Task[Any]] = []

    _notices_by_activity: bool
    _notices_carry_subscriber: bool
    _subscriber_lookup: asyncio.Future[SubscriberRecord] | None
    """Whether ``NOTICES_RETRIED_BY_ACTIVITY`` applies: decided in ``FraudCheck.__init__``, the first activation."""

    def _spawn(self, coro: Awaitable[None]) -> None:
        self._tasks.append(asyncio.ensure_future(coro))

    def details(self) -> dict[str, Any]:
        """The ``case`` query's facts (the API's case view): the number masked as the console shows it, the check,
        its outcome, and each report without the reporter's number (171 p.116-120)."""
        outcome = self.check_outcome
        return {
            "number": masked_number(self.number),
            "check": self.cycle,
            "confirmed": None if outcome is None else outcome.confirmed,
            "reports": [
                {
                    "ref": r.report.ref,
                    "way_in": r.report.way_in.value,
                    "signal": r.report.signal,
                    "received_at": r.report.received_at.isoformat(),
                    "description": r.report.description,
                    "for_the_next_check": r.needs_new_check,
                }
                for r in self.reports
            ],
        }

    def view(self) -> FraudCaseView:
        return FraudCaseView(
            case_id=workflow.info().workflow_id,
            number=self.number,
            cycle=self.cycle,
            status=self.status,
            reports=list(self.reports),
            outcome=self.check_outcome,
            outcome_at=self.outcome_at,
            subscriber=self.subscriber,
            suspension=self.suspension,
            lift=self.lift,
            lift_at=self.lift_at,
            restoration=self.restoration,
            notices=[n.model_copy() for n in self.notices],
        )
