"""Fraud case (171 ch.3 p.116–120, p.52(4)): the three ways in, the analyst's outcome, the lift decision,
the messages to the National Bank antifraud centre and the orders to the network.

Every model that carries a number, a name or an IIN derives from ``Model`` (inputs never echoed in errors).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from models.base import Model
from models.case import BlockedStep, ComplaintRecord, DocumentRef, InstructionRecord, Registration
from models.deadlines import DeadlineState
from models.types import IIN, AwareDatetime, KzMobile, NonEmptyStr
from rules.calendar import almaty_text

__all__ = [
    "STATE_BUDGET_BYTES",
    "CentreInformation",
    "CentreMessage",
    "CentreNotice",
    "CentreReceipt",
    "CheckOutcome",
    "FraudCaseInput",
    "FraudCaseView",
    "FraudState",
    "IntakeAck",
    "InternalDetection",
    "LiftDecision",
    "NetworkAction",
    "NetworkOrder",
    "NetworkResult",
    "NoticeKind",
    "RecordedReport",
    "ReportAnswer",
    "SubscriberLookup",
    "SubscriberRecord",
    "SubscriberReport",
    "WayIn",
]


def _local(at: datetime) -> str:
    return almaty_text(at)


SWEEP_REF = re.compile(r"sweep:(?P<sweep>[^:]+):(?P<number>[0-9a-f]{20})")
"""The ref of a line of the antifraud centre's sweep (``cli.fraud_intake.sweep_ref``): the sweep's id, and the
number as a keyed pseudonym (hex, which now and then holds ten digits that read as a phone number)."""


def sender_text(ref: str) -> str:
    """What of ``ref`` its sender wrote: all of it, but the pseudonym of a sweep line's number (``SWEEP_REF``)."""
    found = SWEEP_REF.fullmatch(ref)
    return found["sweep"] if found else ref


SourceRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9:._/-]+$",
        description=(
            "the sender's own reference; the same reference is the same report. Never personal data (a phone "
            "number, an IIN): staff see it with the report (Temporal sees only a keyed hash of it)"
        ),
    ),
]
Signal = Literal["sms", "call", "network"]


class WayIn(StrEnum):
    """How the information reached the operator (171 p.52(4), p.118, p.119)."""

    SUBSCRIBER_REPORT = "subscriber_report"
    CENTRE_INFORMATION = "centre_information"
    INTERNAL_DETECTION = "internal_detection"


class _Report(Model):
    ref: SourceRef
    suspect_number: KzMobile
    received_at: AwareDatetime
    signal: Signal = "sms"
    description: NonEmptyStr


class SubscriberReport(_Report):
    """(a) A subscriber's report to the information-reference service about a suspicious SMS or call (p.52(4))."""

    way_in: Literal[WayIn.SUBSCRIBER_REPORT] = WayIn.SUBSCRIBER_REPORT
    reporter_number: KzMobile

    @model_validator(mode="after")
    def _reporter_is_not_suspect(self) -> SubscriberReport:
        if self.reporter_number == self.suspect_number:
            raise ValueError("the reporter's number and the suspect number are the same")
        return self


class CentreInformation(_Report):
    """(b) Information from the National Bank antifraud centre, including SIM-box findings (p.119)."""

    way_in: Literal[WayIn.CENTRE_INFORMATION] = WayIn.CENTRE_INFORMATION
    simbox: bool = False


class InternalDetection(_Report):
    """(c) The operator's own antifraud detection, including SIM boxes (p.116, p.118)."""

    way_in: Literal[WayIn.INTERNAL_DETECTION] = WayIn.INTERNAL_DETECTION
    simbox: bool = False
    detector: NonEmptyStr = "internal-antifraud"


AnyReport = Annotated[SubscriberReport | CentreInformation | InternalDetection, Field(discriminator="way_in")]


