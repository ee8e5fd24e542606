"""The one way to start a case, send it an event and read it, for the API, the console, the command line,
the demo and the benchmarks. Everything a procedure needs here comes from its ``ProcedureSpec``.

Errors that are about the case (no such case, an event that does not fit now, an input refused at the
edge) are ``CaseError``; Temporal's own errors (an Update's validator refusing, RPC errors) pass through
for the caller to present.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col, select
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from infra import case_index
from infra.calendar import current_calendar
from infra.db import refusal, session
from infra.pseudonym import pseudonym
from infra.settings import settings
from models import search_attributes as sa
from models.case import BEGUN_CASE_MEMO, INTAKE_MEMO, ActNotBefore, CaseView, IntakeRecord, LawMigrationRecord
from models.deadlines import CorrectionResult, deadline_records
from models.procedure import ALWAYS_OPEN_EVENTS, Caller, EventSpec, ProcedureSpec, Role
from models.tables import StartLedger
from rules import law
from rules.calendar import almaty_text
from rules.text import HIDDEN_CHARACTERS, Sentence

__all__ = [
    "REFUSING_RESULTS",
    "REQUEST_MEMO",
    "CaseError",
    "CaseStart",
    "CaseWork",
    "EventResult",
    "PendingCall",
    "StartAnswer",
    "case_view",
    "case_work",
    "check_intake",
    "ledger_entries",
    "message_id",
    "pending_calls",
    "refused",
    "remember_message",
    "resolve_references",
    "send_event",
    "sender_of",
    "sent_as",
    "start_case",
    "taken_messages",
    "update_outcome",
    "wait_until_settled",
    "workflow_type_name",
]

REQUEST_MEMO = "request"
"""The start's memo field naming the request that opened the case (an opaque token of its idempotency key)."""

# Update-with-start may meet a case that is closing or continuing as new, a server that is restarting, or too many
# Updates in flight on one case (a burst of reports about one number; the server admits 10 by default): these are
# retried with back-off, jittered so that a burst refused together does not come back together.
_RETRYABLE = frozenset(
    {RPCStatusCode.NOT_FOUND, RPCStatusCode.UNAVAILABLE, RPCStatusCode.ABORTED, RPCStatusCode.RESOURCE_EXHAUSTED}
)
_START_PATIENCE = 90.0
"""Seconds a start keeps retrying such refusals before it gives the error to its caller: long enough for a burst of
a hundred reports about one number to pass the server's in-flight limit one by one on a busy host."""
_FIRST_BACKOFF = 0.1
_MAX_BACKOFF = 5.0
_CLOCK_SKEW = timedelta(minutes=1)
"""How far this host's clock may be behind the server's when a run's close time is compared with it."""
_PER_CASE_IN_FLIGHT = 4
"""Starts one process sends to one case at a time (the server admits 10 Updates in flight per case by default): the
rest of a burst waits here in turn, not refused by the server and backing off while the case has room again."""


class _Gate:
    def __init__(self) -> None:
        self.slots = asyncio.Semaphore(_PER_CASE_IN_FLIGHT)
        self.users = 0


_GATES: dict[tuple[int, str], _Gate] = {}


@asynccontextmanager
async def _case_gate(case_id: str) -> AsyncIterator[None]:
    """Hold one of the process's ``_PER_CASE_IN_FLIGHT`` slots of ``case_id`` (per event loop; forgotten when idle)."""
    key = (id(asyncio.get_running_loop()), case_id)
    gate = _GATES.setdefault(key, _Gate())
    gate.users += 1
    try:
        async with gate.slots:
            yield
    finally:
        gate.users -= 1
        if not gate.users:
            del _GATES[key]


log = logging.getLogger(__name__)
RETRYING = "%s to %s refused (%s): attempt %d, again in %.2f s"
"""The log line of a start the server refused for now (the case id is a keyed pseudonym, never a number)."""
# A workflow without the ``case`` query (Python SDK's and Go's wording): it is not a case of ours.
_NO_CASE_QUERY = re.compile(r"Query handler for 'case' expected but not found|unknown queryType", re.IGNORECASE)


class StartAnswer(StrEnum):
    """What a start did."""

    OPENED = "opened"
    """A new case (or, where the start policy allows, a new run of a closed one)."""
    JOINED = "joined"
    """The start's Update was recorded in the running case (e.g. a further report about a number)."""
    EXISTING = "existing"
    """The same application has a running case: that case is the answer."""
    CLOSED = "closed"
    """The same application's case is closed and is never started again."""
    DUPLICATE = "duplicate"
    """The case holds this message already (same sender's reference)."""


class CaseError(ValueError):
    """A refusal about the case: ``not_found``, ``conflict`` (not possible now), ``refused`` (the input) or
    ``forbidden`` (the caller may not send what the start carries).
    ``not_before``: for an event not possible yet, the instant from which the law allows it, where the case knows it.
    ``retry_after``: seconds after which the same request may well be taken (a case taking its step now)."""

    def __init__(
        self, kind: str, message: str, not_before: datetime | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.not_before = not_before
        self.retry_after = retry_after


class CaseStart(BaseModel):
    """The answer to a start."""

    case_id: str
    procedure: str
    answer: StartAnswer
    run_id: str | None = None
    result: Any = None
    """The start's Update's result, for a procedure that starts with an Update."""
    update_id: str | None = None
    """The Update the start carried, when the case took it (its outcome is ``result``)."""

    @property
    def created(self) -> bool:
        return self.answer is StartAnswer.OPENED


class EventResult(BaseModel):
    """An event the case accepted, with the Update's result."""

    case_id: str
    event: str
    result: Any = None
    run_id: str | None = Field(default=None, exclude=True)
    """The case's run that took the Update (not part of the answer)."""


def workflow_type_name(spec: ProcedureSpec) -> str:
    """The workflow type of ``spec`` as Temporal names it."""
    definition = getattr(spec.workflow, "__temporal_workflow_definition", None)
    return str(getattr(definition, "name", spec.workflow.__name__))


def _search_attributes(spec: ProcedureSpec) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [SearchAttributePair(sa.PROCEDURE, spec.key), SearchAttributePair(sa.STATUS, "received")]
    )


