"""The fraud procedure in the catalogue: its start (a report opens the case or joins it), its events and who
may send them, its view and the activities only it calls."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

with workflow.unsafe.imports_passed_through():
    from activities.antifraud import AntifraudActivities
    from activities.network import NetworkActivities
    from activities.subscriber_registry import SubscriberRegisterActivities
    from models.fraud_check import (
        AnyReport,
        CentreInformation,
        CheckOutcome,
        FraudCaseInput,
        FraudCaseView,
        IntakeAck,
        InternalDetection,
        LiftDecision,
        SubscriberReport,
        WayIn,
        sender_text,
    )
    from models.procedure import EventSpec, Governs, ProcedureSpec, Role, StartPolicy, ViewSpec
    from rules.identifiers import masked_number, personal_number_in
    from rules.law import cite
    from rules.text import Sentence

from workflows.fraud_check.base import ACT, PROCEDURE, Status, fraud_case_id
from workflows.fraud_check.intake import opening_report
from workflows.fraud_check.workflow import FraudCheck

__all__ = ["SPEC", "WAY_IN_PARAGRAPHS"]

_INTAKE = (
    Role.STAFF,
    Role.operator("reference_service"),
    Role.operator("antifraud_centre"),
    Role.operator("antifraud_system"),
)

WAY_IN_PARAGRAPHS: dict[WayIn, tuple[str, ...]] = {
    WayIn.SUBSCRIBER_REPORT: ("p.52(4)", "p.119"),
    WayIn.CENTRE_INFORMATION: ("p.119",),
    WayIn.INTERNAL_DETECTION: ("p.116", "p.118"),
}
"""The paragraphs each way in executes (171 as amended by 554/NK): a report to the reference service (p.52(4)),
the antifraud centre's information (p.119), the operator's own antifraud systems' detection (p.116, p.118)."""


def _one_report(inp: FraudCaseInput) -> None:
    """A start carries one report: the check's number, the reports carried and the recorded state are written by
    the case itself when it continues as new, never sent (a start with them would record a report its sender may
    not send, or about another number, without the checks of an event)."""
    # sent at all, even at their defaults (``"cycle": 1``): the edges offer ``first`` alone
    if inp.model_fields_set & {"cycle", "carried", "state"} or inp.cycle != 1 or inp.carried or inp.state is not None:
        raise ValueError(
            Sentence("a report opens or joins the case alone: cycle, carried and state are the case's own")
        )
    if kind := personal_number_in(sender_text(inp.first.ref)):
        # staff see the ref with the report (its Update id is a keyed hash of it since 2026-12-04)
        raise ValueError(
            Sentence("the report's ref holds what reads as {kind}; a ref carries no personal data", kind=kind)
        )


async def _report_at_the_edge(client: Any, case_id: str, report: AnyReport) -> AnyReport:
    """A report that joins a running case is checked at the edge as one that opens a case is (``check_intake``): one
    received before the law of its day had the paragraphs its way in executes (171 ch.3 came with 554/NK in force
    from 2025-11-15), or in the future, is refused (422). It joined through the events route (an adversarial run,
    2026-12-03), where the start route refused it."""
    from infra.cases import REFERENCE_TAKEN, CaseError, check_intake, refused, taken_messages  # at the edge only

    check_intake(SPEC, FraudCaseInput(first=report))
    if SPEC.case_id(FraudCaseInput(first=report)) != case_id:
        raise refused("the report is about another number than this case")
    # a ref names one message: taken in about another number, it is refused here as on the start route (an
    # adversarial run, 2026-12-04, had one ref in two cases through this route)
    known = taken_messages(SPEC.key, report.way_in.value, [report.ref]).get(report.ref)
    if known is not None and known != case_id:
        raise CaseError("conflict", REFERENCE_TAKEN)
    return report


def _report_taken(case_id: str, report: AnyReport, result: Any) -> None:
    """The events route took a report in: the start ledger records its ref, as the start route does."""
    from infra.cases import remember_message  # at the edge only

    answer = IntakeAck.model_validate(result).answer
    remember_message(SPEC.key, report.way_in.value, report.ref, case_id, answer.value, "events route")


