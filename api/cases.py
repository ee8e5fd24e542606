"""What the API and the console do with cases: the one start and event path of ``infra.cases`` with its
refusals as problem documents, listing (Temporal visibility), documents, and a timeline from the history."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.auth import key_holder
from api.headers import DOCUMENT_CSP
from api.i18n import say
from api.problems import ProblemError
from api.temporal import TEMPORAL_ERRORS, problem_from_temporal
from infra import case_index, cases
from infra.calendar import current_calendar
from infra.cases import REFUSING_RESULTS, CaseError, EventResult, PendingCall
from infra.receipts import received
from infra.store import document_file_name, document_stem, load_document
from models import search_attributes as sa
from models.case import CaseView
from models.deadlines import DeadlineStatus
from models.procedure import Caller, EventSpec, ProcedureSpec, SenderError
from models.tables import Document
from rules.calendar import ALMATY, almaty_text
from rules.text import Sentence

__all__ = [
    "CASE_ID_PATTERN",
    "STATUS_PATTERN",
    "CaseRef",
    "CaseSummary",
    "EventResult",
    "TimelineEntry",
    "case_document",
    "case_ref",
    "document_response",
    "get_case",
    "list_cases",
    "outside_calls",
    "send_event",
    "start_case",
    "timeline",
    "working_days_left",
]

log = logging.getLogger(__name__)

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$"
STATUS_PATTERN = r"^[a-z0-9_]{1,64}$"


class CaseRef(BaseModel):
    """A case that was started, or that the start joined or found (``answer`` says which)."""

    case_id: str
    procedure: str
    created: bool
    answer: str
    """``opened``, ``joined`` (the start's report was recorded in the running case), ``existing``,
    ``closed`` (the same application's case is closed and is not started again) or ``duplicate``."""
    href: str
    result: Any = None
    """The answer of the Update a start carries (e.g. a fraud report's acknowledgement)."""
    run_id: str | None = Field(default=None, exclude=True)
    """The case's run the start opened or found (not part of the answer; kept for a retry's answer)."""
    update_id: str | None = Field(default=None, exclude=True)
    """The Update the start carried, when the case took it (not part of the answer)."""


class CaseSummary(BaseModel):
    """A case in a list (from visibility: no personal data)."""

    case_id: str
    procedure: str
    status: str
    running: bool
    overdue: bool
    next_deadline: datetime | None = None
    working_days_left: int | None = None
    started_at: datetime | None = None


class TimelineEntry(BaseModel):
    """One line of a case's timeline."""

    at: datetime
    kind: str  # started, event, decision, activity, timer, deadline_opened, deadline_met, breach, closed, ...
    name: str
    detail: str = ""
    cite: str = ""
    sent_by: str = ""
    """Who sent an event (the key's holder as a case records it, ``Principal.describe``), from its Update id; empty
    for an event sent without a key (the command line) or before the id named it."""
    detail_said: dict[str, Any] | None = Field(default=None, exclude=True)
    """The detail as a sentence's data (``rules.text.Sentence.data``), for the console to say in its language."""

    def detail_in(self, lang: str) -> str:
        """The detail in ``lang``: a sentence by its template, any other text by the catalogue."""
        return say(lang, Sentence.from_data(self.detail_said) or self.detail)

    @field_validator("at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v.astimezone(UTC) if v.tzinfo else v.replace(tzinfo=UTC)


_CLOSED = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    }
)


def case_document(case_id: str, doc_ref: str) -> tuple[Document, bool]:
    """A document of the case, or its signature when ``doc_ref`` ends in ``.p7s``; 404 otherwise."""
    doc, signature = load_document(doc_ref), False
    if doc is None and doc_ref.endswith(".p7s"):
        doc, signature = load_document(doc_ref[:-4]), True
    if doc is None or doc.case_id != case_id:
        raise ProblemError(404, "no such document in this case")
    if signature and doc.signature is None:
        raise ProblemError(404, "the document is not signed (yet)")
    return doc, signature


def document_response(case_id: str, doc_ref: str) -> Response:
    """The document's bytes, or its detached CMS signature (DER, ``application/pkcs7-signature``)."""
    doc, signature = case_document(case_id, doc_ref)
    if signature:
        assert doc.signature is not None
        return Response(
            doc.signature,
            media_type="application/pkcs7-signature",
            headers={"Content-Disposition": f'attachment; filename="{document_stem(doc.doc_id)}.p7s"'},
        )
    shown = "inline" if doc.media_type.startswith("text/html") else "attachment"  # a ZIP is saved, not shown
    return Response(
        doc.content,
        media_type=doc.media_type,
        headers={
            "Content-Disposition": f'{shown}; filename="{document_file_name(doc)}"',
            "X-Content-SHA256": doc.sha256,
            "Content-Security-Policy": DOCUMENT_CSP,  # shown sandboxed: no script, no form, no same origin
        },
    )


def _problem(exc: CaseError) -> ProblemError:
    status = {"not_found": 404, "conflict": 409, "forbidden": 403}.get(exc.kind, 422)
    if status == 409:
        retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
        return ProblemError(
            409, exc.message, type_="urn:kz-procedures:problem:conflict", not_before=exc.not_before, headers=retry
        )
    if exc.kind == "refused":
        return ProblemError(422, exc.message, type_="urn:kz:intake-refused")
    return ProblemError(status, exc.message)


async def start_case(
    client: Client,
    spec: ProcedureSpec,
    inp: BaseModel,
    task_queue: str,
    *,
    actor: str = "",
    caller: Caller | None = None,
    request: str | None = None,
    retry: bool = False,
) -> CaseRef:
    """Start a case through the one start path; its answer says whether it opened, joined or found one.
    ``actor`` (who sends it) and ``caller`` (its key and organisation, a party of the case it opens) are recorded
    with the case; ``request`` and ``retry`` make a retried request answer as its first attempt did
    (``infra.cases.start_case``)."""
    try:
        started = await cases.start_case(
            client,
            spec,
            inp,
            task_queue=task_queue,
            source="api",
            actor=actor,
            caller=caller,
            request=request,
            retry=retry,
        )
    except CaseError as exc:
        raise _problem(exc) from None
    except TEMPORAL_ERRORS as exc:
        raise problem_from_temporal(exc) from None
    return case_ref(spec, started.case_id, started.answer.value, started.result, started.run_id, started.update_id)


def case_ref(
    spec: ProcedureSpec,
    case_id: str,
    answer: str,
    result: Any = None,
    run_id: str | None = None,
    update_id: str | None = None,
) -> CaseRef:
    """The answer to a start."""
    return CaseRef(
        case_id=case_id,
        procedure=spec.key,
        created=answer == cases.StartAnswer.OPENED,
        answer=answer,
        href=f"/v1/cases/{case_id}",
        result=result.model_dump(mode="json") if isinstance(result, BaseModel) else result,
        run_id=run_id,
        update_id=update_id,
    )


async def get_case(
    client: Client, case_id: str, procedures: Mapping[str, ProcedureSpec], run_id: str | None = None
) -> CaseView:
    """The case's own view (the ``case`` query), of run ``run_id`` if given; 404 for anything that is not a case of
    ours."""
    try:
        view = await cases.case_view(client, case_id, run_id)
    except CaseError as exc:
        raise _problem(exc) from None
    except TEMPORAL_ERRORS as exc:
        raise problem_from_temporal(exc) from None
    if view.procedure not in procedures:
        raise ProblemError(404, "no such case")
    return view


async def outside_calls(client: Client, case_id: str) -> list[PendingCall]:
    """The calls to outside systems the case waits on now, from Temporal (attempts, last error, next attempt)."""
    try:
        return await cases.pending_calls(client, case_id)
    except TEMPORAL_ERRORS as exc:
        raise problem_from_temporal(exc) from None


async def send_event(
    client: Client,
    spec: ProcedureSpec,
    event: EventSpec,
    case_id: str,
    payload: BaseModel | None,
    *,
    update_id: str | None = None,
    caller: Caller | None = None,
) -> EventResult:
    """Send an event (an Update) to a case of ``spec``; 404 / 409 / 422 say why it was not taken.

    To an operator system (``caller``) a case it is no party of is the same 404 as a missing case, and a refusal
    of the case is a generic text, unless the validator raised ``SenderError`` or the handler failed with one of
    the event's ``sender_errors`` (messages that name only what the sender sent): other texts may name the case's
    status, its other parties' contract numbers or what it waits for. The Update carries the instant the API took
    the event (``infra.receipts``): the case times the act by it.
    """
    try:
        with received(datetime.now(UTC)):
            result = await cases.send_event(client, spec, event, case_id, payload, update_id=update_id, caller=caller)
    except CaseError as exc:
        raise _problem(exc) from None
    except WorkflowUpdateFailedError as exc:
        problem = problem_from_temporal(exc)
        cause = exc.cause
        if caller is None or not caller.acts_as_operator(event.roles):
            raise problem from None
        if isinstance(cause, ApplicationError) and (
            cause.type == SenderError.__name__ or cause.type in event.sender_errors
        ):
            raise problem from None
        generic = {
            409: f"{event.name} does not fit the case's state now",
            422: f"the case refused {event.name}",
        }.get(problem.status, "the case refused the event")
        raise ProblemError(problem.status, generic, type_=problem.type) from None
    except TEMPORAL_ERRORS as exc:
        raise problem_from_temporal(exc) from None
    if caller is not None and not caller.acts_as_operator(event.roles):
        _remember_actor(case_id, caller.key_id)
    return result


def _remember_actor(case_id: str, key_id: str) -> None:
    """A person's key recorded a decision: the case is among theirs in the work queue (never fails the event)."""
    try:
        case_index.record_actor(case_id, key_id)
    except SQLAlchemyError as exc:
        log.warning("case %s: who acted not recorded: %s", case_id, exc.__class__.__name__)


def visibility_query(
    procedures: Mapping[str, ProcedureSpec],
    procedure: str | None,
    status: str | None,
    overdue: bool | None,
    running: bool | None,
) -> str:
    """A visibility query over our search attributes; every value is checked before it goes in."""
    if procedure is not None and procedure not in procedures:
        raise ProblemError(422, f"unknown procedure; known: {', '.join(sorted(procedures))}")
    if status is not None and not re.match(STATUS_PATTERN, status):
        raise ProblemError(422, "status is a lowercase word such as completeness_check")
    keys = [procedure] if procedure else sorted(procedures)
    if not keys:
        return f"{sa.PROCEDURE.name} = '-none-'"
    parts = ["(" + " OR ".join(f"{sa.PROCEDURE.name} = '{k}'" for k in keys) + ")"]
    if status:
        parts.append(f"{sa.STATUS.name} = '{status}'")
    if overdue is not None:
        parts.append(f"{sa.OVERDUE.name} = {'true' if overdue else 'false'}")
    if overdue:  # a breach is outstanding only while the case runs: a closed case keeps the attribute as it was
        running = True if running is None else running
    if running is not None:
        parts.append("ExecutionStatus = 'Running'" if running else "ExecutionStatus != 'Running'")
    return " AND ".join(parts)


def working_days_left(due: datetime, now: datetime | None = None) -> int:
    """Working days from today (Asia/Almaty) to the due day by the calendar in force; negative when past."""
    today = (now or datetime.now(UTC)).astimezone(ALMATY).date()
    due_day: date = due.astimezone(ALMATY).date()
    return current_calendar().working_days_between(today, due_day)


async def list_cases(
    client: Client,
    procedures: Mapping[str, ProcedureSpec],
    *,
    procedure: str | None = None,
    status: str | None = None,
    overdue: bool | None = None,
    running: bool | None = None,
    limit: int = 100,
) -> list[CaseSummary]:
    """Cases through visibility, overdue first, then by the next deadline."""
    query = visibility_query(procedures, procedure, status, overdue, running)
    out: list[CaseSummary] = []
    now = datetime.now(UTC)
    try:
        async for wf in client.list_workflows(query, limit=limit):
            attrs = wf.typed_search_attributes
            nxt = attrs.get(sa.NEXT_DEADLINE)
            running_now = wf.status is WorkflowExecutionStatus.RUNNING
            out.append(
                CaseSummary(
                    case_id=wf.id,
                    procedure=attrs.get(sa.PROCEDURE) or "",
                    status=attrs.get(sa.STATUS) or "started",
                    running=running_now,
                    overdue=bool(attrs.get(sa.OVERDUE)) and running_now,
                    next_deadline=nxt if running_now else None,
                    working_days_left=working_days_left(nxt, now) if nxt and running_now else None,
                    started_at=wf.start_time,
                )
            )
    except TEMPORAL_ERRORS as exc:
        raise problem_from_temporal(exc) from None
    far = datetime.max.replace(tzinfo=UTC)
    out.sort(key=lambda c: (not c.overdue, not c.running, c.next_deadline or far, c.case_id))
    return out


async def _refusal_in(client: Client, name: str, success: Payloads) -> str:
    """Why the case refused an Update that completed (``infra.cases.REFUSING_RESULTS``), else ``""``."""
    model = REFUSING_RESULTS.get(name)
    if model is None or not success.payloads:
        return ""
    [result] = await client.data_converter.decode(success.payloads, [model])
    return str(result.refused)


async def _failure_said(client: Client, failure: Failure) -> str:
    """Why the case's handler failed an Update, as the failure says it: its message, which the data converter moves
    into the failure's encoded attributes (the raw event reads "Encoded failure"), decoded; a ``Sentence`` when the
    failure carries the one it says (``workflows.refusals``), for a page to say it in its language."""
    exc = await client.data_converter.decode_failure(failure)
    message = str(getattr(exc, "message", "") or exc)
    if isinstance(exc, ApplicationError) and exc.details:
        said = Sentence.from_data(exc.details[0])
        if said is not None and said == message:
            return said
    return message


def _sent_by(update_id: str, known: dict[str, str]) -> str:
    """Who sent an event, from its Update id (``infra.cases.sent_as``): the key's holder, or its id alone for a key
    this installation no longer knows; "" for an event sent without one (the command line, cases of before)."""
    key_id = cases.sender_of(update_id)
    if key_id is None:
        return ""
    if key_id not in known:
        known[key_id] = key_holder(key_id) or f"(key {key_id})"
    return known[key_id]


async def timeline(client: Client, case_id: str, view: CaseView) -> list[TimelineEntry]:
    """The case from its history (events, decisions, activities, timers) and its recorded deadlines (the history of
    the view's run)."""
    entries: list[TimelineEntry] = []
    handle = client.get_workflow_handle(case_id, run_id=view.run_id)
    updates: dict[str, str] = {}
    senders: dict[str, str] = {}
    try:
        async for ev in handle.fetch_history_events():
            at = ev.event_time.ToDatetime(tzinfo=UTC)
            t = ev.event_type
            if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                entries.append(TimelineEntry(at=at, kind="started", name=view.procedure))
            elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                a = ev.workflow_execution_update_accepted_event_attributes
                updates[a.protocol_instance_id] = a.accepted_request.input.name
                sender = _sent_by(a.accepted_request.meta.update_id, senders)
                entries.append(TimelineEntry(at=at, kind="event", name=a.accepted_request.input.name, sent_by=sender))
            elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                c = ev.workflow_execution_update_completed_event_attributes
                name = updates.get(c.meta.update_id, "")
                failed = c.outcome.HasField("failure")
                why = (
                    await _failure_said(client, c.outcome.failure)
                    if failed
                    else await _refusal_in(client, name, c.outcome.success)
                )
                entries.append(
                    TimelineEntry(
                        at=at,
                        kind="event_failed" if why else "event_done",
                        name=name,
                        detail=why,
                        detail_said=why.data() if isinstance(why, Sentence) else None,
                    )
                )
            elif t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                name = ev.activity_task_scheduled_event_attributes.activity_type.name
                entries.append(TimelineEntry(at=at, kind="activity", name=name))
            elif t == EventType.EVENT_TYPE_TIMER_FIRED:
                entries.append(TimelineEntry(at=at, kind="timer", name="timer fired"))
            elif t == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
                entries.append(TimelineEntry(at=at, kind="signal", name="signal"))
            elif t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                entries.append(
                    TimelineEntry(at=at, kind="event", name=ev.workflow_execution_signaled_event_attributes.signal_name)
                )
            elif t in _CLOSED:
                entries.append(TimelineEntry(at=at, kind="closed", name=view.outcome or view.status))
    except TEMPORAL_ERRORS as exc:
        raise problem_from_temporal(exc) from None
    for st in view.deadlines:
        d = st.deadline
        entries.append(
            TimelineEntry(
                at=d.start,
                kind="deadline_opened",
                name=st.key,
                cite=d.cite,
                detail=f"{d.text}; due {almaty_text(d.due)}",
            )
        )
        if st.breached_at:
            entries.append(
                TimelineEntry(
                    at=st.breached_at,
                    kind="breach",
                    name=st.key,
                    cite=d.cite,
                    detail="escalated to the supervisor" if st.escalated else "",
                )
            )
        if st.met_at:
            entries.append(
                TimelineEntry(
                    at=st.met_at,
                    kind="deadline_met",
                    name=st.key,
                    cite=d.cite,
                    detail="late" if st.status is DeadlineStatus.BREACHED else "in time",
                )
            )
        for ch in st.changes:
            entries.append(
                TimelineEntry(
                    at=ch.at,
                    kind="deadline_moved",
                    name=st.key,
                    cite=d.cite,
                    detail=f"{ch.reason}: {almaty_text(ch.old_due)} → {almaty_text(ch.new_due)}",
                )
            )
    for doc in view.documents:
        entries.append(TimelineEntry(at=doc.created_at, kind="document", name=doc.title, cite=doc.cite))
    entries.sort(key=lambda e: e.at)
    return entries