def starter_parties(spec: ProcedureSpec, caller: Caller | None) -> dict[str, list[str]]:
    """The starting operator system's organisation as a party of the case, per operator role it starts it in."""
    if caller is None or not caller.bin or not caller.acts_as_operator(spec.start_roles):
        return {}
    return {role: [caller.bin] for role in sorted(caller.roles & spec.start_roles) if Role.is_operator(role)}


def intake_record(spec: ProcedureSpec, inp: BaseModel, actor: str, caller: Caller | None = None) -> IntakeRecord:
    """Who starts the case (the key and its organisation, as a party of the case), and how many working days its
    receipt lies back (14 item 14)."""
    who = IntakeRecord(
        started_by=actor,
        key_id=caller.key_id if caller else None,
        bin=caller.bin if caller else None,
        parties=starter_parties(spec, caller),
    )
    if spec.governs is None:
        return who
    received_at = spec.governs(inp).received_at
    cal = current_calendar()
    today = cal.to_local(datetime.now(UTC)).date()
    back = cal.working_days_between(cal.to_local(received_at).date(), today)
    return who.model_copy(update={"received_at": received_at, "backdated_working_days": max(back, 0)})


def _memo(intake: IntakeRecord) -> dict[str, Any]:
    return {INTAKE_MEMO: intake.model_dump(mode="json")}


def refused(template: str, /, **values: str) -> CaseError:
    """A start's or an event's input refused at the edge, with a sentence the console says in its language."""
    return CaseError("refused", Sentence("refused: {reason}", reason=Sentence(template, **values)))


REFERENCES = {"appealed_application_number": "appealed_case_id"}
"""Fields of an input that name a case by its application's number (what a person knows: the number the portal
gave), and the case-id field the start fills from the search index (``infra.case_index``): case ids are keyed
hashes, different on every installation."""


def resolve_references(inp: BaseModel) -> BaseModel:
    """``inp`` with each case named by its application number (``REFERENCES``) resolved to its case id through the
    search index; both stay in the input, so the case records what was named and what it meant. Refused
    (``CaseError("refused")``) when no case or several have that number, or when the case id given as well is
    another case; the refusal never quotes the number (a caller may have put an IIN or a phone number there)."""
    update: dict[str, str] = {}
    for number_field, id_field in REFERENCES.items():
        number = getattr(inp, number_field, None)
        if not isinstance(number, str):
            continue
        found = sorted(case_index.find(number, personal=False))
        given = getattr(inp, id_field, None)
        if not found:
            raise refused("{field}: no case with this application number is known here", field=number_field)
        if given is not None:
            if given not in found:
                raise refused("{field} and {other} name different cases", field=id_field, other=number_field)
            continue
        if len(found) > 1:
            raise refused(
                "{field}: {n} cases have this application number; name the case by {other}: {cases}",
                field=number_field,
                n=str(len(found)),
                other=id_field,
                cases=", ".join(found),
            )
        update[id_field] = found[0]
    return inp.model_copy(update=update) if update else inp


CASE_ID_FIELDS: dict[str, str | None] = {
    **dict.fromkeys(REFERENCES.values()),
    "about_complaint_id": None,  # the complaint's own edge says what it names instead
    "contract_case_id": "contract_eds_signing",
    "refers_to_case_id": "individual_numbers",
}
"""Fields of an input that name another case by its id, and the procedure that case must be of (``None``: any): the
case must exist (``_check_referenced_cases``). A numbers application naming a signing case that does not exist (a
mistyped id) was refused to the citizen, the refusal delivered, as if they had signed no contract (an adversarial
run of 2026-12-04)."""


async def _check_referenced_cases(client: Client, inp: BaseModel) -> None:
    """Refuse an input naming by its id (``CASE_ID_FIELDS``) a case that does not exist: a complaint about no case
    would be forwarded with no administrative case, its term recorded as met."""
    for id_field, procedure in CASE_ID_FIELDS.items():
        case_id = getattr(inp, id_field, None)
        if not isinstance(case_id, str):
            continue
        try:
            desc = await client.get_workflow_handle(case_id).describe()
        except RPCError as exc:
            if exc.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                raise
            raise refused("{field}: no such case is known here", field=id_field) from None
        if procedure is not None and desc.typed_search_attributes.get(sa.PROCEDURE) != procedure:
            raise refused("{field}: names a case that is not a {procedure} case", field=id_field, procedure=procedure)


def check_text(inp: BaseModel) -> None:
    """``CaseError("refused")`` when a text of ``inp`` (a start's input or an event's payload, at the edge) holds a
    character of ``rules.text.HIDDEN_CHARACTERS``: named by its field and code point, the text never echoed.
    Recorded histories are not read with this check: it is the edge's, not the models'."""
    for path, text in _texts(inp.model_dump(mode="python")):
        if found := HIDDEN_CHARACTERS.search(text):
            raise refused(
                "{field}: holds the invisible character U+{code} (a control or a direction override): remove it",
                field=path,
                code=f"{ord(found.group()):04X}",
            )


