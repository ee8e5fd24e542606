"""The case's legal clock: open a legal term, wait for an event or the recorded instant, record met or
breached, escalate, and take calendar corrections as recorded events.

Every instant comes from the ``compute_deadline`` local activity (recorded in the history with its
term, citation and calendar version); workflow code only waits on recorded instants.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import compute_deadline, notify_supervisor
    from models import search_attributes as sa
    from models.case import LawMigration, LawMigrationRecord, LawSnapshot, Registration
    from models.deadlines import (
        DEADLINE_MEMO_PREFIX,
        CalendarCorrection,
        CorrectionResult,
        Deadline,
        DeadlineChange,
        DeadlineRequest,
        DeadlineState,
        DeadlineStatus,
        Escalation,
    )
    from models.sms import SMS_FROM_TEMPLATES
    from workflows import metrics
    from workflows.outside import ACTIVITY_RETRY, DEFAULT_TIMINGS

__all__ = [
    "CORRECTION_RECORDS_ONLY_MOVES",
    "CURRENT_PATHS",
    "CURRENT_PATHS_18",
    "EDGE_TOLERANCE",
    "PUBLISH_ONLY_CHANGES",
    "RACES_SETTLED",
    "RECORDS_WITHOUT_DEFAULTS",
    "RECORD_HELD_OVER_LOCALS",
    "SUBSUMED",
    "SUBSUMED_18",
    "WAKE_ONLY_ON_MOVED_DUE",
    "CaseDeadlines",
    "CasePatches",
    "CaseRecord",
    "Checkpoint",
    "Woke",
    "upsert_changed",
]

# workflow.patched id: waits re-arm only when a correction moves a due instant (two deadlines due at
# the same instant made every met/breach cancel and restart the other wait's timer).
WAKE_ONLY_ON_MOVED_DUE = "deadline-waits-wake-only-on-moved-due"
# workflow.patched id: a calendar correction records only due instants it moves (a new calendar version alone
# changes nothing), and is refused by a worker whose calendar is not the version the operator intends.
CORRECTION_RECORDS_ONLY_MOVES = "calendar-correction-records-only-moves"
# workflow.patched id: the case's record in the memo is one key per term (``deadline:<key>``), upserted only for the
# terms that changed, and search attributes only when their value changes. Cases started before rewrote the whole
# list of terms (``deadlines``) and every search attribute on every change (58.6 of 79.8 KB of an EDS-signing case).
PUBLISH_ONLY_CHANGES = "case-record-publishes-only-changes"
# workflow.patched id: races at a due instant and at the end are settled. (1) An act an Update brings is timed by the
# instant the edge received it (``infra.receipts``) when that lies within EDGE_TOLERANCE before the case's clock, also
# when the timer recorded the breach first: a worker lagging at 18:30 does not make a timely act late. (2) A calendar
# correction or a law migration leaves alone a term that was met or breached while it was computing. (3) The case
# waits for its Update handlers before it completes (``CaseWorkflow.handlers_finished``).
RACES_SETTLED = "case-races-settled"
# workflow.patched id, asked first in a case's first activation: a case begun with it takes the new branch of every
# patch in SUBSUMED without asking each (no marker and no TemporalChangeVersion search-attribute upsert of its own:
# one of each instead of up to eight, and each upsert costs the server about 3 ms of CPU, issue 18). Cases begun
# before it find it absent and ask each patch, as their histories recorded.
CURRENT_PATHS = "case-begins-on-the-current-paths"
SUBSUMED = frozenset(
    {
        WAKE_ONLY_ON_MOVED_DUE,
        CORRECTION_RECORDS_ONLY_MOVES,
        PUBLISH_ONLY_CHANGES,
        RACES_SETTLED,
        "complaint-withdrawal-is-not-a-review",
        "complaint-satisfaction-instructs-appealed-case",
        "complaint-documents-signed-and-delivered",
        "complaint-tells-appealed-case",
        "permit-results-on-the-registration-day",
        "permit-service-term-before-the-registries",
        "hearing-calendar-only-for-a-hearing",
        "permit-continues-as-new-when-suggested",
        "fraud-notices-retried-by-activity",
        "fraud-notices-carry-the-subscriber",
        "fraud-continues-as-new-when-suggested",
        "mailbox-eds-only-for-official-correspondence",
        "numbers-answer-delivered",
    }
)
"""The patches ``CURRENT_PATHS`` stands for: those every case begun when it was introduced decided in its first
activation. Never extended: a case begun with ``CURRENT_PATHS`` was recorded without any later patch's new branch, so
a later patch is asked with ``workflow.patched`` itself (``CasePatches.patched`` refuses it)."""
CURRENT_PATHS_18 = "case-begins-on-the-paths-of-issue-18"
"""``workflow.patched`` id, asked first in a case's first activation (before ``CURRENT_PATHS``): a case begun with it
takes every patch of ``SUBSUMED`` and ``SUBSUMED_18`` without asking each, and publishes its record in batches
(``CaseRecord``): one marker where a complaint, a permit and a numbers case recorded two, and the search-attribute
and memo upserts of a batch merged into one of each (issue 18: each upsert costs the server a visibility write).
Cases begun before find it absent and go on as their histories recorded."""
SUBSUMED_18 = frozenset({SMS_FROM_TEMPLATES})
"""The patches ``CURRENT_PATHS_18`` stands for besides ``SUBSUMED``: those decided in the first activation after
``CURRENT_PATHS`` was frozen. Never extended, for the reason ``SUBSUMED`` is not."""
RECORD_HELD_OVER_LOCALS = "case-begins-with-its-record-held-over-local-activities"
"""``workflow.patched`` id, asked first in a case's first activation (before ``CURRENT_PATHS_18``, for which it also
stands): a case begun with it also keeps a batch of its record open while one of our own computations runs (a local
activity: a term's deadline, the registration, the law snapshot, the hearing calendar), so a step that closes one term
and opens the next publishes both in one upsert of each kind where it published two (a signing case: 19 → 13
search-attribute and 19 → 12 memo upserts, issue 18). Cases begun before find it absent and go on as recorded."""
RECORDS_WITHOUT_DEFAULTS = "case-begins-with-term-records-without-defaults"
"""``workflow.patched`` id, asked first in a case's first activation (before ``RECORD_HELD_OVER_LOCALS``, for which it
also stands): a term's record in the memo leaves out the fields that hold their default (an empty list, a null, a
false; ``status`` is always written), as ``DeadlineState`` restores them when it reads the record: 31% of a signing
case's record bytes, written into the history and into the visibility store's copy of the memo on every upsert
(issue 18). Cases begun before find it absent and write whole records, as their histories recorded."""
EDGE_TOLERANCE = timedelta(minutes=5)
"""How far before the case's clock the edge's receipt of an act may lie to be taken as the act's instant (worker lag,
a workflow task retried); a receipt further back, or ahead of the case's clock, is not taken and the case's clock
times the act."""


def upsert_changed(updates: list[SearchAttributeUpdate[Any]]) -> None:
    """Upsert the search attributes of ``updates`` whose value differs from the case's current one (an upsert is a
    history event; the SDK keeps ``workflow.info()``'s attributes current)."""
    current = workflow.info().typed_search_attributes
    changed = [u for u in updates if current.get(u.key) != u.value]
    if changed:
        workflow.upsert_search_attributes(changed)


