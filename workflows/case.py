"""``CaseWorkflow``, the base class of every procedure's workflow.

It owns the case's legal clock (``workflows.clock``), its registration, status, documents, blocked steps
and complaint instructions; it answers the ``case`` and ``deadlines`` queries and takes the Updates every
case takes (resuming a blocked step, a calendar correction, a complaint's instruction).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import compute_deadline, notify_supervisor
    from activities.law import law_snapshot, register_case
    from models import search_attributes as sa
    from models.case import (
        ACTION_RECORDED,
        ONE_EVENT_AT_A_TIME,
        BlockedStep,
        CaseView,
        ComplaintInstruction,
        ComplaintNotice,
        ComplaintRecord,
        DocumentRef,
        EventDoesNotFit,
        InstructionRecord,
        LawMigration,
        LawMigrationRecord,
        LawSnapshotRequest,
        Registration,
        RegistrationRequest,
        ResumeRequest,
        does_not_fit,
    )
    from models.deadlines import CalendarCorrection, CorrectionResult, DeadlineState, Escalation
    from models.failures import ACT_NOT_IN_FORCE
    from models.timings import CaseTimings
    from rules.text import Sentence
    from workflows import metrics
    from workflows.clock import CaseDeadlines, CasePatches, CaseRecord
    from workflows.outside import ACTIVITY_RETRY, DEFAULT_TIMINGS, outside_retry

__all__ = ["BLOCKED", "CASE_ACTIVITIES", "CaseWorkflow"]

A = TypeVar("A")
R = TypeVar("R")
BLOCKED = "blocked"
"""The status a case shows while an outside system's permanent refusal holds one of its steps."""

CASE_ACTIVITIES = (compute_deadline, notify_supervisor, register_case, law_snapshot)
"""The activities every case calls (its clock, its registration, the supervisor's inbox)."""