def _texts(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _texts(v, f"{path}[{i}]")


def refuse_future_receipt(received_at: datetime) -> None:
    """``ValueError`` for a receipt later than the edge's clock allows (``KZ_FUTURE_TOLERANCE_SECONDS``)."""
    if received_at > datetime.now(UTC) + timedelta(seconds=settings().future_tolerance_seconds):
        raise ValueError(Sentence("received_at is in the future: a receipt is dated when it happened"))


def check_intake(spec: ProcedureSpec, inp: BaseModel) -> None:
    """``CaseError("refused")`` when the law of the governing day does not have the paragraphs the start
    executes (the act not yet in force or abolished, a paragraph not yet added or repealed), or the spec's own
    intake check refuses ``inp``; a receipt in the future is refused too. Checked before any call to Temporal."""
    try:
        if spec.governs is not None:
            g = spec.governs(inp)
            refuse_future_receipt(g.received_at)
            day = law.governing_day(g.act, g.received_at, current_calendar())
            law.governing_version(g.act, day)
            for pid in g.paragraphs:
                law.paragraph(g.act, pid, on=day)
        if spec.intake_check is not None:
            spec.intake_check(inp)
    except OverflowError:  # a receipt of the year 1 moved to UTC or to Almaty (a 500 in an adversarial run)
        raise refused(
            "received_at is outside the dates the calendar counts: a receipt is dated when it happened"
        ) from None
    except (ValueError, LookupError) as exc:
        said = exc.args[0] if exc.args and isinstance(exc.args[0], Sentence) else str(exc).strip(chr(39))
        raise CaseError("refused", Sentence("refused: {reason}", reason=said)) from None


async def start_case(
    client: Client,
    spec: ProcedureSpec,
    inp: BaseModel,
    *,
    task_queue: str | None = None,
    source: str = "",
    actor: str = "",
    caller: Caller | None = None,
    request: str | None = None,
    retry: bool = False,
) -> CaseStart:
    """Start the case of ``inp`` under ``spec``'s deterministic id, honouring its start policy.

    Refuses (``CaseError("refused")``) an input the spec's intake check refuses, one whose texts hold an invisible
    character (``check_text``), or one that names by its id a case that does not exist; no case is started then.
    ``source`` says where a message that starts with an Update came from (kept in the start ledger); ``actor``
    who starts it: recorded in the start's memo with how far back the receipt lies (a receipt older than one
    working day is taken as given, and the case records that it was back-dated and by whom). ``caller`` (an API
    key) is recorded too, and an operator system's key becomes a party of the case it opens; a start that meets
    a case of which the caller's organisation is not a party is refused (``CaseError("conflict")``, without the
    case's id).

    ``request`` names the request (a token of a caller's idempotency key), so that its retry, after any crash, is
    answered as the first attempt was: the case it opened answers ``opened`` again (the token is in the start's
    memo), the Update a start carried answers with its first outcome. ``retry`` says an attempt of this request
    went before: the case is asked first, so that a retry never opens a second run.

    Whatever the answer, the case is written to the console's search index (``infra.case_index``: keyed hashes
    of the input's identifiers, phones and names, its application number, the caller's key).
    """
    check_text(inp)
    inp = resolve_references(inp)
    await _check_referenced_cases(client, inp)
    if spec.start_at_the_edge is not None:
        inp = await spec.start_at_the_edge(client, inp)
    check_intake(spec, inp)
    started = await _start(client, spec, inp, task_queue, source, actor, caller, request, retry)
    _index(spec, started, inp, caller)
    return started


def _index(spec: ProcedureSpec, started: CaseStart, inp: BaseModel, caller: Caller | None) -> None:
    """Write the case to the console's search index (``infra.case_index``). A failure there does not undo the
    start: it is logged (case id and error class only), and the case is found by its id meanwhile; starting the
    same input again writes it."""
    try:
        case_index.record_start(spec.key, started.case_id, inp, caller.key_id if caller else None)
    except SQLAlchemyError as exc:
        log.warning("case %s not written to the search index: %s", started.case_id, refusal(exc))


async def _start(
    client: Client,
    spec: ProcedureSpec,
    inp: BaseModel,
    task_queue: str | None,
    source: str,
    actor: str,
    caller: Caller | None,
    request: str | None,
    retry: bool,
) -> CaseStart:
    memo = _memo(intake_record(spec, inp, actor or source or "unknown", caller))
    queue = task_queue or settings().task_queue
    if spec.start.with_update is not None:
        _check_may_send_the_start(spec, inp, caller)
        await _check_existing_party(client, spec, spec.case_id(inp), caller, running_only=True)
        return await _start_with_update(client, spec, inp, queue, source, memo, retry=retry)
    case_id = spec.case_id(inp)
    if request is not None:
        memo[REQUEST_MEMO] = request
        if retry and (opened := await _opened_by(client, spec, case_id, request)) is not None:
            return opened
    try:
        handle = await client.start_workflow(
            spec.run,
            inp,
            id=case_id,
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=spec.start.id_reuse,
            search_attributes=_search_attributes(spec),
            memo=memo,
        )
        return CaseStart(case_id=case_id, procedure=spec.key, answer=StartAnswer.OPENED, run_id=handle.result_run_id)
    except WorkflowAlreadyStartedError as exc:
        if request is not None and (opened := await _opened_by(client, spec, case_id, request)) is not None:
            return opened  # a twin of this request opened it a moment ago
        await _check_existing_party(client, spec, case_id, caller)
        desc = await client.get_workflow_handle(case_id).describe()
        if desc.status is not WorkflowExecutionStatus.RUNNING:
            return CaseStart(case_id=case_id, procedure=spec.key, answer=StartAnswer.CLOSED, run_id=desc.run_id)
        if spec.start.id_conflict is WorkflowIDConflictPolicy.FAIL:
            raise CaseError("conflict", f"a case {case_id} for this input is running already") from exc
        return CaseStart(case_id=case_id, procedure=spec.key, answer=StartAnswer.EXISTING, run_id=desc.run_id)


def _check_may_send_the_start(spec: ProcedureSpec, inp: BaseModel, caller: Caller | None) -> None:
    """Refuse a start whose Update the caller may not send as an event (a fraud case's way in: the centre's key
    sends centre information, not an operator's detection, which would have the case send it a subscriber's data)."""
    assert spec.start.with_update is not None
    event = spec.event(spec.start.with_update(inp)[0])
    if caller is not None and not caller.may(event.roles):
        raise CaseError("forbidden", Sentence("this key may not send {event}", event=event.name))


REFERENCE_TAKEN = Sentence(
    "this reference was taken in for a message about another case: a reference names one message, give this one its own"
)
"""The refusal of a message whose reference the start ledger holds for another case (no id: it is another number's
case). It was answered ``duplicate`` with that case, and the message was lost (the third adversarial run of
2026-12-03)."""

TAKEN_BY_ANOTHER = Sentence("a case for this input exists already")
"""The refusal of a start whose case is not the calling operator system's (no id, no status)."""


async def _check_existing_party(
    client: Client, spec: ProcedureSpec, case_id: str, caller: Caller | None, *, running_only: bool = False
) -> None:
    """Refuse a start by an operator system that meets an existing case of which its organisation is no party."""
    if caller is None or caller.is_party({}, spec.start_roles, spec.designated):
        return  # the back office, or a designated body: no need to ask the case
    try:
        desc = await client.get_workflow_handle(case_id).describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return
        raise
    if running_only and desc.status is not WorkflowExecutionStatus.RUNNING:
        return
    try:
        view = await case_view(client, case_id)
    except CaseError:
        raise CaseError("conflict", TAKEN_BY_ANOTHER) from None
    if not caller.is_party(view.parties, spec.start_roles, spec.designated):
        raise CaseError("conflict", TAKEN_BY_ANOTHER)


async def _opened_by(client: Client, spec: ProcedureSpec, case_id: str, request: str) -> CaseStart | None:
    """The case ``request`` opened (its start's memo names it), or None."""
    try:
        desc = await client.get_workflow_handle(case_id).describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    if (await desc.memo()).get(REQUEST_MEMO) != request:
        return None
    return CaseStart(case_id=case_id, procedure=spec.key, answer=StartAnswer.OPENED, run_id=desc.run_id)


def message_id(ref: str, kind: str) -> str:
    """The Update id, and the start ledger's key, of the message of ``kind`` (the Update that carries it: a fraud
    report's way in, one kind of sender) whose sender's reference is ``ref``: a keyed hash (``infra.pseudonym``).
    Temporal keeps an Update id in clear, and a sender's reference may hold what its sender wrote in it, a number or
    an IIN (an adversarial run, 2026-12-04); the same message sent again is still taken once. A reference is its
    sender's own: the same text from another kind of sender is another message (the reference service's ref had
    swallowed the centre's report of the same ref, an adversarial run of 2026-12-04)."""
    return f"msg-{pseudonym('message', kind + chr(10) + ref)}"


def _message_id_of_any_kind(ref: str) -> str:
    """The key a message had in the ledger before ids were its kind's (``message_id``)."""
    return f"msg-{pseudonym('message', ref)}"


def ledger_entries(procedure: str, message_ids: list[str]) -> dict[str, tuple[str, str]]:
    """The case each of ``message_ids`` started or joined, and the Update that carried it, for those the ledger
    holds."""
    with session() as s:
        rows = s.exec(
            select(StartLedger).where(StartLedger.procedure == procedure, col(StartLedger.message_id).in_(message_ids))
        )
        return {row.message_id: (row.case_id, row.event) for row in rows}


def taken_messages(procedure: str, kind: str, refs: list[str]) -> dict[str, str]:
    """The case each message of ``kind`` of ``refs`` (senders' references) started or joined, for those the ledger
    holds: under its id, or, taken before ids were keyed or before they were their kind's, under the reference or
    its keyed hash with the same Update recorded."""
    ids = {r: message_id(r, kind) for r in refs}
    older = {r: _message_id_of_any_kind(r) for r in refs}
    found = ledger_entries(procedure, [*ids.values(), *older.values(), *refs])

    def case_of(ref: str) -> str | None:
        if entry := found.get(ids[ref]):
            return entry[0]
        entry = found.get(older[ref]) or found.get(ref)
        return entry[0] if entry is not None and entry[1] == kind else None

    return {r: case for r in refs if (case := case_of(r))}


def remember_message(procedure: str, event: str, ref: str, case_id: str, answer: str, source: str) -> None:
    """Record in the start ledger that the message ``ref`` was taken in by ``case_id`` through the events route
    (the start route records its own): the same ref about another number is then refused there too."""
    _remember(procedure, event, message_id(ref, event), case_id, StartAnswer(answer), source)


def _remember(procedure: str, event: str, message_id: str, case_id: str, answer: StartAnswer, source: str) -> None:
    # a concurrent start of the same message may have recorded it first
    with suppress(IntegrityError), session() as s:
        if s.get(StartLedger, (procedure, message_id)) is None:
            s.add(
                StartLedger(
                    procedure=procedure,
                    message_id=message_id,
                    event=event,
                    case_id=case_id,
                    answer=answer.value,
                    source=source,
                )
            )


async def _start_with_update(
    client: Client,
    spec: ProcedureSpec,
    inp: BaseModel,
    queue: str,
    source: str,
    memo: dict[str, Any],
    *,
    retry: bool = False,
) -> CaseStart:
    """Update-with-start: the Update joins the running case, or opens one (a new run after a closed one).

    The Update id is the message's own reference, so Temporal records a retried message once in a run; the
    start ledger answers ``duplicate`` for a message already taken, even after its case closed. A ``retry`` of
    a request whose message the case took is answered with the Update's first outcome instead.
    """
    assert spec.start.with_update is not None
    update, arg, ref = spec.start.with_update(inp)
    update_id = message_id(ref, update)
    result_type = spec.event(update).result_model
    case_id = spec.case_id(inp)
    if retry:
        taken, result = await update_outcome(client, case_id, update_id, result_type=result_type)
        if taken:
            answer = StartAnswer(getattr(result, "answer", StartAnswer.JOINED))
            desc = await client.get_workflow_handle(case_id).describe()
            return CaseStart(
                case_id=case_id,
                procedure=spec.key,
                answer=answer,
                run_id=desc.run_id,
                result=result,
                update_id=update_id,
            )
    if known := taken_messages(spec.key, update, [ref]).get(ref):
        if known != case_id:  # the same reference about another number: answered "duplicate", the report was lost
            raise CaseError("conflict", REFERENCE_TAKEN)
        return CaseStart(case_id=known, procedure=spec.key, answer=StartAnswer.DUPLICATE)
    began = datetime.now(UTC) - _CLOCK_SKEW
    async with _case_gate(case_id):  # a burst to one case queues here before the server's in-flight limit
        give_up_at = time.monotonic() + _START_PATIENCE
        for attempt in itertools.count():
            op = WithStartWorkflowOperation(
                spec.run,
                inp,
                id=case_id,
                task_queue=queue,
                id_conflict_policy=spec.start.id_conflict,
                id_reuse_policy=spec.start.id_reuse,
                search_attributes=_search_attributes(spec),
                memo=memo,
            )
            try:
                result = await client.execute_update_with_start_workflow(
                    update, arg, start_workflow_operation=op, id=update_id, result_type=result_type
                )
                break
            except RPCError as exc:
                _forget_failed_start(op)
                delay = min(_FIRST_BACKOFF * 2**attempt, _MAX_BACKOFF) * random.uniform(0.5, 1.0)
                if exc.status not in _RETRYABLE or time.monotonic() + delay > give_up_at:
                    raise
                log.info(RETRYING, update, case_id, exc.status.name, attempt + 1, delay)
                await asyncio.sleep(delay)
    handle = await op.workflow_handle()
    run_id = handle.result_run_id
    answer = StartAnswer(getattr(result, "answer", StartAnswer.JOINED))
    if (
        answer is StartAnswer.DUPLICATE
        and run_id
        and (first := await _first_outcome(client, case_id, update_id, run_id, since=began, result_type=result_type))
    ):
        run_id, result = first
        answer = StartAnswer(getattr(result, "answer", StartAnswer.JOINED))
    _remember(spec.key, update, update_id, case_id, answer, source)
    return CaseStart(
        case_id=case_id,
        procedure=spec.key,
        answer=answer,
        run_id=run_id,
        result=result,
        update_id=update_id,
    )


async def _first_outcome(
    client: Client, case_id: str, update_id: str, run_id: str, *, since: datetime, result_type: type | None
) -> tuple[str, Any] | None:
    """The run and result of the first taking of Update ``update_id`` in the runs before ``run_id`` that were
    still open at ``since``, where that taking was not itself a duplicate; None when there is none.

    The SDK sends an update-with-start again while the server reports it short of accepted; when the case took the
    first sending and then continued as new, the second lands in a run that does not know the Update id, and the
    case answers ``duplicate`` to a message it was sent once. The first run's outcome is the message's answer."""
    first: tuple[str, Any] | None = None
    current = run_id
    while (previous := await _continued_from(client, case_id, current)) is not None:
        desc = await client.get_workflow_handle(case_id, run_id=previous).describe()
        if desc.close_time is not None and desc.close_time < since:
            break  # closed before the message was sent: neither it nor an earlier run took it
        taken, result = await _outcome_in_closed_run(client, case_id, update_id, previous, result_type)
        if taken and getattr(result, "answer", None) != StartAnswer.DUPLICATE:
            first = previous, result
        current = previous
    return first


async def _outcome_in_closed_run(
    client: Client, case_id: str, update_id: str, run_id: str, result_type: type | None
) -> tuple[bool, Any]:
    """``update_outcome`` in a run that continued as new; a run still closing refuses to be asked ("workflow is
    closing") for a moment: asked again a few times, then taken as not knowing (the answer stays the case's own)."""
    for attempt in range(5):
        try:
            return await update_outcome(client, case_id, update_id, run_id=run_id, result_type=result_type)
        except WorkflowUpdateFailedError:
            return False, None  # taken and failed: not an answer to give
        except RPCError as exc:
            if exc.status not in _RETRYABLE:
                raise
            await asyncio.sleep(_FIRST_BACKOFF * 2**attempt)
    return False, None


async def _continued_from(client: Client, case_id: str, run_id: str) -> str | None:
    """The run that run ``run_id`` of the case continued, if it continued one (its first event names it)."""
    async for event in client.get_workflow_handle(case_id, run_id=run_id).fetch_history_events(page_size=1):
        return event.workflow_execution_started_event_attributes.continued_execution_run_id or None
    return None


async def update_outcome(
    client: Client, case_id: str, update_id: str, *, run_id: str | None = None, result_type: type | None = None
) -> tuple[bool, Any]:
    """Whether the case (its run ``run_id``, else its latest) took the Update ``update_id``, and its result.

    Temporal keeps every Update a run accepted, with its outcome, also after the run closed; one in flight is
    waited for. ``WorkflowUpdateFailedError`` when the Update was taken and failed."""
    handle = client.get_workflow_handle(case_id).get_update_handle(
        update_id, workflow_run_id=run_id, result_type=result_type
    )
    try:
        return True, await handle.result()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:  # no such Update (or no such case)
            return False, None
        raise


def _ended_by_temporal(view: CaseView, status: WorkflowExecutionStatus | None) -> CaseView:
    """A case Temporal ended, not its own code (terminated, cancelled, failed, timed out): closed and taking nothing,
    its outcome how it ended. Its own view, read by replaying its history, still says the step it was at, and the
    API and the command line offered that step's events to a case that takes none."""
    if view.closed or status in (None, WorkflowExecutionStatus.RUNNING, WorkflowExecutionStatus.CONTINUED_AS_NEW):
        return view
    return view.model_copy(update={"closed": True, "pending_events": [], "outcome": status.name.lower()})


def _with_intake(view: CaseView, intake: IntakeRecord | None) -> CaseView:
    """The view with who started the case, and the starter among the case's parties."""
    if intake is None:
        return view
    parties = {role: list(tokens) for role, tokens in view.parties.items()}
    for role, tokens in intake.parties.items():
        parties[role] = sorted({*parties.get(role, ()), *tokens})
    return view.model_copy(update={"intake": intake, "parties": parties})


def _forget_failed_start(op: WithStartWorkflowOperation[Any, Any]) -> None:
    """The attempt's start operation holds its failure; read it, so asyncio does not report it as never retrieved."""
    handle = getattr(op, "_workflow_handle", None)
    if isinstance(handle, asyncio.Future) and handle.done() and not handle.cancelled():
        handle.exception()


async def case_view(client: Client, case_id: str, run_id: str | None = None) -> CaseView:
    """The case's own view (the ``case`` query every case answers) with who started it and whether its receipt
    was back-dated (from the start's memo), its parties (the workflow's and the starter) and its run;
    ``CaseError("not_found")`` otherwise. ``run_id`` names an earlier case of an id that names several (a fraud
    case closed and opened again, a check and the next); by default the id's latest run."""
    try:
        handle = client.get_workflow_handle(case_id, run_id=run_id)
        view = await handle.query("case", result_type=CaseView)
        desc = await handle.describe()
        try:
            memo = await desc.memo()
        except ApplicationError:  # a memo written in clear (not by us): the strict converter refuses it
            memo = {}
        intake = memo.get(INTAKE_MEMO)
        view = _with_intake(
            _ended_by_temporal(view, desc.status), IntakeRecord.model_validate(intake) if intake else None
        )
        begun = memo.get(BEGUN_CASE_MEMO)
        after = begun.get("after_run") if isinstance(begun, dict) else None
        return view.model_copy(update={"run_id": desc.run_id, "first_run_id": chain_of(desc), "begun_after_run": after})
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):  # no such case, or run of it
            raise CaseError("not_found", "no such case") from None
        raise
    except WorkflowQueryFailedError as exc:
        if _NO_CASE_QUERY.search(str(exc)):  # a workflow that is not a case
            raise CaseError("not_found", "no such case") from None
        raise  # the case's worker failed to answer: not the case's fault, nor the caller's


