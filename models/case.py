"""What every case records about itself when it is registered (665/NK p.6)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field
from temporalio.exceptions import ApplicationError

from models.base import SHARED
from models.deadlines import DeadlineChange, DeadlineState
from models.timings import CaseTimings
from rules.lawdata import TermValue
from rules.text import Sentence

__all__ = [
    "ACTIONS_SAID",
    "ACTION_CASE_CLOSED",
    "ACTION_NOTHING_TO_LIFT",
    "ACTION_NOT_REOPENABLE",
    "ACTION_RECORDED",
    "ACTION_RECORDED_FOR_STAFF",
    "ACTION_REFUSED",
    "ACTION_REOPENED",
    "ACTION_SUSPENSION_LIFTED",
    "BACKDATED_AFTER_WORKING_DAYS",
    "BEGUN_CASE_MEMO",
    "ENDED_CASE_MEMO",
    "INTAKE_MEMO",
    "ONE_EVENT_AT_A_TIME",
    "ActNotBefore",
    "BlockedStep",
    "CaseView",
    "ComplaintInstruction",
    "ComplaintNotice",
    "ComplaintRecord",
    "DocumentRef",
    "EventDoesNotFit",
    "InstructionRecord",
    "IntakeRecord",
    "LawMigration",
    "LawMigrationRecord",
    "LawSnapshot",
    "LawSnapshotRequest",
    "Registration",
    "RegistrationRequest",
    "ResumeRequest",
    "action_said",
    "does_not_fit",
]


class RegistrationRequest(BaseModel):
    """Register an application received at ``received_at`` under act ``act_key``."""

    act_key: str
    received_at: datetime
    terms: list[str] = Field(default_factory=list)
    """The terms the procedure counts (``CaseWorkflow.TERMS``): the registration records these of the act's terms
    (an act such as 665/NK gives a permit's and a complaint's twelve); empty: every term of the act."""


class LawMigrationRecord(BaseModel):
    """A law migration the case went through: old and new version, and every due instant it moved."""

    at: datetime
    from_version: str
    to_version: str
    reason: str
    decided_by: str
    changed: list[DeadlineChange] = Field(default_factory=list)
    refused: str = ""


class Registration(BaseModel):
    """The registration day by the calendar, and the law that governs the case: the act version in force on
    the governing day and the value of every term of that act then. The case keeps this law; only a recorded
    law migration (``LawMigration``) moves it onto another version."""

    act_key: str
    received_at: datetime
    registered_on: date
    after_hours_roll: str | None = None
    act_version_id: str
    act_basis: str
    act_in_force_from: date
    act_version_assumed: bool
    calendar_version: str
    governed_on: date | None = None
    """The day whose law governs: the registration day where the act rolls after-hours receipts (665/NK p.6),
    else the day of receipt. Empty in cases registered before the law was recorded."""
    terms: dict[str, Annotated[TermValue, SHARED]] = Field(default_factory=dict)
    """The terms the procedure counts of the act in force on ``governed_on`` (``RegistrationRequest.terms``; cases
    registered before that recorded every term of the act, and cases registered before the law was recorded none,
    see ``DeadlineRequest``)."""
    migrations: list[LawMigrationRecord] = Field(default_factory=list)
    """Law migrations the case went through, oldest first (``act_version_id`` and ``terms`` are the latest's)."""
    results_from: datetime | None = None
    """The opening of the office on the registration day (09:00 Asia/Almaty) where the act issues results no
    earlier than that day (665/NK p.6: after hours, on a day off or a holiday, acceptance and the issue of the
    results happen on the next working day); empty under other acts and in cases registered before."""
    timings: Annotated[CaseTimings, SHARED] | None = None
    """The non-legal durations the case lives by, as configured on its registration (``models.timings``); empty in
    cases registered before they were recorded (they use the defaults)."""


class LawMigration(BaseModel):
    """Move a running case onto another version of its act (an explicit, recorded decision)."""

    to_version: str = Field(min_length=1, max_length=100, description="the act version, e.g. 171/554-NK-2025")
    reason: str = Field(min_length=1, max_length=500, description="why, e.g. the amending order")
    decided_by: str = Field(min_length=1, max_length=200)


class LawSnapshotRequest(BaseModel):
    """The terms of ``act_key`` under ``version`` (for a law migration)."""

    act_key: str
    version: str
    terms: list[str] = Field(default_factory=list)
    """As ``RegistrationRequest.terms``: the terms the procedure counts; empty: every term of the version."""


class LawSnapshot(BaseModel):
    """An act version and every term it gives (empty ``refusal`` when the version exists)."""

    act_key: str
    version: str
    basis: str = ""
    terms: dict[str, Annotated[TermValue, SHARED]] = Field(default_factory=dict)
    refusal: str = ""


class DocumentRef(BaseModel):
    """A document a case produced (stored by the documents activity; the case keeps the reference)."""

    doc_id: str
    kind: str  # e.g. "permit", "refusal", "hearing_notice"
    title: str
    sha256: str
    signed_by: str | None = None
    cite: str = ""
    created_at: datetime


class ComplaintInstruction(BaseModel):
    """What an upheld complaint instructs the appealed case to do (58 p.10; 665/NK p.10)."""

    complaint_id: str
    decision: str = Field(pattern="^(upheld|partly_upheld|satisfied)$")
    """The considering body's decision, or ``satisfied``: the provider fully satisfied the complaint itself."""
    action: str = Field(description="e.g. reopen (new decision), lift_suspension, reconsider")
    reasons: str = Field(min_length=1, max_length=4000)
    decided_at: datetime


class ComplaintNotice(BaseModel):
    """A complaint about the case was registered, or has been concluded (58 p.10; 665/NK p.10). Every case takes it
    (the ``complaint_notice`` Update): while a complaint is pending, a refused case does not close its complaint
    window."""

    complaint_id: str = Field(min_length=1, max_length=200)
    stage: str = Field(pattern="^(registered|concluded)$")
    registered_on: date | None = None
    """The complaint's registration day."""
    outcome: str | None = Field(default=None, max_length=100)
    """How the complaint ended (``concluded``): satisfied, upheld, partly_upheld, rejected, withdrawn."""


class ComplaintRecord(BaseModel):
    """A complaint about the case as the case knows it: pending until its conclusion is noticed."""

    complaint_id: str
    registered_on: date | None = None
    noticed_at: datetime
    concluded_at: datetime | None = None
    outcome: str | None = None

    @property
    def pending(self) -> bool:
        return self.concluded_at is None


class InstructionRecord(BaseModel):
    """An instruction as the appealed case recorded it, with what the case did about it."""

    instruction: ComplaintInstruction
    received_at: datetime
    action_taken: str
    """In English, one of the ``ACTION_…`` sentences; ``action_said`` says it in the complainant's language."""


# What an appealed case did about an upheld complaint's instruction (its Update's answer, in English), and the same
# in the letters' languages: the complaint's letters quote it (58 p.10; 665/NK p.10).
ACTION_RECORDED = "recorded; this procedure takes no automatic action, staff act on it"
ACTION_RECORDED_FOR_STAFF = "recorded; staff act on it"
ACTION_NOT_REOPENABLE = "recorded; the case is {status} and cannot be reopened now, staff act on it"
ACTION_REOPENED = "reopened for a new decision at {stage}"
ACTION_CASE_CLOSED = "the appealed case is closed; staff must act on the instruction"
ACTION_REFUSED = "the appealed case refused it: {cause}"
ACTION_SUSPENSION_LIFTED = "the suspension is lifted; the network restores the number's services and the centre is told"
ACTION_NOTHING_TO_LIFT = "recorded; there is no suspension to lift (the case is {status}), staff act on it"
ACTIONS_SAID: dict[str, dict[str, str]] = {
    ACTION_RECORDED: {
        "kk": "тіркелді; бұл рәсім автоматты түрде ешнәрсе жасамайды, шараны қызметкерлер қолданады",
        "ru": "зарегистрировано; эта процедура ничего не делает автоматически, меры принимают сотрудники",
    },
    ACTION_RECORDED_FOR_STAFF: {
        "kk": "тіркелді; шараны қызметкерлер қолданады",
        "ru": "зарегистрировано; меры принимают сотрудники",
    },
    ACTION_NOT_REOPENABLE: {
        "kk": "тіркелді; іс {status} күйінде және қазір қайта ашыла алмайды, шараны қызметкерлер қолданады",
        "ru": "зарегистрировано; дело в статусе {status} и сейчас не может быть возобновлено, меры принимают "
        "сотрудники",
    },
    ACTION_REOPENED: {
        "kk": "жаңа шешім үшін {stage} кезеңінде қайта ашылды",
        "ru": "возобновлено для нового решения на этапе {stage}",
    },
    ACTION_CASE_CLOSED: {
        "kk": "шағым жасалған іс жабылған; нұсқау бойынша шараны қызметкерлер қолдануы тиіс",
        "ru": "обжалованное дело закрыто; меры по указанию должны принять сотрудники",
    },
    ACTION_REFUSED: {
        "kk": "шағым жасалған іс оны қабылдамады: {cause}",
        "ru": "обжалованное дело его не приняло: {cause}",
    },
    ACTION_SUSPENSION_LIFTED: {
        "kk": "тоқтата тұру алынды: нөмірдің қызметтері қалпына келтіріледі және орталыққа хабарланады",
        "ru": "приостановление снято: услуги номера восстанавливаются, центр уведомляется",
    },
    ACTION_NOTHING_TO_LIFT: {
        "kk": "тіркелді; алынатын тоқтата тұру жоқ (іс {status} күйінде), шараны қызметкерлер қолданады",
        "ru": "зарегистрировано; снимать нечего, приостановления нет (дело в статусе {status}), меры принимают "
        "сотрудники",
    },
}
_STAGES_SAID = {
    "completeness_check": {"kk": "құжаттардың толықтығын тексеру", "ru": "проверки полноты документов"},
    "qualification_check": {
        "kk": "біліктілік талаптарына сәйкестігін тексеру",
        "ru": "проверки соответствия квалификационным требованиям",
    },
}


_ACTIONS_READ = [
    (re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>.+)", re.escape(english))), said)
    for english, said in ACTIONS_SAID.items()
]
"""Each ``ACTION_…`` sentence as a pattern whose groups are its fields, with its translations."""


def action_said(action_taken: str, lang: str) -> str:
    """``action_taken`` (one of the ``ACTION_…`` sentences, filled in) in ``lang`` (kk, ru); a text that is none of
    them (a case's own words) as it is."""
    for pattern, said in _ACTIONS_READ:
        if (found := pattern.fullmatch(action_taken)) and lang in said:
            values = {k: _STAGES_SAID.get(v, {}).get(lang, v) for k, v in found.groupdict().items()}
            return said[lang].format(**values)
    return action_taken


class ActNotBefore(BaseModel):
    """What the law forbids yet: an event the case waits for may not come before ``not_before``, and why (a
    procedure's own view lists these, so the console says it without counting the law itself)."""

    event: str
    """The Update it concerns, e.g. ``final_decision``."""
    not_before: datetime
    because: str
    """What it follows from, as a code a page can word in its language: ``notice_lead`` (the notice goes out no
    later than ``amount`` working days before the act, 665/NK p.7), ``notified_time`` (the hearing is not recorded
    before the time the applicant was told)."""
    since: datetime
    """The event it counts from (the notice)."""
    amount: int | None = None
    cite: str = ""
    why: str = ""
    """The same in English words, as the case explains it."""
    why_said: dict[str, Any] | None = None
    """``why`` as a sentence's data (``rules.text.Sentence.data``), for a reader that says it in its language (the
    edge's refusal of the event); ``None`` in views of cases that did not give it."""


class BlockedStep(BaseModel):
    """A step an outside system refused for good; the case waits for staff to resume it."""

    what: str
    error: str
    error_type: str = ""
    since: datetime
    status_before: str
    resumed_at: datetime | None = None
    resumed_by: str | None = None


class ResumeRequest(BaseModel):
    """Staff resume a blocked step once its cause is dealt with."""

    by: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=2000)