class FraudCaseInput(Model):
    """Start of a case: the report that opened it, and reports carried over from the previous run.

    A start from outside carries ``first`` alone (the intake refuses the rest); ``cycle``, ``carried`` and ``state``
    are what a run continuing as new hands its successor, so they are left out of the schema the edges are built
    from: the console's start form, the API's documented body and the command line's fields show the report only."""

    first: AnyReport
    cycle: SkipJsonSchema[int] = 1
    carried: SkipJsonSchema[list[AnyReport]] = Field(default_factory=list)
    state: SkipJsonSchema[FraudState | None] = None
    """The whole case, when the run continues one that continued as new within the same check (a long history)."""


class RecordedReport(Model):
    """A report as the case recorded it."""

    report: AnyReport
    recorded_at: datetime
    needs_new_check: bool = False  # came after a not-confirmed outcome or a lift: carried to a new check
    description_in_run: str | None = None
    """The run whose history holds the report's description, once the case let it go from the state it carries
    (``FraudState.within_budget``); the report's ``description`` then says so."""

    def without_description(self, run_id: str) -> RecordedReport:
        """This report with its description left in ``run_id``'s history (its ref, way in and receipt kept)."""
        if self.description_in_run is not None:
            return self
        said = f"(the description is in the history of run {run_id})"
        return self.model_copy(
            update={"report": self.report.model_copy(update={"description": said}), "description_in_run": run_id}
        )


class ReportAnswer(StrEnum):
    OPENED = "opened"
    JOINED = "joined"
    DUPLICATE = "duplicate"


class IntakeAck(Model):
    """The answer to a report: opened the case, joined the open case, or already recorded."""

    case_id: str
    answer: ReportAnswer
    reports_in_case: int | None = None  # None when the intake already knew the report (not asked again)
    status: str | None = None


class CheckOutcome(Model):
    """The antifraud analyst's outcome of the check (p.119), with its evidence."""

    confirmed: bool
    evidence: list[NonEmptyStr] = Field(min_length=1, max_length=50)
    analyst: NonEmptyStr
    note: str = Field(default="", max_length=2000)


class LiftDecision(Model):
    """A back-office decision lifting the suspension, with its reason (e.g. a complaint upheld)."""

    reason: NonEmptyStr
    decided_by: NonEmptyStr
    complaint_ref: str | None = Field(default=None, max_length=200)


class NoticeKind(StrEnum):
    """Messages to the antifraud centre."""

    DETECTION = "detection"  # p.118: own detection, with the subscriber's data and all numbers
    SUSPENSION = "suspension"  # p.120: confirmed, services suspended
    NOT_CONFIRMED = "not_confirmed"  # p.120: signs not confirmed
    RESTORATION = "restoration"  # suspension lifted by a back-office decision


class SubscriberLookup(Model):
    number: KzMobile


class SubscriberRecord(Model):
    """What the subscriber registry knows of a number's subscriber (p.118)."""

    number: str
    found: bool
    surname: str | None = None
    name: str | None = None
    patronymic: str | None = None
    iin: IIN | None = None
    numbers: list[str] = Field(default_factory=list)  # every number registered to the subscriber


class CentreMessage(Model):
    """One message to the antifraud centre; ``message_id`` makes a retry harmless."""

    message_id: str
    case_id: str
    kind: NoticeKind
    number: str
    cite: str
    subscriber: SubscriberRecord | None = None
    evidence: list[str] = Field(default_factory=list)
    reason: str = ""


class CentreReceipt(BaseModel):
    """The centre's acknowledgement of a message (read tolerantly: an activity result)."""

    message_id: str
    received_at: datetime
    duplicate: bool
    attempt: int = 1
    """The attempt of the activity that reached the centre (Temporal's count; 1 before it was recorded)."""