class RegisteredCase(BaseModel):
    """What visibility says of a case another case's start names: its procedure, and the act and receipt of its
    registration (its ``case`` memo; ``None`` before it is registered)."""

    procedure: str
    act_key: str | None = None
    received_at: datetime | None = None
    first_act_at: datetime | None = None
    """When the case first acted: the earliest of its terms met (a decision or an action the term asked for) and
    its close; ``None`` while it has done neither (a case that has decided nothing yet)."""

    @property
    def received(self) -> str:
        """The receipt as a person reads it (Asia/Almaty, to the minute)."""
        return almaty_text(self.received_at) if self.received_at is not None else "not registered yet"

    @property
    def first_act(self) -> str:
        """When the case first acted, as a person reads it."""
        return almaty_text(self.first_act_at) if self.first_act_at is not None else "not yet"


def _first_act(memo: Mapping[str, Any], closed_at: datetime | None) -> datetime | None:
    """The earliest instant a term of the memo was met, or the case closed."""
    instants = [closed_at] if closed_at is not None else []
    for record in deadline_records(memo):
        with suppress(TypeError, ValueError):
            if isinstance(met := record.get("met_at"), str):
                at = datetime.fromisoformat(met)
                instants.append(at if at.tzinfo else at.replace(tzinfo=UTC))
    return min(instants, default=None)