ENDED_CASE_MEMO = "ended_case"
"""Memo key of a run that ends a case and continues as new into the next case under its id (a fraud case's check
before the next, 171 p.120): the audit tools take that run for a case of its own, not for the past of the next."""

BEGUN_CASE_MEMO = "begun_case"
"""Start memo key of the runs of a case begun by such a continuation (carried by the runs it continues as new
into): the audit tools name the case by its own run, not by the first run of its id's chain."""

INTAKE_MEMO = "intake"
"""Start memo key of the ``IntakeRecord``."""

BACKDATED_AFTER_WORKING_DAYS = 1
"""A receipt older than this many working days is back-dated: taken as given, and the case records by whom."""


class IntakeRecord(BaseModel):
    """Who started a case at the edge, and whether its receipt was back-dated (recorded in the start's memo)."""

    started_by: str
    """The API key's holder and id, the console user, or the command line's user."""
    key_id: str | None = None
    """The API key that started the case (none for the console and the command line)."""
    bin: str | None = None
    """The organisation that key is bound to (operator systems)."""
    parties: dict[str, list[str]] = Field(default_factory=dict)
    """The starting operator system's organisation as a party of the case: its BIN, per role it started it in."""
    received_at: datetime | None = None
    backdated_working_days: int = 0
    """Working days between the day of receipt and the day the case was started (more than one: back-dated,
    taken as given)."""

    @property
    def backdated(self) -> bool:
        """Whether the receipt was back-dated (``BACKDATED_AFTER_WORKING_DAYS``), taken as given from whoever
        started the case."""
        return self.backdated_working_days > BACKDATED_AFTER_WORKING_DAYS


