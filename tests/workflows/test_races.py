"""Races at a due instant and at a case's end (issue 16 item 15), against the time-skipping server and the real
calendar: a decision the edge received before 18:30 but a lagging worker handled after it is met on time; a calendar
correction computing while the term's timer fires leaves the breach alone; a case waits for its Update handlers
before it completes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment

from models.deadlines import CalendarCorrection, CorrectionResult, Deadline, DeadlineRequest, DeadlineStatus
from rules.calendar import ALMATY, WorkingCalendar
from tests.refs import opaque
from workflows.case import CaseWorkflow

# The sandbox re-imports this module for its probe workflows: the worker, its activities and the edge's receipt
# stamp are passed through (workflow code itself imports only models and rules).
with workflow.unsafe.imports_passed_through():
    from activities.deadlines import compute_deadline
    from infra.receipts import StampReceipts, received
    from tests.workflows.probes import DeadlineProbe, ProbeInput
    from worker import ACTIVITIES, make_worker


def edge_client(env: WorkflowEnvironment) -> Client:
    """A client like the API's: every Update carries the edge's receipt instant."""
    return Client(**{**env.client.config(), "interceptors": [StampReceipts()]})


async def open_probe(env: WorkflowEnvironment, task_queue: str, workflow_type: type = DeadlineProbe) -> WorkflowHandle:
    """A probe whose 2-working-day term (171 p.119) runs from a working morning ahead of the server's clock."""
    cal = WorkingCalendar()
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    day = cal.add_working_days(today, 3)
    received_at = datetime.combine(day, datetime.min.time(), tzinfo=ALMATY) + timedelta(hours=10)
    handle = await env.client.start_workflow(
        workflow_type.run,  # type: ignore[attr-defined]
        ProbeInput(received_at=received_at),
        id=f"race-{uuid.uuid4()}",
        task_queue=task_queue,
        task_timeout=timedelta(seconds=2),  # a slow local activity heartbeats its workflow task every ~1.6 s
    )
    await env.sleep(timedelta(seconds=1))
    for _ in range(300):  # its registration and the term's computation may still run on a busy machine
        if await handle.query(DeadlineProbe.deadlines):
            return handle
        await asyncio.sleep(0.1)
    raise AssertionError("the probe's term did not open within 30 s")


async def due_of(handle: WorkflowHandle) -> datetime:
    [state] = await handle.query(DeadlineProbe.deadlines)
    return state.due


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    await env.sleep(instant - await env.get_current_time())


@pytest.mark.parametrize("with_receipt", [True, False], ids=["edge receipt", "no receipt"])
async def test_a_decision_received_before_1830_and_handled_after_it_is_on_time(
    env: WorkflowEnvironment, task_queue: str, with_receipt: bool
) -> None:
    """The edge took the decision 20 s before the due instant; the case handles it 2 minutes after it (a worker
    lagging, a workflow task retried), when the timer has recorded the breach and escalated it."""
    async with make_worker(env.client, task_queue=task_queue, workflows=[DeadlineProbe]):
        handle = await open_probe(env, task_queue)
        due = await due_of(handle)
        assert due.astimezone(ALMATY).time() == datetime.strptime("18:30", "%H:%M").time()
        await sleep_until(env, due + timedelta(minutes=2))
        [state] = await handle.query(DeadlineProbe.deadlines)
        assert state.status is DeadlineStatus.BREACHED and state.escalated  # the timer came first
        client = edge_client(env) if with_receipt else env.client
        with received(due - timedelta(seconds=20)):
            await client.get_workflow_handle(handle.id).execute_update(DeadlineProbe.decide)
        final = await handle.result()
    if with_receipt:  # timed by the edge's receipt: in time; the breach recorded meanwhile stays in the record
        assert final.status is DeadlineStatus.MET and final.met_at == due - timedelta(seconds=20)
        assert final.late_by_seconds is None and final.breached_at is not None and final.escalated
    else:  # without it (a client that does not stamp, a history from before) the case's clock times it: late
        assert final.status is DeadlineStatus.BREACHED and final.met_at is not None and final.met_at > due
        assert final.late_by_seconds is not None and final.late_by_seconds >= 120


async def test_a_receipt_beyond_the_tolerance_is_not_taken(env: WorkflowEnvironment, task_queue: str) -> None:
    """A receipt 10 minutes before the case's clock is no worker lag: the case's clock times the act."""
    async with make_worker(env.client, task_queue=task_queue, workflows=[DeadlineProbe]):
        handle = await open_probe(env, task_queue)
        due = await due_of(handle)
        await sleep_until(env, due + timedelta(minutes=1))
        with received(due - timedelta(minutes=9)):
            await edge_client(env).get_workflow_handle(handle.id).execute_update(DeadlineProbe.decide)
        final = await handle.result()
    assert final.status is DeadlineStatus.BREACHED and final.met_at is not None and final.met_at > due


SLOW_COMPUTE = asyncio.Event()


@activity.defn(name="compute_deadline")
async def slow_compute_deadline(req: DeadlineRequest) -> Deadline:
    """The calendar, slow while ``SLOW_COMPUTE`` is set (a correction computing across the due instant)."""
    if SLOW_COMPUTE.is_set():
        await asyncio.sleep(4)
    return await asyncio.to_thread(compute_deadline, req)


@pytest.fixture
def slow_activities() -> list:  # type: ignore[type-arg]
    return [slow_compute_deadline if a is compute_deadline else a for a in ACTIVITIES]