_NOT_IN_THE_RECORD: dict[str, Any] = {"request": {"term"}}
"""Left out of a term's record in the memo: the term's value the request carried (≈0.5 KB a record, rewritten with
each change of the term; the registration's or the law migration's recorded result holds it, and the record's
``deadline`` its amount, unit, direction, citation and text)."""


class CaseRecord:
    """What the case publishes about itself for visibility: its search attributes and memo keys.

    ``batched`` (a case begun with ``CURRENT_PATHS_18``): the changes are gathered until what they wake has run
    (an Update's handler and the main path it lets go on) and go out together, in one search-attribute upsert (values
    that changed only) and one memo upsert, instead of an event per change. Temporal puts the case's completion or
    continue-as-new after them, so nothing is lost at the end. ``held_over_locals`` (a case begun with
    ``RECORD_HELD_OVER_LOCALS``): a batch also stays open while a local activity answers (``held``). Other cases
    publish each change as it comes, as their histories recorded.
    """

    def __init__(self, *, batched: bool, held_over_locals: bool = False) -> None:
        self.batched = batched
        self.held_over_locals = held_over_locals
        """Whether a batch stays open while a local activity runs (a case begun with ``RECORD_HELD_OVER_LOCALS``)."""
        self._holds = 0
        self._attributes: dict[str, SearchAttributeUpdate[Any]] = {}
        self._memo: dict[str, Any] = {}
        self._flusher: asyncio.Task[None] | None = None
        """The pending publication (kept: a task nobody references may be collected before it runs)."""

    def search_attributes(self, updates: list[SearchAttributeUpdate[Any]], *, only_changes: bool) -> None:
        """Publish ``updates`` (only the values that change, with ``only_changes``)."""
        if not self.batched:
            if only_changes:
                upsert_changed(updates)
            else:
                workflow.upsert_search_attributes(updates)
            return
        self._attributes.update((u.key.name, u) for u in updates)
        self._publish_at_the_end()

    def memo(self, values: dict[str, Any]) -> None:
        """Publish memo keys (a later value of a key replaces an earlier one of the same batch)."""
        if not self.batched:
            workflow.upsert_memo(values)
            return
        self._memo.update(values)
        self._publish_at_the_end()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Keep the open batch, if any, from going out while the block runs (one attempt of a local activity: our
        own computation, milliseconds; a refused one releases it before the case shows itself blocked)."""
        if not self.held_over_locals:
            yield
            return
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1

    def _publish_at_the_end(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_after_what_wakes())

    async def _flush_after_what_wakes(self) -> None:
        # A condition is checked only once nothing else is ready, and the code its check wakes runs before this
        # one's continuation: the main path woken by an Update's handler publishes into the same batch. Held (see
        # ``held``), the batch also takes what the main path publishes once the local activity has answered.
        await workflow.wait_condition(lambda: self._holds == 0)
        while self._holds:  # what the check woke took a hold before this ran: wait for its answer too
            await workflow.wait_condition(lambda: self._holds == 0)
        attributes, memo = list(self._attributes.values()), self._memo
        self._attributes, self._memo = {}, {}
        if attributes:
            upsert_changed(attributes)
        if memo:
            workflow.upsert_memo(memo)
        self._flusher = None  # done: a finished task is not kept in every open case


class Checkpoint(Exception):
    """Raised by a wait given a ``checkpoint`` when it comes before the act: the case continues as new at this point
    (Temporal suggests it: the history is long), and its next run takes the wait up from the recorded state."""


class Woke(StrEnum):
    """What ended a wait ``within`` a term."""

    DONE = "done"
    """The awaited act or event came."""
    DUE = "due"
    """The term's due instant came first."""
    AT_MOST = "at_most"
    """The wait's own limit came first (e.g. a yearly checkpoint)."""
    CHECKPOINT = "checkpoint"
    """The wait's ``checkpoint`` came first (Temporal suggests continuing as new)."""


