"""The deadline mechanism (``workflows.clock``) against the time-skipping server and the real calendar: a breach
at 18:30 of the last working day, a term met, a back-dated case breached at once, a calendar correction moving
open deadlines."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from models.deadlines import DeadlineState, DeadlineStatus
from rules.calendar import ALMATY, WorkingCalendar
from tests.workflows.probes import DeadlineProbe, ProbeInput, TwoTermsProbe
from worker import make_worker


def last_working_day_before_next_nauryz(cal: WorkingCalendar, today: date) -> date:
    year = today.year if today < date(today.year, 3, 10) else today.year + 1
    return cal.add_working_days(date(year, 3, 21), -1)


async def eventually(handle: WorkflowHandle, ok: Callable[[DeadlineState], bool]) -> DeadlineState:
    """The probe's one deadline once ``ok`` (its workflow task done), or as it is after 30 s of real time."""
    states: list[DeadlineState] = []
    for _ in range(600):
        states = await handle.query(DeadlineProbe.deadlines)
        if states and ok(states[0]):
            break
        await asyncio.sleep(0.05)
    assert len(states) == 1, states
    return states[0]


async def test_breach_fires_exactly_at_1830_of_second_working_day_after_nauryz(
    env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    cal = WorkingCalendar()
    now = await env.get_current_time()
    eve = last_working_day_before_next_nauryz(cal, now.astimezone(ALMATY).date())
    received = datetime.combine(eve, time(17, 0), tzinfo=ALMATY)
    expected_day = cal.add_working_days(eve, 2)
    # The holidays lie between: the second working day is days later, not 2 calendar days.
    assert (expected_day - eve).days > 3
    expected_due = datetime.combine(expected_day, time(18, 30), tzinfo=ALMATY)

    async with make_worker(env.client, task_queue=task_queue, workflows=[DeadlineProbe]):
        handle = await env.client.start_workflow(
            DeadlineProbe.run,
            ProbeInput(received_at=received),
            id=f"probe-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        await env.sleep(timedelta(seconds=1))
        [state] = await handle.query(DeadlineProbe.deadlines)
        assert state.due == expected_due
        assert state.deadline.counted_from_day == eve  # 17:00 is inside office hours
        assert state.deadline.cite == "171 p.119"
        assert any(s.reason.value == "holiday" and "Nowruz" in s.name for s in state.deadline.skipped), (
            now,
            eve,
            state.deadline.skipped,
        )

        await env.sleep(expected_due - await env.get_current_time() - timedelta(seconds=1))
        [state] = await handle.query(DeadlineProbe.deadlines)
        assert state.status is DeadlineStatus.OPEN

        await env.sleep(timedelta(seconds=2))
        # the timer fired at the due instant; its workflow task and the escalation may still be running on a
        # busy machine (time no longer moves: it is the real wait for them)
        state = await eventually(handle, lambda s: s.status is DeadlineStatus.BREACHED and s.escalated)
        assert state.status is DeadlineStatus.BREACHED
        assert state.breached_at is not None and state.breached_at >= expected_due
        assert state.escalated

        await handle.execute_update(DeadlineProbe.decide)
        final = await handle.result()
        assert final.status is DeadlineStatus.BREACHED
        assert final.met_at is not None and final.late_by_seconds and final.late_by_seconds > 0

        # The record is in the history itself (memo), for auditors who do not run our code.
        memo = await (await handle.describe()).memo()
        assert memo["case"]["registered_on"] == eve.isoformat()
        assert memo["case"]["act_version_id"] == "171/554-NK-2025"
        recorded = memo["deadline:check"]
        assert recorded["status"] == "breached" and recorded["deadline"]["cite"] == "171 p.119"
        # the act's terms are not repeated in the memo, nor the term's value in its record (the registration's
        # result holds it): the record's deadline carries what it counted
        assert "terms" not in memo["case"] and "term" not in recorded["request"]
        assert recorded["request"]["term_key"] == "fraud.check" and recorded["deadline"]["amount"] == 2


async def test_event_in_time_is_recorded_as_met(env: WorkflowEnvironment, task_queue: str) -> None:
    now = await env.get_current_time()
    async with make_worker(env.client, task_queue=task_queue, workflows=[DeadlineProbe]):
        handle = await env.client.start_workflow(
            DeadlineProbe.run,
            ProbeInput(received_at=now),
            id=f"probe-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        await env.sleep(timedelta(hours=3))
        await handle.execute_update(DeadlineProbe.decide)
        final = await handle.result()
    assert final.status is DeadlineStatus.MET
    assert final.met_at is not None and final.met_at < final.due


async def test_back_dated_case_records_its_past_deadline_as_breached_at_once(
    env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    now = await env.get_current_time()
    async with make_worker(env.client, task_queue=task_queue, workflows=[DeadlineProbe]):
        handle = await env.client.start_workflow(
            DeadlineProbe.run,
            ProbeInput(received_at=now - timedelta(days=30)),
            id=f"probe-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        await env.sleep(timedelta(seconds=1))
        [state] = await handle.query(DeadlineProbe.deadlines)
        assert state.status is DeadlineStatus.BREACHED and state.due < now
        assert state.breached_at is not None and state.breached_at - now < timedelta(minutes=1)
        await handle.execute_update(DeadlineProbe.decide)
        await handle.result()


async def test_calendar_correction_is_a_recorded_event_that_moves_open_deadlines(
    env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    from models.deadlines import CalendarCorrection
    from tests.conftest import OVERRIDES

    cal = WorkingCalendar()
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    start_day = cal.add_working_days(today, 40)
    received = datetime.combine(start_day, time(10), tzinfo=ALMATY)
    old_due_day = cal.add_working_days(start_day, 2)
    first_day = cal.add_working_days(start_day, 1)
    async with make_worker(env.client, task_queue=task_queue, workflows=[DeadlineProbe]):
        handle = await env.client.start_workflow(
            DeadlineProbe.run,
            ProbeInput(received_at=received),
            id=f"probe-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        await env.sleep(timedelta(seconds=1))
        opened = await eventually(handle, lambda s: s.due.date() == old_due_day)  # its term computed, then corrected
        assert opened.due.date() == old_due_day
        before = OVERRIDES.read_text()
        OVERRIDES.write_text(f'[[day_off]]\ndate = {first_day.isoformat()}\nreason = "Government resolution (test)"\n')
        try:
            result = await handle.execute_update(
                DeadlineProbe.apply_calendar_correction,
                CalendarCorrection(reason="resolution moving a day off"),
            )
        finally:
            OVERRIDES.write_text(before)
        [change] = result.changed
        assert change.old_due.date() == old_due_day
        assert change.new_due.date() == cal.add_working_days(old_due_day, 1)
        assert change.old_calendar_version != change.new_calendar_version
        [state] = await handle.query(DeadlineProbe.deadlines)
        assert state.due == change.new_due and state.changes == [change]
        assert any(s.reason.value == "override" for s in state.deadline.skipped)
        await handle.execute_update(DeadlineProbe.decide)
        await handle.result()


async def test_the_case_record_publishes_only_what_changed(env: WorkflowEnvironment, task_queue: str) -> None:
    """14: one memo key per term, upserted only for the term that changed; a search attribute only when its value
    changes (cases before rewrote the whole list and every attribute on each change); the changes one Update brings
    written together (cases begun before ``CURRENT_PATHS_18`` wrote each), and with what the case publishes once the
    local activity it awaits has answered (cases begun before ``RECORD_HELD_OVER_LOCALS`` wrote before it)."""
    from temporalio.api.enums.v1 import EventType

    from audit.history import parse_history

    now = await env.get_current_time()
    async with make_worker(env.client, task_queue=task_queue, workflows=[TwoTermsProbe]):
        handle = await env.client.start_workflow(
            TwoTermsProbe.run, ProbeInput(received_at=now), id=f"probe-{uuid.uuid4()}", task_queue=task_queue
        )
        await env.sleep(timedelta(hours=1))
        await handle.execute_update(TwoTermsProbe.decide)
        await handle.result()
        history = await handle.fetch_history()
    memo_writes = [
        sorted(e.workflow_properties_modified_event_attributes.upserted_memo.fields)
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED
    ]
    assert memo_writes == [
        ["case", "deadline:check", "deadline:later"],  # registered, both terms computed: one write (held over them)
        ["deadline:check", "deadline:later"],  # met and cancelled by the same Update: one write (CURRENT_PATHS_18)
    ]
    upserts = [
        sorted(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    upserts = [names for names in upserts if names != ["TemporalChangeVersion"]]  # the SDK's, with patch markers
    assert upserts == [
        # registration, status "check" (set twice) and the terms, the next deadline written once for both
        ["KzActVersion", "KzCalendarVersion", "KzNextDeadline", "KzOverdue", "KzProcedure", "KzStatus"],
        ["KzNextDeadline"],  # met: the next deadline is the other term's; overdue and calendar are unchanged
    ]
    case = parse_history(history)  # the auditor reads the current state of each term from the memo
    assert [(d["key"], d["status"]) for d in case.deadlines()] == [("check", "met"), ("later", "cancelled")]


async def test_a_term_record_leaves_out_what_holds_its_default_and_reads_back_whole(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    """``RECORDS_WITHOUT_DEFAULTS``: the memo's record of a term has no null, empty or false field (cases begun before
    wrote them all), says its status also while open, and ``DeadlineState`` reads it back as the case holds it."""
    from audit.history import parse_history
    from models.deadlines import DeadlineState

    now = await env.get_current_time()
    async with make_worker(env.client, task_queue=task_queue, workflows=[TwoTermsProbe]):
        handle = await env.client.start_workflow(
            TwoTermsProbe.run, ProbeInput(received_at=now), id=f"probe-{uuid.uuid4()}", task_queue=task_queue
        )
        await env.sleep(timedelta(hours=1))
        held = {s.key: s for s in await handle.query(TwoTermsProbe.deadlines)}
        history = await handle.fetch_history()
        await handle.execute_update(TwoTermsProbe.decide)
        await handle.result()
    [(_eid, _at, first)] = parse_history(history).memo_snapshots  # decrypted, as an auditor reads them
    records = {k: v for k, v in first.items() if k.startswith("deadline:")}

    def empties(value: object) -> list[object]:
        if isinstance(value, dict):
            own = [v for v in value.values() if v in (None, [], False)]
            return own + [x for v in value.values() for x in empties(v)]
        return []

    assert set(records) == {"deadline:check", "deadline:later"}
    for key, record in records.items():
        assert record["status"] == "open" and not empties(record), record
        assert "term" not in record["request"]  # the registration holds the term's value
        whole = held[key.removeprefix("deadline:")]
        assert DeadlineState.model_validate(record) == whole.model_copy(
            update={"request": whole.request.model_copy(update={"term": None}) if whole.request else None}
        )