def chain_of(desc: WorkflowExecutionDescription) -> str | None:
    """The first run of the described run's chain (the case across its continuations as new); ``None`` where the
    server does not say."""
    return desc.raw_description.workflow_execution_info.first_run_id or None


async def registered_case(client: Client, case_id: str, run_id: str | None = None) -> RegisteredCase:
    """The case ``case_id`` (its run ``run_id``, by default the latest) as visibility knows it, no worker asked (a
    start must not wait on another case's worker); ``CaseError("not_found")`` when there is no such case."""
    try:
        desc = await client.get_workflow_handle(case_id, run_id=run_id).describe()
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise CaseError("not_found", "no such case") from None
        raise
    procedure = desc.typed_search_attributes.get(sa.PROCEDURE) or desc.workflow_type
    try:
        memo = await desc.memo()
    except ApplicationError:  # a memo written in clear (not by us)
        memo = {}
    reg = memo.get("case") or {}
    closed = desc.close_time if desc.status is not WorkflowExecutionStatus.RUNNING else None
    return RegisteredCase(
        procedure=procedure,
        act_key=reg.get("act_key"),
        received_at=reg.get("received_at"),
        first_act_at=_first_act(memo, closed) if reg else None,
    )


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
    """Send ``event`` to a case of ``spec``: the edge conversion, then the Update (its validator decides).

    ``CaseError`` when the case is not one of ``spec``'s, is closed, or does not take ``event`` now. An operator
    system (``caller``) whose organisation is not a party of the case in the event's role gets the very refusal of
    a missing case, before anything else about the case is said; refusals about the case's state name no status
    and no pending event to operator systems, and the event's ``sender_bin`` field carries the caller's BIN.

    With an ``update_id`` (a caller's idempotency key) a retried event is answered with its first outcome whatever
    happened since: the same Update id is de-duplicated by Temporal while the case runs, and when the checks
    before the Update refuse (the event took the case on, or closed it), the case is asked whether it took
    this Update; only when it did not is the refusal the answer.
    """
    missing = CaseError("not_found", f"no such {spec.key} case")
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(case_id)
    try:
        desc = await handle.describe()
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise missing from None
        raise
    if desc.workflow_type != workflow_type_name(spec):
        raise missing
    operator = caller is not None and caller.acts_as_operator(event.roles)
    view: CaseView | None = None
    if caller is not None and not caller.is_party({}, event.roles, spec.designated):
        try:
            view = await case_view(client, case_id)
        except CaseError:
            raise missing from None
        if not caller.is_party(view.parties, event.roles, spec.designated):
            raise missing
    if payload is not None:
        check_text(payload)
    sent = sent_as(caller, update_id)
    try:
        payload = await _fitting(
            client,
            event,
            case_id,
            desc.status,
            payload,
            view=view,
            operator=operator,
            busy=_taking_a_step(desc.raw_description),
        )
    except CaseError:
        if update_id is not None and sent is not None:
            taken, result = await update_outcome(client, case_id, sent, run_id=desc.run_id)
            if taken:
                return _event_result(case_id, event, result, desc.run_id)
        raise
    if operator and event.sender_bin is not None and payload is not None:
        assert caller is not None
        payload = payload.model_copy(update={event.sender_bin: caller.bin})
    args = [] if payload is None else [payload]
    done = WorkflowUpdateStage.COMPLETED
    update = await handle.start_update(event.name, args=args, id=sent, wait_for_stage=done)
    result = await update.result()
    if event.taken is not None:
        event.taken(case_id, payload, result)
    return _event_result(case_id, event, result, update.workflow_run_id)