def _or(condition: Callable[[], bool], checkpoint: Callable[[], bool] | None) -> Callable[[], bool]:
    return condition if checkpoint is None else lambda: condition() or checkpoint()


class LocalCall(Protocol):
    """``CaseWorkflow.local``: one of our own computations, blocking the case visibly on a permanent refusal."""

    def __call__(
        self, activity: Callable[[DeadlineRequest], Deadline], arg: DeadlineRequest, /, *, what: str
    ) -> Awaitable[Deadline]: ...


class CasePatches:
    """The ``workflow.patched`` decisions of a case's first activation: ``RECORDS_WITHOUT_DEFAULTS``, then (absent)
    ``RECORD_HELD_OVER_LOCALS``, ``CURRENT_PATHS_18`` and ``CURRENT_PATHS``, asked once, first."""

    def __init__(self) -> None:
        self.records_without_defaults = workflow.patched(RECORDS_WITHOUT_DEFAULTS)
        """Whether the case was begun with ``RECORDS_WITHOUT_DEFAULTS`` (term records leave out default values)."""
        self.held_over_locals = self.records_without_defaults or workflow.patched(RECORD_HELD_OVER_LOCALS)
        """Whether the case was begun with ``RECORD_HELD_OVER_LOCALS`` (a batch stays open over a local activity)."""
        self.issue_18 = self.held_over_locals or workflow.patched(CURRENT_PATHS_18)
        """Whether the case was begun with ``CURRENT_PATHS_18`` (its record is published in batches)."""
        self.current = self.issue_18 or workflow.patched(CURRENT_PATHS)

    def patched(self, patch_id: str) -> bool:
        """Whether the case takes the new branch of ``patch_id`` (one of ``SUBSUMED`` or ``SUBSUMED_18``)."""
        if patch_id in SUBSUMED:
            return self.current or workflow.patched(patch_id)
        if patch_id in SUBSUMED_18:
            return self.issue_18 or workflow.patched(patch_id)
        raise ValueError(f"{patch_id} is not one of the patches {CURRENT_PATHS_18} stands for: ask workflow.patched")