class CaseWorkflow:
    """Base of every procedure's workflow: the case's deadlines and the calendar-correction Update."""

    PROCEDURE: str = "case"
    TERMS: tuple[str, ...] = ()
    """The legal terms the procedure counts (term keys of its act): its registration and law migrations record
    these, not every term the act gives. ``tests/workflows/test_terms_declared.py`` checks every term the
    procedure's code opens is here."""

    def __init__(self) -> None:
        self.patches = CasePatches()  # first: a case begun on the current paths asks no other patch of SUBSUMED
        self.record = CaseRecord(batched=self.patches.issue_18, held_over_locals=self.patches.held_over_locals)
        """What the case publishes for visibility (search attributes, memo); in batches in cases begun today."""
        self.clock = CaseDeadlines(self.PROCEDURE, lambda: self.registration, self.local, self.patches, self.record)
        self.registration: Registration | None = None
        self.status = "registered"
        self.closed = False
        self.outcome: str | None = None
        self.outcome_reason: str | None = None
        self.outcome_cite = ""
        self.documents: list[DocumentRef] = []
        self.instructions: list[InstructionRecord] = []
        self.complaints: list[ComplaintRecord] = []
        """Complaints about the case (``complaint_notice``), oldest first; pending until concluded."""
        self.blocked: BlockedStep | None = None
        """The earliest step an outside system refused for good that still waits for staff."""
        self.blocked_steps: list[BlockedStep] = []
        """Blocked steps staff resumed, oldest first."""
        self._open_blocks: list[BlockedStep] = []
        self._blocks_seen = 0
        self._resumes: list[ResumeRequest] = []
        self._status_underneath = self.status
        self._taking: set[str] = set()
        """Steps whose event is being taken now (``taking``)."""

    @contextmanager
    def taking(self, step: str) -> Iterator[None]:
        """Hold ``step`` while an event's handler awaits an outside call. Another event of the same step arriving
        meanwhile passed its validator (the step's outcome is not recorded yet): it is refused here, as a state
        conflict (409), and may be sent again once the first has an answer."""
        if step in self._taking and workflow.patched(ONE_EVENT_AT_A_TIME):
            raise does_not_fit(
                Sentence(
                    "{step} is being taken now (another event of it came first): send it again once that one has "
                    "its answer, if it is still needed",
                    step=step,
                )
            )
        self._taking.add(step)
        try:
            yield
        finally:
            self._taking.discard(step)

    @overload
    async def outside(
        self,
        activity: Callable[[Any, A], R],
        arg: A,
        /,
        *,
        what: str,
        timeout: timedelta | None = None,
        heartbeat: timedelta | None = None,
        expected: Collection[str] = (),
        call_id: str | None = None,
    ) -> R: ...

    @overload
    async def outside(
        self,
        activity: Callable[[A], Awaitable[R]],
        arg: A,
        /,
        *,
        what: str,
        timeout: timedelta | None = None,
        heartbeat: timedelta | None = None,
        expected: Collection[str] = (),
        call_id: str | None = None,
    ) -> R: ...

    @overload
    async def outside(
        self,
        activity: Callable[[A], R],
        arg: A,
        /,
        *,
        what: str,
        timeout: timedelta | None = None,
        heartbeat: timedelta | None = None,
        expected: Collection[str] = (),
        call_id: str | None = None,
    ) -> R: ...

    @overload
    async def outside(
        self,
        activity: Callable[..., Any],
        /,
        *args: Any,
        what: str,
        timeout: timedelta | None = None,
        heartbeat: timedelta | None = None,
        expected: Collection[str] = (),
        call_id: str | None = None,
    ) -> Any: ...

    async def outside(
        self,
        activity: Callable[..., Any],
        /,
        *args: Any,
        what: str,
        timeout: timedelta | None = None,
        heartbeat: timedelta | None = None,
        expected: Collection[str] = (),
        call_id: str | None = None,
    ) -> Any:
        """Call a system through ``activity`` (an activity method such as ``SmsActivities.send_sms``).

        The one way workflow code calls an activity. A temporary failure is retried by the activity's retry
        policy for as long as it lasts (the attempts and the last error show in Temporal's pending-activity
        info, ``infra.cases.pending_calls``). A permanent refusal (a non-retryable error) blocks the case with
        status ``blocked`` and the reason, tells the supervisor, and waits for staff to resume the step
        (``resume_outside_step``), then calls again. Errors whose type is in ``expected`` are the procedure's
        own business (e.g. ``SignatureRejected``): they reach the caller as the ``ActivityError``.
        ``what`` names the system on the blocked step; ``timeout`` bounds one attempt
        (``workflows.outside``); ``heartbeat`` is the heartbeat timeout of an activity that heartbeats;
        ``call_id`` becomes the activity id, so a view can tie the pending call to what it is about.
        """
        return await self._until_done(
            lambda: workflow.execute_activity(
                activity,
                args=list(args),
                start_to_close_timeout=timeout or self.timings.outside_timeout,
                heartbeat_timeout=heartbeat,
                retry_policy=outside_retry(self.timings),
                activity_id=call_id,
            ),
            what,
            expected,
        )

    async def local(self, activity: Callable[[A], R], arg: A, /, *, what: str, expected: Collection[str] = ()) -> R:
        """Call one of our own computations (``activity``, a local activity: deadlines, registration, the law)
        with the same promise as ``outside``: a permanent refusal (e.g. a broken calendar override file,
        ``CalendarFileInvalid``) blocks the case visibly until staff resume the step, never fails it."""

        async def attempt() -> R:
            with self.record.held():  # its answer joins the record's batch (RECORD_HELD_OVER_LOCALS)
                return await workflow.execute_local_activity(
                    activity, arg, start_to_close_timeout=self.timings.local_timeout, retry_policy=ACTIVITY_RETRY
                )

        return await self._until_done(attempt, what, expected)

    async def _until_done(self, call: Callable[[], Awaitable[R]], what: str, expected: Collection[str]) -> R:
        """``call`` until it succeeds; a non-retryable error whose type is not ``expected`` blocks the step."""
        while True:
            try:
                return await call()
            except (ActivityError, ApplicationError) as exc:
                # a local activity's failure may reach the workflow unwrapped
                cause = exc.cause if isinstance(exc, ActivityError) else exc
                if not isinstance(cause, ApplicationError) or not cause.non_retryable or cause.type in expected:
                    raise
                await self._block(what, cause)

    async def _block(self, what: str, cause: ApplicationError) -> None:
        """Hold the step until staff resume it; the case shows ``blocked`` while any step is held."""
        if not self._open_blocks:
            self._status_underneath = self.status
            self._show_status(BLOCKED)
        step = BlockedStep(
            what=what,
            error=cause.message,
            error_type=cause.type or "",
            since=workflow.now(),
            status_before=self._status_underneath,
        )
        self._open_blocks.append(step)
        self.blocked = self._open_blocks[0]
        metrics.case_blocked(self.PROCEDURE, what)
        key = f"blocked:{what}:{self._blocks_seen}"
        self._blocks_seen += 1
        resumes_before = len(self._resumes)
        await workflow.execute_activity(
            notify_supervisor,
            Escalation(
                case_id=workflow.info().workflow_id,
                procedure=self.PROCEDURE,
                deadline_key=key,
                term_text=f"{what}: {cause.message}",
                cite="outside system",
                due=step.since,
                breached_at=step.since,
            ),
            start_to_close_timeout=self.timings.local_timeout,
            retry_policy=ACTIVITY_RETRY,
        )
        await workflow.wait_condition(lambda: len(self._resumes) > resumes_before)
        resume = self._resumes[resumes_before]
        step.resumed_at, step.resumed_by = workflow.now(), resume.by
        self._open_blocks.remove(step)
        self.blocked_steps.append(step)
        self.blocked = self._open_blocks[0] if self._open_blocks else None
        if not self._open_blocks:
            self._show_status(self._status_underneath)

    @workflow.update
    def resume_outside_step(self, request: ResumeRequest) -> str:
        """Staff retry the steps an outside system refused (after the cause was dealt with)."""
        self._resumes.append(request)
        return "resuming: " + ", ".join(b.what for b in self._open_blocks)

    @resume_outside_step.validator
    def validate_resume_outside_step(self, request: ResumeRequest) -> None:
        if not self._open_blocks:
            raise EventDoesNotFit(Sentence("nothing is blocked in this case"))

    def on_edge_receipt(self, update: str, at: datetime) -> Callable[[], None] | None:
        """The worker's ``infra.receipts.HandReceipts`` tells the case when the edge received ``update``, before its
        handler runs; the clock times the act the handler brings by it (``RACES_SETTLED``). Returns what to call once
        the handler has returned."""
        return self.clock.received(at) if self.clock.races_settled else None

    async def handlers_finished(self) -> None:
        """Before the case completes: let every Update handler still running end, so no accepted Update is left
        without its answer (``RACES_SETTLED``; cases before completed at once)."""
        if self.clock.races_settled:
            await workflow.wait_condition(workflow.all_handlers_finished)

    def pending_events(self) -> list[str]:
        """The Updates that fit the case's state now (the console shows forms for these only)."""
        return []

    def details(self) -> dict[str, Any]:
        """Procedure-specific facts for the ``case`` query (override)."""
        return {}

    def parties(self) -> dict[str, list[str]]:
        """The organisations that act in this case, per operator-system role, from the case's own data (override):
        their BINs (e.g. a permit's base operators). Read by the ``case`` query only (no effect on the history).
        The edge adds the organisation that started the case; an operator system's key acts only on the cases
        that list its organisation for its role (or in a role its procedure ``designated``), others get the
        answer of a missing case."""
        return {}

    async def on_complaint_instruction(self, instruction: ComplaintInstruction) -> str:
        """Act on an upheld complaint's instruction; returns what was done (override per procedure)."""
        return ACTION_RECORDED

    def close(self, outcome: str, status: str = "closed", *, reason: str | None = None, cite: str = "") -> None:
        """The case ended with ``outcome`` (e.g. "permit_issued", "refused"), and why when that says more (shown with
        the case's view; nothing of it enters the history)."""
        self.closed = True
        self.outcome = outcome
        self.outcome_reason, self.outcome_cite = reason, cite
        self.set_status(status)

    async def register(self, act_key: str, received_at: datetime) -> Registration:
        """Registration day and governing act version, recorded through an activity (665/NK p.6).

        Raises ``ActivityError`` whose cause has type ``ActNotInForce`` when the act does not govern.
        """
        self.registration = await self.local(
            register_case,
            RegistrationRequest(act_key=act_key, received_at=received_at, terms=list(self.TERMS)),
            what="registration",
            expected=(ACT_NOT_IN_FORCE,),
        )
        self.upsert_search_attributes(
            [
                sa.PROCEDURE.value_set(self.PROCEDURE),
                sa.ACT_VERSION.value_set(self.registration.act_version_id),
            ]
        )
        self._publish_registration()
        return self.registration

    @property
    def timings(self) -> CaseTimings:
        """The timeouts and margins the case lives by: those recorded at its registration (``models.timings``)."""
        reg = self.registration
        return reg.timings if reg is not None and reg.timings is not None else DEFAULT_TIMINGS

    def publish_record(self) -> None:
        """Write the case's record (registration and every term) into this run's history. A run continued as new
        starts with the memo its case started with only, so a run that takes a case up writes it once: each run's
        history reads whole for an auditor."""
        self._publish_registration()
        self.clock.publish()

    def _publish_registration(self) -> None:
        """The registration in the ``case`` memo, for visibility and auditors: the day, the act version and the
        calendar. The act's terms stay out (≈5 KB a case, held in the mutable state and rewritten with it): they are
        in the registration's recorded result, and each term's record (``deadline:<key>``) says what it counted."""
        if self.registration is not None:
            memo = self.registration.model_dump(mode="json", exclude={"timings", "terms"})
            self.record.memo({"case": {"procedure": self.PROCEDURE, **memo}})

    def set_status(self, status: str) -> None:
        """Record the case's status where visibility (console, ``starter.py list``) can see it.

        While a step is blocked the case keeps showing ``blocked``; the status set meanwhile is shown when
        the last blocked step is resumed.
        """
        if self._open_blocks:
            self._status_underneath = status
            return
        self._show_status(status)

    def _show_status(self, status: str) -> None:
        self.status = status
        self.upsert_search_attributes([sa.STATUS.value_set(status)])

    def upsert_search_attributes(self, updates: list[SearchAttributeUpdate[Any]]) -> None:
        """Upsert ``updates``; only those whose value changes in cases under ``PUBLISH_ONLY_CHANGES`` (each upsert
        is a history event)."""
        self.record.search_attributes(updates, only_changes=self.clock.only_changes)

    @workflow.query
    def case(self) -> CaseView:
        """The case's status, registration, deadlines, pending events and documents."""
        return CaseView(
            case_id=workflow.info().workflow_id,
            procedure=self.PROCEDURE,
            status=self.status,
            closed=self.closed,
            outcome=self.outcome,
            outcome_reason=self.outcome_reason,
            outcome_cite=self.outcome_cite,
            registration=self.registration,
            deadlines=list(self.clock.states.values()),
            pending_events=["resume_outside_step"] if self.blocked else self.pending_events(),
            documents=list(self.documents),
            instructions=list(self.instructions),
            complaints=list(self.complaints),
            details=self.details(),
            blocked=self.blocked,
            blocked_steps=list(self.blocked_steps),
            parties=self.parties(),
        )

    @workflow.query
    def deadlines(self) -> list[DeadlineState]:
        """Every legal term of the case with its computation and outcome."""
        return list(self.clock.states.values())

    @workflow.update
    async def complaint_instruction(self, instruction: ComplaintInstruction) -> InstructionRecord:
        """An upheld complaint's instruction reaches the appealed case as a recorded event."""
        received_at = workflow.now()
        action = await self.on_complaint_instruction(instruction)
        record = InstructionRecord(instruction=instruction, received_at=received_at, action_taken=action)
        self.instructions.append(record)
        return record

    @workflow.update
    def complaint_notice(self, notice: ComplaintNotice) -> ComplaintRecord:
        """A complaint about the case was registered or concluded (58 p.10; 665/NK p.10). Only recorded: a refused
        case keeps its complaint window open while a complaint about it is pending (``pending_complaints``)."""
        record = next((c for c in self.complaints if c.complaint_id == notice.complaint_id), None)
        if record is None:
            record = ComplaintRecord(
                complaint_id=notice.complaint_id, registered_on=notice.registered_on, noticed_at=workflow.now()
            )
            self.complaints.append(record)
        if notice.stage == "concluded" and record.concluded_at is None:
            record.concluded_at, record.outcome = workflow.now(), notice.outcome
        return record

    def pending_complaints(self) -> list[ComplaintRecord]:
        """Complaints about the case still being considered."""
        return [c for c in self.complaints if c.pending]

    @workflow.update
    async def apply_calendar_correction(self, correction: CalendarCorrection) -> CorrectionResult:
        """A calendar correction reaches the case as a recorded event and recomputes its open deadlines, then what
        the procedure counted from the calendar beside them (``on_calendar_corrected``) when a due instant moved."""
        result = await self.clock.correct(correction)
        if result.changed:
            await self.on_calendar_corrected()
        return result

    async def on_calendar_corrected(self) -> None:
        """What a procedure computed from the calendar outside its terms, recomputed after a correction moved a due
        instant (the permit's hearing notice day, 665/NK p.7); nothing for a procedure that counts only terms."""

    @workflow.update
    async def migrate_law(self, migration: LawMigration) -> LawMigrationRecord:
        """Move the case onto another version of its act: a deliberate, recorded decision (never a side effect of a
        calendar correction). The open deadlines are recomputed with the new term values, old and new kept."""
        with self.taking("law_migration"):
            reg = self.registration
            assert reg is not None
            snapshot = await self.local(
                law_snapshot,
                LawSnapshotRequest(act_key=reg.act_key, version=migration.to_version, terms=list(self.TERMS)),
                what="law",
            )
            if snapshot.refusal:
                return LawMigrationRecord(
                    at=workflow.now(),
                    from_version=reg.act_version_id,
                    to_version=migration.to_version,
                    reason=migration.reason,
                    decided_by=migration.decided_by,
                    refused=snapshot.refusal,
                )
            record = await self.clock.migrate(migration, snapshot, reg.act_version_id)
            self.registration = reg.model_copy(
                update={
                    "act_version_id": snapshot.version,
                    "act_basis": snapshot.basis,
                    "terms": snapshot.terms,
                    "migrations": [*reg.migrations, record],
                }
            )
            self.upsert_search_attributes([sa.ACT_VERSION.value_set(snapshot.version)])
            self._publish_registration()
            return record

    @migrate_law.validator
    def validate_migrate_law(self, migration: LawMigration) -> None:
        if self.registration is None:
            raise EventDoesNotFit(Sentence("the case is still being registered; try again in a moment"))
        if self.closed:
            raise EventDoesNotFit(Sentence("the case is closed: its law stays as it was decided"))
        if migration.to_version == self.registration.act_version_id:
            raise EventDoesNotFit(Sentence("the case is under {version} already", version=migration.to_version))