_SENT_BY = re.compile(r"by-(?P<key>[A-Za-z0-9_]+)/")


def sent_as(caller: Caller | None, update_id: str | None) -> str | None:
    """The id an event's Update is sent under: the sending key's id first (``by-<key id>/``, no name in it), then the
    caller's idempotency id or a new one, so the case's history says which key sent each event, for an operator
    system's as for a person's (an adversarial run of 2026-12-04 found a permit reopened by the complaints system
    with nothing in the case to say who). ``None`` (the command line, the installation itself): as given."""
    if caller is None:
        return update_id
    return f"by-{caller.key_id}/{update_id or uuid.uuid4().hex}"


def sender_of(update_id: str) -> str | None:
    """The key id an Update was sent by (``sent_as``), or ``None`` for one sent otherwise."""
    m = _SENT_BY.match(update_id)
    return m["key"] if m else None


async def _fitting(
    client: Client,
    event: EventSpec,
    case_id: str,
    status: WorkflowExecutionStatus | None,
    payload: BaseModel | None,
    *,
    view: CaseView | None = None,
    operator: bool = False,
    busy: bool = False,
) -> BaseModel | None:
    """The Update's argument, when the case takes ``event`` now; ``CaseError("conflict")`` otherwise (to an operator
    system, without the case's status or what it waits for). ``busy``: the case is taking a step now
    (``_taking_a_step``): one that takes no event yet is told to come again in a moment."""
    not_now = CaseError("conflict", Sentence("{event} does not fit the case's state now", event=event.name))
    if status is not WorkflowExecutionStatus.RUNNING:
        closed = Sentence("the case is closed: it accepts no more events")
        raise not_now if operator else CaseError("conflict", closed)
    view = view or await case_view(client, case_id)
    always_open = event.name in ALWAYS_OPEN_EVENTS and not view.closed
    if event.name not in view.pending_events and not always_open:
        if busy and not view.pending_events and not view.closed:
            # e.g. just started, registering and asking the registries (an event sent right after the start's 201
            # met "events it accepts now: none": an adversarial run, 2026-12-03)
            taking = Sentence(
                "{event} does not fit yet: the case is taking its step now (status {status}) and takes no event at "
                "this moment; try again in a moment",
                event=event.name,
                status=Sentence.word(view.status),
            )
            raise CaseError("conflict", not_now.message if operator else taking, retry_after=1)
        if operator:
            raise not_now
        coming = not_before(view, event.name)
        said = Sentence(
            "{event} does not fit the case's state now (status {status}); events it accepts now: {pending}",
            event=event.name,
            status=Sentence.word(view.status),
            pending=", ".join(view.pending_events) or Sentence("none"),
        )
        if coming:
            given = Sentence.from_data(coming.why_said) if coming.why_said else None  # said as the case gave it
            why: str = given if given is not None and given == coming.why else coming.why
            said = Sentence("{refusal}; possible from {when}: {why}", refusal=said, when=_from_text(coming), why=why)
        raise CaseError("conflict", said, not_before=coming.not_before if coming else None)
    if event.to_update is not None and payload is not None:
        try:
            return await event.to_update(client, case_id, payload)
        except CaseError:
            raise
        except ValueError as exc:
            raise (not_now if operator else CaseError("conflict", str(exc))) from None
    return payload