def _report_answer(result: Any, operator: bool) -> dict[str, Any]:
    """A report's answer: to the back office how the case took it, how many reports it holds and where it stands;
    to an operator system only that it was taken (it reads nothing of the case, not even another's reports)."""
    ack = IntakeAck.model_validate(result)
    return ack.model_dump(mode="json", include={"case_id", "answer"} if operator else None)


def _decision_answer(result: Any, operator: bool) -> dict[str, Any]:
    """A decision's answer: where the case stands, its number masked as the case view shows it (the subscriber's
    record and the reporters' numbers stay in the case, p.116-120)."""
    view = FraudCaseView.model_validate(result)
    return {
        "case_id": view.case_id,
        "number": masked_number(view.number),
        "check": view.cycle,
        "status": view.status,
        "confirmed": None if view.outcome is None else view.outcome.confirmed,
        "suspended": view.suspension is not None,
        "lifted": view.lift_at is not None,
    }


SPEC = ProcedureSpec(
    key=PROCEDURE,
    title="Fraud: identifying and suspending a number",
    act_key=ACT,
    workflow=FraudCheck,
    run=FraudCheck.run,
    input_model=FraudCaseInput,
    case_id=lambda inp: fraud_case_id(inp.first.suspect_number),
    start_roles=frozenset(_INTAKE),
    # the operator's reference service and antifraud systems, and the National Bank's one antifraud centre
    designated=frozenset(r for r in _INTAKE if Role.is_operator(r)),
    events=(
        EventSpec(
            "subscriber_report",
            SubscriberReport,
            frozenset({Role.STAFF, Role.operator("reference_service")}),
            "Subscriber's report to the reference service",
            cite("171", "p.52(4)", "p.119"),
            result_model=IntakeAck,
            answer=_report_answer,
            to_update=_report_at_the_edge,
            taken=_report_taken,
        ),
        EventSpec(
            "centre_information",
            CentreInformation,
            frozenset({Role.operator("antifraud_centre")}),
            "Information from the National Bank antifraud centre",
            cite("171", "p.119"),
            result_model=IntakeAck,
            answer=_report_answer,
            to_update=_report_at_the_edge,
            taken=_report_taken,
        ),
        EventSpec(
            "internal_detection",
            InternalDetection,
            frozenset({Role.STAFF, Role.operator("antifraud_system")}),
            "Operator's own antifraud detection",
            cite("171", "p.118"),
            result_model=IntakeAck,
            answer=_report_answer,
            to_update=_report_at_the_edge,
            taken=_report_taken,
        ),
        EventSpec(
            "record_check_outcome",
            CheckOutcome,
            frozenset({Role.STAFF}),
            "Outcome of the check, with evidence",
            cite("171", "p.119", "p.120"),
            terms=("fraud.check",),
            answer=_decision_answer,
        ),
        EventSpec(
            "lift_suspension",
            LiftDecision,
            frozenset({Role.STAFF}),
            "Lift the suspension (decision with reason)",
            cite("171", "p.120"),
            answer=_decision_answer,
        ),
    ),
    result_model=FraudCaseView,
    # A report opens the case of its number or joins the running one in one call (update-with-start); after
    # the case closed (not confirmed, or the suspension lifted) the next report opens a new run (p.119).
    start=StartPolicy(
        id_conflict=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        with_update=opening_report,
    ),
    view=ViewSpec("fraud", FraudCaseView),
    governs=lambda inp: Governs(ACT, WAY_IN_PARAGRAPHS[inp.first.way_in], inp.first.received_at),
    intake_check=_one_report,
    activities=(
        SubscriberRegisterActivities.lookup_subscriber,
        AntifraudActivities.inform_antifraud_centre,
        NetworkActivities.apply_network_order,
    ),
    statuses=(
        Status.CHECK,
        Status.SUSPENDING,
        Status.SUSPENDED,
        Status.NOT_CONFIRMED_NOTICE,
        Status.RESTORING,
        Status.CLOSED,
    ),
)