class CentreNotice(Model):
    """A message to the centre as the case tracks it: pending since when, how many attempts, delivered."""

    message_id: str
    kind: NoticeKind
    cite: str
    pending_since: datetime
    attempts: int = 0
    """Attempts made; while ``call_id`` is set and the notice is pending, Temporal counts them (see there)."""
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    call_id: str | None = None
    """The activity id of the delivery when the activity's retry policy retries it: its attempts, last error
    and next attempt are in Temporal's pending-activity info (``infra.cases.pending_calls``), not in the case.
    ``None`` for cases that retried in workflow code (the fields above are then the case's own record)."""

    def with_pending_call(self, attempt: int, last_error: str | None, next_attempt_at: datetime | None) -> CentreNotice:
        """This notice with what Temporal's pending-activity info says of its delivery now."""
        return self.model_copy(
            update={"attempts": attempt, "last_error": last_error, "next_attempt_at": next_attempt_at}
        )

    def describe(self) -> str:
        """E.g. ``pending since 2026-11-23 10:05 +05:00, attempts 4, last error: …`` (Asia/Almaty)."""
        if self.delivered_at:
            return f"delivered {_local(self.delivered_at)} after {self.attempts} attempt(s)"
        text = f"pending since {_local(self.pending_since)}"
        if self.attempts:
            text += f", attempts {self.attempts}"
        if self.last_error:
            text += f", last error: {self.last_error}"
        if self.next_attempt_at:
            text += f", next attempt {_local(self.next_attempt_at)}"
        return text


class NetworkAction(StrEnum):
    SUSPEND = "suspend"
    RESTORE = "restore"


class NetworkOrder(Model):
    """Suspend or restore communication services to a number (network/billing; locally the registry)."""

    order_id: str
    case_id: str
    number: str
    action: NetworkAction
    reason: str


class NetworkResult(Model):
    order_id: str
    done_at: datetime
    duplicate: bool
    number_known: bool


class FraudCaseView(Model):
    """The fraud-specific part of a case (the ``fraud`` query)."""

    case_id: str
    number: str
    cycle: int
    status: str
    reports: list[RecordedReport]
    outcome: CheckOutcome | None = None
    outcome_at: datetime | None = None
    subscriber: SubscriberRecord | None = None
    suspension: NetworkResult | None = None
    lift: LiftDecision | None = None
    lift_at: datetime | None = None
    restoration: NetworkResult | None = None
    notices: list[CentreNotice] = Field(default_factory=list)


STATE_BUDGET_BYTES = 1024 * 1024
"""The most JSON a fraud case hands its next run (``FraudState.within_budget``): half of Temporal's 2 MiB payload
limit, the rest for the opening report, the encryption and the memo. A case of some 700 reports of 2,000 characters
carried 3.37 MB: it could not continue as new and every workflow task failed (an adversarial run, 2026-12-04)."""


class FraudState(Model):
    """Everything a fraud case knows at a point its next run takes up (the check awaited, or the suspension awaiting
    its lift), handed over whole when the case continues as new within the same cycle."""

    registration: Registration
    status: str
    reports: list[RecordedReport]
    opening_answered: bool
    """Whether the Update that opened the case was answered (a retry of it is then a duplicate)."""
    check_outcome: CheckOutcome | None = None
    outcome_at: datetime | None = None
    subscriber: SubscriberRecord | None = None
    suspension: NetworkResult | None = None
    notices: list[CentreNotice] = Field(default_factory=list)
    deadlines: dict[str, DeadlineState] = Field(default_factory=dict)
    documents: list[DocumentRef] = Field(default_factory=list)
    instructions: list[InstructionRecord] = Field(default_factory=list)
    complaints: list[ComplaintRecord] = Field(default_factory=list)
    blocked_steps: list[BlockedStep] = Field(default_factory=list)

    def within_budget(self, run_id: str) -> FraudState:
        """The state to hand over, no larger than ``STATE_BUDGET_BYTES`` of JSON: the descriptions of the earliest
        reports are left in the history of ``run_id``, which holds each (the Update that brought it, or this run's
        input that carried it) until the rest fits. Every report stays, with its ref, way in and receipt."""
        excess = _json_size(self) - STATE_BUDGET_BYTES
        if excess <= 0:
            return self
        reports = list(self.reports)
        for i, r in enumerate(reports):
            if excess <= 0:
                break
            reports[i] = r.without_description(run_id)  # one let go before stays as it was
            excess -= _json_size(r) - _json_size(reports[i])
        return self.model_copy(update={"reports": reports})


def _json_size(model: Model) -> int:
    return len(model.model_dump_json().encode())


FraudCaseInput.model_rebuild()