def _taking_a_step(raw: DescribeWorkflowExecutionResponse) -> bool:
    """Whether the case (its description) is taking a step now: a workflow task under way, or an outside call on its
    first attempt (one retried is an outage, not a moment: ``pending_calls`` shows it)."""
    return raw.HasField("pending_workflow_task") or any(a.attempt <= 1 for a in raw.pending_activities)


def not_before(view: CaseView, event: str) -> ActNotBefore | None:
    """When the law allows ``event`` at the earliest, where the case's own view says so (its ``not_before``, e.g. the
    permit's decision after a hearing, 665/NK p.7); ``None`` when the case names no such instant."""
    for raw in view.details.get("not_before") or []:
        try:
            item = ActNotBefore.model_validate(raw)
        except ValueError:
            continue
        if item.event == event:
            return item
    return None


def _from_text(item: ActNotBefore) -> str:
    """The instant an event becomes possible, as a person reads it: a day where the law counts days, else the minute
    in Asia/Almaty."""
    text = almaty_text(item.not_before)
    return text if item.because == "notified_time" else text.split(" ", 1)[0]


REFUSING_RESULTS: dict[str, type[CorrectionResult | LawMigrationRecord]] = {
    "apply_calendar_correction": CorrectionResult,
    "migrate_law": LawMigrationRecord,
}
"""Updates every case takes whose result says the case refused them (``refused``: another calendar version, a law
version that is unknown or gives none of the case's terms) while the Update itself completes."""