class CaseView(BaseModel):
    """A case as staff, operator systems and the console see it (the ``case`` query)."""

    case_id: str
    run_id: str | None = None
    """The run the view was read from, which names the case where its id names several (set at the edge)."""
    first_run_id: str | None = None
    """The first run of the view's chain: the case across its continuations as new, told apart from a case opened
    later under the same id (set at the edge; ``None`` where the server does not say)."""
    begun_after_run: str | None = None
    """The run of the case before this one under its id, where this one began as it ended (a fraud case's check
    after the check before it: ``BEGUN_CASE_MEMO``; set at the edge)."""
    procedure: str
    status: str
    closed: bool = False
    outcome: str | None = None
    outcome_reason: str | None = None
    """Why the case ended so, when a refusal or an abandonment says why (the mailbox's taken login, the e-government
    connection's missing factor); ``None`` otherwise (a procedure's own view may say more)."""
    outcome_cite: str = ""
    registration: Registration | None = None
    deadlines: list[DeadlineState] = []
    pending_events: list[str] = []
    documents: list[DocumentRef] = []
    instructions: list[InstructionRecord] = []
    complaints: list[ComplaintRecord] = []
    details: dict[str, Any] = {}  # procedure-specific facts (no personal data beyond what staff may see)
    blocked: BlockedStep | None = None
    blocked_steps: list[BlockedStep] = []
    intake: IntakeRecord | None = None
    """Filled by the edge from the start's memo (the workflow itself does not hold it)."""
    parties: dict[str, list[str]] = {}
    """The organisations acting in the case, per operator-system role (their BINs): the workflow's ``parties()``
    from its own data, and the organisation that started it (``intake.parties``, added by the edge). An operator
    system's key acts only on the cases that list its organisation, or in a role the procedure ``designated``."""


class EventDoesNotFit(ValueError):
    """A validator's refusal of an event the case does not take in its state now: the API answers 409, as its own
    check before the Update does (a plain ``ValueError`` is about what was sent: 422). Its class name is the Update
    failure's type (``api.temporal.CONFLICT_TYPES``)."""


ONE_EVENT_AT_A_TIME = "one-event-per-step-at-a-time"
"""``workflow.patched`` id, asked only when an event is refused as its handler starts (``CaseWorkflow.taking``):
another event of its step came first and is being taken (its handler awaits an outside call). Before it, both had
passed their validators, the first not having recorded its outcome yet, and both were taken (two EDS issued for one
step 8, two verdicts for one biometric check)."""


def does_not_fit(message: str) -> ApplicationError:
    """The failure of an Update whose handler finds the case no longer takes it: a state conflict (the API's 409).
    A ``Sentence`` goes with it as the failure's details, for the edge to say in the reader's language
    (``workflows.refusals``); the message stays its English."""
    said = [message.data()] if isinstance(message, Sentence) else []
    return ApplicationError(message, *said, type=EventDoesNotFit.__name__, non_retryable=True)