class CaseDeadlines:
    """The legal terms of one case, in the order they were opened."""

    def __init__(
        self,
        procedure: str,
        registration: Callable[[], Registration | None],
        local: LocalCall,
        patches: CasePatches | None = None,
        record: CaseRecord | None = None,
    ) -> None:
        self.procedure = procedure
        self._registration = registration
        """The case's registration: the law (act and term values) its terms are computed under."""
        self._local = local
        """The case's way to call a local activity (``CaseWorkflow.local``: a permanent refusal blocks the case)."""
        self.states: dict[str, DeadlineState] = {}
        self._requests: dict[str, DeadlineRequest] = {}
        self._revision = 0  # bumped when waits must re-arm their timers (see _changed)
        # Decided once, at the case's first activation, so the patch marker always sits at the same place.
        patches = patches or CasePatches()
        self._record = record or CaseRecord(batched=patches.issue_18, held_over_locals=patches.held_over_locals)
        self._wake_only_on_moved_due = patches.patched(WAKE_ONLY_ON_MOVED_DUE)
        self._corrections_record_only_moves = patches.patched(CORRECTION_RECORDS_ONLY_MOVES)
        self.only_changes = patches.patched(PUBLISH_ONLY_CHANGES)
        """Whether ``PUBLISH_ONLY_CHANGES`` applies (the case's own search attributes follow it too)."""
        self._published: dict[str, bytes] = {}
        """The digest (``_digest``) of each term's record as the memo holds it: kept only to be compared."""
        self._without_defaults = patches.records_without_defaults
        self.races_settled = patches.patched(RACES_SETTLED)
        """Whether ``RACES_SETTLED`` applies (the case's end follows it too)."""
        self._waiting: dict[str, Callable[[], bool]] = {}
        """The terms a wait watches now, with the act each waits for."""
        self._acted: dict[str, datetime] = {}
        """Terms whose act an Update's handler brought, with the edge's receipt of that Update (``met`` takes it)."""

    async def open(
        self,
        key: str,
        term_key: str,
        start: datetime,
        *,
        counted_from: str = "registration",
        label: str = "",
        not_before: datetime | None = None,
        earliest_act: bool = False,
    ) -> DeadlineState:
        """Compute the deadline of ``term_key`` from ``start`` (an activity) and record it under ``key``.

        The term's value is the one the case recorded at registration (or its last law migration); the value
        says whether an after-hours start rolls to the next working day. ``counted_from`` decides that only for
        cases registered before the law was recorded. A ``start`` before ``not_before`` (the event the term counts
        from at the earliest) counts from ``not_before``; ``earliest_act`` asks a backward term for the earliest
        lawful act after ``start`` (``DeadlineRequest``).
        """
        reg = self._registration()
        req = DeadlineRequest(
            term_key=term_key,
            start=start,
            term=reg.terms.get(term_key) if reg else None,
            act=reg.act_key if reg else "",
            counted_from=counted_from,
            label=label or key,
            not_before=not_before,
            earliest_act=earliest_act,
        )
        deadline = await self._compute(req)
        state = DeadlineState(key=key, deadline=deadline, request=req)
        self.states[key] = state
        self._requests[key] = req
        self._changed(moves_due=False)
        self._publish()
        return state

    async def _compute(self, req: DeadlineRequest) -> Deadline:
        return await self._local(compute_deadline, req, what="deadlines")

    def _local_timeout(self) -> timedelta:
        reg = self._registration()
        return (reg.timings if reg is not None and reg.timings is not None else DEFAULT_TIMINGS).local_timeout

    def get(self, key: str) -> DeadlineState:
        return self.states[key]

    def met(self, key: str) -> DeadlineState:
        """Record that the act the term governs happened now (on time or late).

        "Now" is the edge's receipt of the Update whose handler brought the act, when it lies within
        ``EDGE_TOLERANCE`` before the case's clock (``RACES_SETTLED``); else the case's clock. An act received in time
        is met even when the timer recorded the breach first (the breach and its escalation stay in the record).
        """
        state = self.states[key]
        now = self._act_instant(key)
        if state.status is DeadlineStatus.OPEN and now > state.due:  # done, but after the term
            state.status = DeadlineStatus.BREACHED
            state.breached_at = state.due
            state.met_at = now
            state.late_by_seconds = (now - state.due).total_seconds()
        elif state.status is DeadlineStatus.OPEN:
            state.status = DeadlineStatus.MET
            state.met_at = now
        elif state.status is DeadlineStatus.BREACHED and state.met_at is None:
            state.met_at = now
            if self.races_settled and now <= state.due:  # received in time; the timer only won the race to the worker
                state.status = DeadlineStatus.MET
            else:
                state.late_by_seconds = (now - state.due).total_seconds()
        self._changed(moves_due=False)
        self._publish()
        return state

    def _act_instant(self, key: str) -> datetime:
        now = workflow.now()
        received = self._acted.pop(key, None)
        return received if received is not None and now - EDGE_TOLERANCE <= received <= now else now

    def received(self, at: datetime) -> Callable[[], None]:
        """An Update the edge received at ``at`` is about to be handled; the callable returned, called once its
        handler has returned, notes ``at`` for each waited-for act that the handler brought (``met`` takes it)."""
        pending = [key for key, done in self._waiting.items() if not done()]

        def handled() -> None:
            for key in pending:
                done = self._waiting.get(key)
                if done is not None and done():
                    self._acted[key] = at

        return handled

    def cancel(self, key: str, reason: str | None = None) -> None:
        """The term no longer applies (the case ended another way); ``reason`` says why (e.g. ``withdrawn``)."""
        state = self.states.get(key)
        if state is not None and state.status is DeadlineStatus.OPEN:
            state.status = DeadlineStatus.CANCELLED
            state.cancel_reason = reason
            self._changed(moves_due=False)
            self._publish()

    def extend(self, key: str, reason: str) -> DeadlineState:
        """Move the due instant of an open term that was held open past it to now, recording the old instant and
        ``reason`` (a ``DeadlineChange`` on the same calendar). Publishes nothing: the caller then records the term
        met or cancelled, which publishes once."""
        state = self.states[key]
        now = workflow.now()
        if state.status is DeadlineStatus.OPEN and now > state.due:
            version = state.deadline.calendar_version
            state.changes.append(
                DeadlineChange(
                    at=now,
                    reason=reason,
                    old_due=state.due,
                    new_due=now,
                    old_calendar_version=version,
                    new_calendar_version=version,
                )
            )
            state.deadline = state.deadline.model_copy(update={"due": now})
        return state

    async def wait(
        self,
        key: str,
        done: Callable[[], bool],
        *,
        keep_waiting: bool = True,
        escalate: bool = True,
        own_due_only: bool = False,
        checkpoint: Callable[[], bool] | None = None,
    ) -> bool:
        """Wait until ``done()`` or the deadline, whichever comes first.

        Returns True when ``done()`` came in time. On the deadline the breach is recorded and (if
        ``escalate``) reported to a supervisor; with ``keep_waiting`` the case then goes on waiting
        for ``done()`` and records when it finally came. ``own_due_only`` as in ``until_due``.

        ``checkpoint``: while the wait waits for ``done()``, its turning true raises ``Checkpoint`` (never during the
        escalation). The wait can be taken up again from the recorded term, in this run or the next: an open term
        waits for its due instant, a breached one for its act, a decided one returns at once.
        """
        state = self.states[key]
        if await self.until_due(key, done, own_due_only=own_due_only, checkpoint=checkpoint):
            self.met(key)
            return state.status is DeadlineStatus.MET
        await self.breach(key, escalate=escalate)
        if keep_waiting:
            await self.late(key, done, checkpoint=checkpoint)
        return False

    async def watch(self, key: str, done: Callable[[], bool]) -> None:
        """A term that runs beside the case's steps (e.g. a service term), woken only by its own due instant:
        met when ``done()`` comes in time; else breached and escalated, then met when ``done()`` finally comes."""
        if not await self.wait(key, done, keep_waiting=False, own_due_only=True):
            await self.late(key, done)

    async def late(self, key: str, done: Callable[[], bool], *, checkpoint: Callable[[], bool] | None = None) -> None:
        """After the term of ``key`` was breached: wait for ``done()`` and record when it came (``checkpoint`` as in
        ``wait``)."""
        self._waiting[key] = done
        try:
            await workflow.wait_condition(done if checkpoint is None else lambda: done() or checkpoint())
        finally:
            self._waiting.pop(key, None)
        if not done():
            raise Checkpoint
        self.met(key)

    async def until_due(
        self,
        key: str,
        done: Callable[[], bool],
        *,
        margin: timedelta = timedelta(0),
        own_due_only: bool = False,
        checkpoint: Callable[[], bool] | None = None,
    ) -> bool:
        """Wait until ``done()`` or ``margin`` before the (possibly corrected) due instant of ``key``;
        True if ``done()`` came.

        A calendar correction re-arms the timer: by default when it moves any due instant of the case (cases
        started before ``WAKE_ONLY_ON_MOVED_DUE``: on every change of any deadline); with ``own_due_only`` only
        when it moves the due instant of ``key`` itself, so a wait never cancels its timer for another term.

        Records nothing: for terms where the system itself acts before the due instant (e.g. the
        automatic forwarding of a complaint), the caller decides what the deadline means. ``checkpoint`` as in
        ``wait``.
        """
        self._waiting[key] = done
        try:
            while not done():
                due = self.states[key].due
                remaining = (due - margin - workflow.now()).total_seconds()
                if remaining <= 0:
                    break
                woken = self._done_or_moved(key, due, done) if own_due_only else self._done_or_changed(done)
                try:
                    await workflow.wait_condition(_or(woken, checkpoint), timeout=remaining)
                except TimeoutError:
                    break
                if checkpoint is not None and not done() and checkpoint():
                    raise Checkpoint
        finally:
            self._waiting.pop(key, None)
        return done()

    async def within(
        self,
        key: str,
        done: Callable[[], bool],
        *,
        at_most: timedelta | None = None,
        checkpoint: Callable[[], bool] | None = None,
    ) -> Woke:
        """Wait for ``done()`` until the due instant of ``key`` as it stands now, for ``at_most`` at most, or until
        ``checkpoint()`` (``Woke.CHECKPOINT``: the case continues as new and its next run waits again).

        One timer: a later calendar correction does not re-arm it. Records nothing.
        """
        remaining = (self.states[key].due - workflow.now()).total_seconds()
        if remaining <= 0:
            return Woke.DUE
        timeout = remaining if at_most is None else min(remaining, at_most.total_seconds())
        self._waiting[key] = done
        try:
            await workflow.wait_condition(_or(done, checkpoint), timeout=timeout)
        except TimeoutError:
            return Woke.AT_MOST if remaining > timeout else Woke.DUE
        finally:
            self._waiting.pop(key, None)
        return Woke.DONE if done() else Woke.CHECKPOINT

    async def until_breached(self, key: str, done: Callable[[], bool]) -> bool:
        """Wait for ``done()`` or the breach of ``key`` (recorded by the wait that watches it); True if ``done()``."""
        state = self.states[key]
        await workflow.wait_condition(lambda: done() or state.status is DeadlineStatus.BREACHED)
        return done()

    async def until_recomputed(self, key: str, done: Callable[[], bool], *, at: datetime) -> bool:
        """Wait for ``done()``, for a calendar correction that recomputes ``key`` (its calendar version changes),
        or for the instant ``at`` (a second at least); True when ``at`` came."""
        seen = self.states[key].deadline.calendar_version
        try:
            await workflow.wait_condition(
                lambda: done() or self.states[key].deadline.calendar_version != seen,
                timeout=max(1.0, (at - workflow.now()).total_seconds()),
            )
        except TimeoutError:
            return True
        return False

    async def not_before(self, instant: datetime) -> None:
        """Wait until a recorded instant before which the act may not happen (no timer once it has passed)."""
        wait = (instant - workflow.now()).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)

    def _changed(self, *, moves_due: bool) -> None:
        """Wake the waits so they re-arm their timers. Only a correction moving a due instant needs it;
        cases started before that was understood woke on every change, and their histories replay so."""
        if moves_due or not self._wake_only_on_moved_due:
            self._revision += 1

    def _done_or_changed(self, done: Callable[[], bool]) -> Callable[[], bool]:
        """A condition that also wakes the wait when a deadline is recomputed (calendar correction)."""
        revision = self._revision
        return lambda: done() or self._revision != revision

    def _done_or_moved(self, key: str, due: datetime, done: Callable[[], bool]) -> Callable[[], bool]:
        """A condition that also wakes the wait when a correction moves the due instant of ``key``."""
        return lambda: done() or self.states[key].due != due

    async def breach(self, key: str, *, escalate: bool = True) -> None:
        """Record that the term of ``key`` passed without the act it governs."""
        state = self.states[key]
        if state.status is not DeadlineStatus.OPEN:
            return
        state.status = DeadlineStatus.BREACHED
        state.breached_at = workflow.now()
        metrics.deadline_breached(self.procedure, state.deadline.term_key)
        self._changed(moves_due=False)
        self._publish()
        if escalate:
            await workflow.execute_activity(
                notify_supervisor,
                Escalation(
                    case_id=workflow.info().workflow_id,
                    procedure=self.procedure,
                    deadline_key=key,
                    term_text=state.deadline.text,
                    cite=state.deadline.cite,
                    due=state.due,
                    breached_at=state.breached_at,
                ),
                start_to_close_timeout=self._local_timeout(),
                retry_policy=ACTIVITY_RETRY,
            )
            state.escalated = True

    def request_of(self, key: str) -> DeadlineRequest:
        """What the deadline of ``key`` was computed from: kept in its state; for states recorded before that,
        this run's memory, else rebuilt from the recorded deadline."""
        state = self.states[key]
        if state.request is None and key in self._requests:
            return self._requests[key]
        return state.computed_from()

    async def correct(self, correction: CalendarCorrection) -> CorrectionResult:
        """Recompute every open deadline under the calendar in force now, with the term values the case keeps;
        record the due instants that moved (old and new instant and calendar version), nothing else.

        Refused, changing nothing, when the worker's calendar is not the version the operator intends.
        """
        only_moves = self._corrections_record_only_moves
        wanted = correction.calendar_version if only_moves else None
        result = CorrectionResult()
        unmoved: list[tuple[DeadlineState, Deadline]] = []
        for key, state in list(self.states.items()):
            if state.status is not DeadlineStatus.OPEN:
                continue
            new = await self._compute(self.request_of(key))
            if self.races_settled and state.status is not DeadlineStatus.OPEN:  # met or breached while computing
                result.unchanged.append(key)
                continue
            if wanted and new.calendar_version != wanted:  # checked on the first: nothing is applied yet
                why = f"this worker computes with calendar {new.calendar_version}, not the intended {wanted}"
                result.refused = f"{why}: nothing changed"
                return result
            wanted = None
            moved = new.due != state.due
            if not moved and (only_moves or new.calendar_version == state.deadline.calendar_version):
                result.unchanged.append(key)
                unmoved.append((state, new))
                continue
            change = DeadlineChange(
                at=workflow.now(),
                reason=correction.reason,
                old_due=state.due,
                new_due=new.due,
                old_calendar_version=state.deadline.calendar_version,
                new_calendar_version=new.calendar_version,
            )
            state.changes.append(change)
            state.deadline = new
            result.changed.append(change)
        if result.changed or not only_moves:
            if result.changed:  # the terms it did not move now carry the calendar they were checked against
                for state, new in unmoved:
                    if not self.races_settled or state.status is DeadlineStatus.OPEN:
                        state.deadline = new
            self._changed(moves_due=bool(result.changed))
            self._publish()
        return result

    def undone(self, key: str) -> bool:
        """Whether the act ``key`` governs is still to come: its term open, or breached and not done yet."""
        state = self.states.get(key)
        if state is None:
            return False
        return state.status is DeadlineStatus.OPEN or (state.status is DeadlineStatus.BREACHED and not state.met_at)

    async def count_from(self, key: str, start: datetime, reason: str) -> DeadlineChange | None:
        """Count the open term ``key`` again from ``start``, earlier than the instant it counts from: an earlier
        event it counts from came to light (a fraud report received before the one the case began with). The move is
        recorded as a change with ``reason``, and a wait on the term takes the new due instant (a breach at once when
        it has passed; a term breached and not done yet takes it too). ``None`` when the act was done, the due
        instant does not move earlier, or the term counts from an instant as early already (two earlier events at
        once: the earliest wins, whichever is computed last)."""
        state = self.states[key]
        if not self.undone(key):
            return None
        req = self.request_of(key).model_copy(update={"start": start})
        new = await self._compute(req)
        if not self.undone(key) or new.due >= state.due or self.request_of(key).start <= start:
            return None  # done meanwhile, nothing moves, or counted meanwhile from one as early
        change = DeadlineChange(
            at=workflow.now(),
            reason=reason,
            old_due=state.due,
            new_due=new.due,
            old_calendar_version=state.deadline.calendar_version,
            new_calendar_version=new.calendar_version,
        )
        state.changes.append(change)
        state.deadline, state.request = new, req
        self._requests[key] = req
        self._changed(moves_due=True)
        self._publish()
        return change

    async def migrate(self, migration: LawMigration, snapshot: LawSnapshot, from_version: str) -> LawMigrationRecord:
        """Move the open deadlines onto the term values of ``snapshot`` (a law migration): each is recomputed
        from its own start with the new value, and every due instant that moved is recorded with its old
        value. Deadlines already met, breached or cancelled keep the law they were decided under."""
        record = LawMigrationRecord(
            at=workflow.now(),
            from_version=from_version,
            to_version=migration.to_version,
            reason=migration.reason,
            decided_by=migration.decided_by,
        )
        for key, state in list(self.states.items()):
            if state.status is not DeadlineStatus.OPEN:
                continue
            old = self.request_of(key)
            value = snapshot.terms.get(old.term_key)
            if value is None or value == old.term:
                continue
            req = old.model_copy(update={"term": value})
            new = await self._compute(req)
            if self.races_settled and state.status is not DeadlineStatus.OPEN:  # met or breached while computing
                continue
            state.request = req
            if new.due == state.due:
                state.deadline = new
                continue
            change = DeadlineChange(
                at=workflow.now(),
                reason=f"law migration to {migration.to_version}: {migration.reason}",
                old_due=state.due,
                new_due=new.due,
                old_calendar_version=state.deadline.calendar_version,
                new_calendar_version=new.calendar_version,
            )
            state.changes.append(change)
            state.deadline = new
            record.changed.append(change)
        self._changed(moves_due=bool(record.changed))
        self._publish()
        return record

    def next_due(self) -> datetime | None:
        """The earliest deadline still outstanding: open, or breached and still not done."""
        outstanding = [
            s.due
            for s in self.states.values()
            if s.status is DeadlineStatus.OPEN or (s.status is DeadlineStatus.BREACHED and s.met_at is None)
        ]
        return min(outstanding) if outstanding else None

    def overdue(self) -> bool:
        """Whether a breach is outstanding (breached and the act still not done)."""
        return any(s.status is DeadlineStatus.BREACHED and s.met_at is None for s in self.states.values())

    def publish(self) -> None:
        """Publish the terms where the memo does not hold them as they are (all of them in a run that took the case
        up), and the search attributes that changed."""
        self._publish()

    def _publish(self) -> None:
        nxt = self.next_due()
        updates: list[SearchAttributeUpdate[Any]] = [sa.OVERDUE.value_set(self.overdue())]
        if nxt:  # never unset: the test server cannot describe an unset datetime; status says "closed"
            updates.append(sa.NEXT_DEADLINE.value_set(nxt))
        versions = {s.deadline.calendar_version for s in self.states.values()}
        if versions:
            updates.append(sa.CALENDAR_VERSION.value_set(sorted(versions)[-1]))
        # The record goes to the memo too, so every change is an event in the history that an auditor reads
        # without running our code (audit/ builds the compliance report from it).
        if not self.only_changes:
            workflow.upsert_search_attributes(updates)
            workflow.upsert_memo({"deadlines": [s.model_dump(mode="json") for s in self.states.values()]})
            return
        self._record.search_attributes(updates, only_changes=True)
        changed: dict[str, Any] = {}
        for key, state in self.states.items():
            memo_key = DEADLINE_MEMO_PREFIX + key
            record = state.model_dump(mode="json", exclude=_NOT_IN_THE_RECORD, exclude_defaults=self._without_defaults)
            record["status"] = state.status.value  # always said, also while open (its default)
            digest = _digest(record)
            if self._published_digest(memo_key) != digest:
                changed[memo_key] = record
                self._published[memo_key] = digest
        if changed:
            self._record.memo(changed)

    def _published_digest(self, memo_key: str) -> bytes:
        """The digest of the term's record as the memo holds it now (upserted by this run, or carried into it)."""
        if memo_key not in self._published:
            self._published[memo_key] = _digest(workflow.memo_value(memo_key, default=None, type_hint=dict))
        return self._published[memo_key]


def _digest(record: dict[str, Any] | None) -> bytes:
    """A record's JSON value as a digest: equal for equal values whatever their keys' order, and 16 bytes where the
    record held as a dict takes a kilobyte in each open case (issue 18)."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(canonical.encode(), digest_size=16).digest()