@pytest.fixture
async def day_off_before_due(env: WorkflowEnvironment) -> AsyncIterator[None]:
    """A Government resolution moving a day off onto the working day before the probe's due day (so a correction
    moves the due instant a working day later)."""
    from tests.conftest import OVERRIDES

    before = OVERRIDES.read_text()
    yield
    OVERRIDES.write_text(before)


async def test_a_correction_computing_while_the_term_breaches_leaves_the_breach_alone(
    env: WorkflowEnvironment, task_queue: str, slow_activities: list, day_off_before_due: None
) -> None:
    from tests.conftest import OVERRIDES

    cal = WorkingCalendar()
    async with make_worker(env.client, task_queue=task_queue, workflows=[DeadlineProbe], activities=slow_activities):
        handle = await open_probe(env, task_queue)
        due = await due_of(handle)
        day_before = cal.add_working_days(due.astimezone(ALMATY).date(), -1)
        OVERRIDES.write_text(f'[[day_off]]\ndate = {day_before.isoformat()}\nreason = "Government resolution (test)"\n')
        await sleep_until(env, due - timedelta(seconds=1))
        SLOW_COMPUTE.set()
        # the correction computes for 4 s of real time: the due instant passes meanwhile and the breach is recorded
        try:
            result = await handle.execute_update(
                DeadlineProbe.apply_calendar_correction, CalendarCorrection(reason="resolution moving a day off")
            )
        finally:
            SLOW_COMPUTE.clear()
        assert isinstance(result, CorrectionResult)
        [state] = await handle.query(DeadlineProbe.deadlines)
        assert state.status is DeadlineStatus.BREACHED and state.breached_at is not None
        assert result.changed == [] and result.unchanged == ["check"]
        assert state.due == due and state.changes == []  # the breach stands on the due instant it was recorded at
        await handle.execute_update(DeadlineProbe.decide)
        await handle.result()


@workflow.defn
class SlowNoteProbe(CaseWorkflow):
    """A case that ends on ``decide`` while an ``add_note`` handler is still waiting on its own work."""

    PROCEDURE = "probe"

    def __init__(self) -> None:
        super().__init__()
        self.decided = False
        self.notes: list[str] = []

    @workflow.run
    async def run(self, inp: ProbeInput) -> list[str]:
        await workflow.wait_condition(lambda: self.decided)
        await self.handlers_finished()
        return self.notes

    @workflow.update
    async def add_note(self, note: str) -> str:
        await asyncio.sleep(3600)  # an hour of the case's own work (e.g. computing with an outside system)
        self.notes.append(note)
        return "noted"

    @workflow.update
    def decide(self) -> None:
        self.decided = True


async def test_a_case_waits_for_its_update_handlers_before_it_completes(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    async with make_worker(env.client, task_queue=task_queue, workflows=[SlowNoteProbe]):
        handle = await env.client.start_workflow(
            SlowNoteProbe.run,
            ProbeInput(received_at=await env.get_current_time()),
            id=f"race-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        note = await handle.start_update(
            SlowNoteProbe.add_note, "late note", wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        await handle.execute_update(SlowNoteProbe.decide)
        await env.sleep(timedelta(hours=2))
        assert await note.result() == "noted"  # answered, not lost with the case's end
        assert await handle.result() == ["late note"]
        events = [e.event_type async for e in handle.fetch_history_events()]
    completed = events.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED)
    assert events.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) > completed


async def test_a_fraud_check_outcome_received_before_1830_is_on_time_though_the_breach_was_recorded_first(
    env: WorkflowEnvironment, task_queue: str
) -> None:
    """The same race in a real procedure (171 p.119): the analyst's outcome reached the edge at 18:29:40 of the
    check's last day; the case handled it after the timer had recorded and escalated the breach."""
    from cli.fraud_intake import submit
    from models.fraud_check import CheckOutcome, FraudCaseView, SubscriberReport
    from tests.golden_tools import save_golden
    from workflows.fraud_check import FraudCheck

    cal = WorkingCalendar()
    day = cal.add_working_days((await env.get_current_time()).astimezone(ALMATY).date(), 1)
    received_at = datetime.combine(day, datetime.min.time(), tzinfo=ALMATY) + timedelta(hours=10)
    await sleep_until(env, received_at)
    report = SubscriberReport(
        ref=opaque("race:", 32),
        suspect_number=f"+7708{uuid.uuid4().int % 10**7:07d}",
        reporter_number="+77011234567",
        received_at=received_at,
        description="SMS asking for a card code",
    )
    async with make_worker(env.client, task_queue=task_queue, workflows=[FraudCheck]):
        ack = await submit(env.client, report, task_queue=task_queue)
        handle = env.client.get_workflow_handle(ack.case_id)
        await env.sleep(timedelta(seconds=1))
        [check] = await handle.query(FraudCheck.deadlines)
        await sleep_until(env, check.due + timedelta(minutes=2))
        [check] = await handle.query(FraudCheck.deadlines)
        assert check.status is DeadlineStatus.BREACHED and check.escalated
        with received(check.due - timedelta(seconds=20)):
            await (
                edge_client(env)
                .get_workflow_handle(ack.case_id)
                .execute_update(
                    FraudCheck.record_check_outcome,
                    CheckOutcome(confirmed=False, evidence=["a corporate call centre"], analyst="analyst-02"),
                )
            )
        final = FraudCaseView.model_validate(await handle.result())
        states = {d.key: d for d in await handle.query(FraudCheck.deadlines)}
    assert final.outcome is not None and states["check"].status is DeadlineStatus.MET
    assert states["check"].met_at == check.due - timedelta(seconds=20) and states["check"].breached_at is not None
    await save_golden(handle, "fraud_check", "check_outcome_received_in_time_after_the_breach")