def _event_result(case_id: str, event: EventSpec, result: Any, run_id: str | None) -> EventResult:
    """The answer to an event the case took; ``CaseError("refused")`` when its result says the case refused it and
    changed nothing (a calendar correction for another calendar): an answer of 200 read as done (an adversarial
    run, 2026-12-04)."""
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    if event.name in REFUSING_RESULTS and isinstance(result, dict) and result.get("refused"):
        raise CaseError("refused", Sentence("the case refused {event}: {why}", event=event.name, why=result["refused"]))
    return EventResult(case_id=case_id, event=event.name, result=result, run_id=run_id)


class PendingCall(BaseModel):
    """A call to an outside system the case is waiting on: how long, how many attempts, the last error."""

    activity: str
    """The activity's name, e.g. ``inform_antifraud_centre``."""
    activity_id: str = ""
    """The call's id in the case (``call_id`` of ``CaseWorkflow.outside`` when given, e.g. a message id)."""
    state: str
    attempt: int
    """The attempt under way or next (1 for the first)."""
    since: datetime | None = None
    """When the current attempt was scheduled."""
    last_error: str | None = None
    """The last attempt's error, decrypted."""
    next_attempt_at: datetime | None = None


class CaseWork(BaseModel):
    """What the case is doing right now, from Temporal: the calls it waits on, and whether its workflow code is
    about to run or running (a workflow task: taking an event, a finished call or a timer, a local activity)."""

    calls: list[PendingCall] = []
    deciding: bool = False
    """A workflow task is scheduled or running."""
    running: bool = True
    closed_at: datetime | None = None
    """When the run shown closed (completed, continued as new, ended otherwise); ``None`` while it runs."""

    @property
    def busy(self) -> bool:
        """The case is still working on its own (a person's next step can wait for it)."""
        return self.running and (self.deciding or bool(self.calls))


async def case_work(client: Client, case_id: str, run_id: str | None = None) -> CaseWork:
    """What the case is doing right now (see ``CaseWork``); ``run_id`` as for ``case_view``."""
    desc = await client.get_workflow_handle(case_id, run_id=run_id).describe()
    return CaseWork(
        calls=await _calls(client, desc.raw_description.pending_activities),
        deciding=desc.raw_description.HasField("pending_workflow_task"),
        running=desc.status is WorkflowExecutionStatus.RUNNING,
        closed_at=desc.close_time if desc.status is not WorkflowExecutionStatus.RUNNING else None,
    )


async def wait_until_settled(client: Client, case_id: str, *, timeout: float = 8.0, interval: float = 0.2) -> CaseWork:
    """Wait until the case has done what it does on its own after an event (no call in flight, no workflow task,
    twice in a row ``interval`` apart), at most ``timeout`` seconds; the last look either way. A case whose
    outside system keeps failing is still busy at the end: the caller shows it as "processing"."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    quiet = 0
    while True:
        work = await case_work(client, case_id)
        quiet = 0 if work.busy else quiet + 1
        if quiet >= 2 or loop.time() >= end:
            return work
        await asyncio.sleep(interval)


async def pending_calls(client: Client, case_id: str) -> list[PendingCall]:
    """The outside-system calls the case is waiting on now (from Temporal, not the workflow's state);
    the last error is decrypted with the client's codec."""
    desc = await client.get_workflow_handle(case_id).describe()
    return await _calls(client, desc.raw_description.pending_activities)


async def _calls(client: Client, pending: Any) -> list[PendingCall]:
    calls = []
    for p in pending:
        last_error = None
        if p.HasField("last_failure"):
            last_error = str(await client.data_converter.decode_failure(p.last_failure)) or None
        calls.append(
            PendingCall(
                activity=p.activity_type.name,
                activity_id=p.activity_id,
                state=PendingActivityState.Name(p.state).removeprefix("PENDING_ACTIVITY_STATE_").lower(),
                attempt=p.attempt,
                since=p.scheduled_time.ToDatetime().replace(tzinfo=UTC) if p.HasField("scheduled_time") else None,
                last_error=last_error,
                next_attempt_at=p.next_attempt_schedule_time.ToDatetime().replace(tzinfo=UTC)
                if p.HasField("next_attempt_schedule_time")
                else None,
            )
        )
    return calls
