"""Fraud case (171 ch.3 p.116–120) against the time-skipping server and the real calendar.

Through the HTTP API a report takes the one start path (update-with-start, 171 p.119): a report about a number
whose case runs is recorded in that case (``joined``), and a report about a number whose case closed opens a new
check (a new run under the same id).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, delete, select
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import FailureError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.antifraud import messages_for_case
from activities.subscriber_registry import DemoSubscriber, find_subscriber, seed_demo_subscribers
from api.app import create_app
from api.auth import create_key
from api.i18n import say
from api.temporal import Gateway, problem_from_temporal
from audit.history import parse_history
from cli.fraud_intake import bulk_intake, submit
from infra import outages
from infra.calendar import current_calendar
from infra.cases import PendingCall, message_id, pending_calls
from infra.db import session
from models.case import (
    ACTION_NOTHING_TO_LIFT,
    ACTION_RECORDED,
    ACTION_SUSPENSION_LIFTED,
    BEGUN_CASE_MEMO,
    ENDED_CASE_MEMO,
    INTAKE_MEMO,
    ComplaintInstruction,
    ResumeRequest,
    action_said,
)
from models.deadlines import DeadlineStatus
from models.fraud_check import (
    AnyReport,
    CentreInformation,
    CentreNotice,
    CheckOutcome,
    FraudCaseInput,
    FraudCaseView,
    FraudState,
    IntakeAck,
    InternalDetection,
    LiftDecision,
    NoticeKind,
    ReportAnswer,
    SubscriberReport,
)
from models.procedure import Role
from models.tables import NetworkOrderRow, StartLedger, SupervisorNotification
from rules.calendar import ALMATY
from rules.identifiers import check_digit, masked_number
from tests.cases import ending_leftovers, stop
from tests.golden_tools import save_golden
from tests.refs import opaque
from tests.subscribers import until
from worker import make_worker
from workflows.fraud_check import SPEC, FraudCheck, fraud_case_id

_rng = random.Random()


def new_number() -> str:
    """A fresh mobile number per test: cases are per number and the server lives for the whole session."""
    return f"+7708{_rng.randrange(10**7):07d}"


def new_subscriber(n_numbers: int = 3) -> DemoSubscriber:
    """A subscriber of the registry with a valid IIN and several numbers."""
    while True:
        base = f"8{_rng.randrange(10):d}0{_rng.randrange(1, 10)}1{_rng.randrange(5):d}3{_rng.randrange(10**4):04d}"
        digit = check_digit(base)
        if digit is not None:
            break
    return DemoSubscriber(
        "Нурланов", "Асхат", "Болатович", base + str(digit), tuple(new_number() for _ in range(n_numbers))
    )


def subscriber_report(number: str, received_at: datetime, ref: str | None = None) -> SubscriberReport:
    return SubscriberReport(
        ref=ref or opaque("ref-service:"),
        suspect_number=number,
        reporter_number=new_number(),
        received_at=received_at,
        signal="sms",
        description="SMS: 'your card is blocked, call +7 708 …'",
    )


def centre_information(number: str, received_at: datetime, simbox: bool = True) -> CentreInformation:
    return CentreInformation(
        ref=opaque("nb-afc:"),
        suspect_number=number,
        received_at=received_at,
        signal="call",
        simbox=simbox,
        description="GSM gateway traffic pattern",
    )


@pytest.fixture
async def worker(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[Worker]:
    """A worker for the test; cases the test leaves open are ended after it (``ending_leftovers``), because a timer
    of a case without a worker would stall time skipping for the module's later tests."""
    async with (
        make_worker(env.client, task_queue=task_queue, workflows=[FraudCheck]) as w,
        ending_leftovers(env.client),
    ):
        yield w


async def open_case(env: WorkflowEnvironment, report: AnyReport, task_queue: str) -> IntakeAck:
    """Submit a report (its case is ended after the test if it is still open)."""
    return await submit(env.client, report, task_queue=task_queue)


async def view(handle: WorkflowHandle) -> FraudCaseView:
    return await handle.query(FraudCheck.fraud)


async def pending_notice(env: WorkflowEnvironment, handle: WorkflowHandle) -> tuple[CentreNotice, PendingCall]:
    """The one notice still pending, with its delivery as Temporal's pending-activity info shows it."""
    [notice] = [n for n in (await view(handle)).notices if n.delivered_at is None]
    calls = {c.activity_id: c for c in await pending_calls(env.client, handle.id)}
    assert notice.call_id is not None and notice.call_id in calls, "the notice's delivery is not a pending call"
    return notice, calls[notice.call_id]


async def scheduled(handle: WorkflowHandle, activity: str) -> int:
    """How many times the case's history scheduled ``activity`` (each is one history entry of the call)."""
    history = await handle.fetch_history()
    return sum(
        1
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == activity
    )


async def save(handle: WorkflowHandle, path: str) -> None:
    """Record the golden of a case on today's branches: notices delivered by the activity's retry policy and
    carrying the subscriber p.118 names, the case's record published only where it changed, races settled and a
    continue-as-new when Temporal suggests it (issue 16). Files without a suffix hold cases that retried in workflow
    code, ``…_notices_by_activity`` cases whose p.120 notices carried no subscriber, ``…_notices_with_subscriber``
    cases before issue 16, ``…_on_current_paths`` cases begun before ``CURRENT_PATHS_18``, ``…_published_once``
    cases begun with it, ``…_held_over_locals`` cases begun with ``RECORD_HELD_OVER_LOCALS``, ``…_without_defaults``
    cases begun with ``RECORDS_WITHOUT_DEFAULTS``; each keeps replaying on its path."""
    await save_golden(handle, "fraud_check", f"{path}_publishing_changes_only")
    await save_golden(handle, "fraud_check", f"{path}_on_current_paths")
    await save_golden(handle, "fraud_check", f"{path}_without_defaults")  # begun on RECORDS_WITHOUT_DEFAULTS


async def office_time(env: WorkflowEnvironment) -> datetime:
    """The next working day's 10:00 after the server's now, so terms count from a known working day."""
    cal = current_calendar()
    now = (await env.get_current_time()).astimezone(ALMATY)
    day = cal.add_working_days(now.date(), 1)
    return datetime.combine(day, time(10), tzinfo=ALMATY)


async def sleep_until(env: WorkflowEnvironment, at: datetime) -> None:
    delta = at - await env.get_current_time()
    if delta > timedelta(0):
        await env.sleep(delta)


def expected_due(start: datetime) -> datetime:
    """18:30 of the 2nd working day after ``start``'s day: 171 ch.3 counts from the receipt of the report or from
    the outcome, the day after the event (Civil Code), with no after-hours roll."""
    cal = current_calendar()
    return datetime.combine(cal.add_working_days(start.astimezone(ALMATY).date(), 2), time(18, 30), tzinfo=ALMATY)


async def test_subscriber_report_confirmed_suspends_on_time_and_lift_restores(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    sub = new_subscriber()
    seed_demo_subscribers((sub,))
    number = sub.numbers[0]
    received = await office_time(env)
    await sleep_until(env, received)
    ack = await open_case(env, subscriber_report(number, received), task_queue=task_queue)
    assert ack.answer is ReportAnswer.OPENED and ack.case_id == fraud_case_id(number)
    assert number not in ack.case_id and number[1:] not in ack.case_id  # the id is a keyed hash
    handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)

    await env.sleep(timedelta(hours=3))
    [check] = await handle.query(FraudCheck.deadlines)
    assert check.key == "check" and check.deadline.cite == "171 p.119"
    assert check.due == expected_due(received)
    assert (await handle.query(FraudCheck.case)).status == "check"

    decided = await handle.execute_update(
        FraudCheck.record_check_outcome,
        CheckOutcome(
            confirmed=True,
            evidence=["CDR: 240 SMS in 10 min to distinct numbers", "3 subscriber reports"],
            analyst="analyst-07",
        ),
    )
    assert decided.outcome is not None and decided.outcome.confirmed
    await env.sleep(timedelta(minutes=5))

    case = await handle.query(FraudCheck.case)
    states = {d.key: d for d in case.deadlines}
    assert case.status == "suspended"
    assert states["check"].status is DeadlineStatus.MET
    assert decided.outcome_at is not None
    for key in ("suspension", "suspension_notice"):
        assert states[key].status is DeadlineStatus.MET
        assert states[key].deadline.cite == "171 p.120"
        assert states[key].due == expected_due(decided.outcome_at)
        assert states[key].met_at is not None and states[key].met_at <= states[key].due
    assert find_subscriber(number).numbers == sorted(sub.numbers)
    with session() as s:
        orders = s.exec(select(NetworkOrderRow).where(NetworkOrderRow.case_id == ack.case_id)).all()
        assert [o.action for o in orders] == ["suspend"] and orders[0].number_known
    [msg] = messages_for_case(ack.case_id)
    assert msg.kind is NoticeKind.SUSPENSION and msg.evidence == decided.outcome.evidence
    # 14 item 12: every notice carries what p.118 names: surname, name, patronymic, IIN, all the numbers
    assert msg.subscriber is not None and msg.subscriber.found
    assert (msg.subscriber.surname, msg.subscriber.name, msg.subscriber.patronymic) == (
        sub.surname,
        sub.name,
        sub.patronymic,
    )
    assert msg.subscriber.iin == sub.iin and sorted(msg.subscriber.numbers) == sorted(sub.numbers)
    assert "lift_suspension" in case.pending_events

    lifted = await handle.execute_update(
        FraudCheck.lift_suspension,
        LiftDecision(
            reason="complaint upheld: the number was cloned, subscriber identified in person",
            decided_by="head-of-antifraud",
            complaint_ref="C-2026-118",
        ),
    )
    assert lifted.lift is not None
    final = await handle.result()
    assert final.restoration is not None and final.status == "closed"
    assert [m.kind for m in messages_for_case(ack.case_id)] == [NoticeKind.SUSPENSION, NoticeKind.RESTORATION]
    restored = messages_for_case(ack.case_id)[1]
    assert restored.reason.startswith("complaint upheld") and restored.subscriber == msg.subscriber
    # p.120 says nothing about restoring: the citation says so instead of inventing a paragraph
    assert restored.cite.startswith("operator decision") and "p.120" not in restored.cite
    case = await handle.query(FraudCheck.case)
    assert case.closed and case.outcome == "suspension_lifted"
    await save(handle, "confirmed_suspended_lifted")


async def test_an_upheld_complaint_lifts_the_suspension(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """An upheld complaint's ``lift_suspension`` instruction lifts the suspension as the back office's decision does:
    services restored and the centre told, the complaint's reasons the lift's. It was only recorded, though the README
    said a suspension is lifted (an adversarial run, 2026-12-05). Nothing to lift, or another instruction: recorded
    for staff."""
    sub = new_subscriber()
    seed_demo_subscribers((sub,))
    number = sub.numbers[0]
    received = await office_time(env)
    await sleep_until(env, received)
    ack = await open_case(env, subscriber_report(number, received), task_queue=task_queue)
    handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)
    await env.sleep(timedelta(hours=3))

    def instruction(action: str, reasons: str) -> ComplaintInstruction:
        return ComplaintInstruction(
            complaint_id="complaint-upheld-1", decision="upheld", action=action, reasons=reasons, decided_at=received
        )

    early = await handle.execute_update(FraudCheck.complaint_instruction, instruction("lift_suspension", "too early"))
    assert early.action_taken == ACTION_NOTHING_TO_LIFT.format(status="check")
    # the network is down: the confirmed case is still being suspended when the instruction comes (it was answered
    # "nothing to lift" and the number was suspended anyway: the next adversarial run, 2026-12-05)
    outages.begin("network", await env.get_current_time(), timedelta(minutes=30), "the switch is down")
    try:
        await handle.execute_update(
            FraudCheck.record_check_outcome,
            CheckOutcome(confirmed=True, evidence=["CDR: 240 SMS in 10 min"], analyst="analyst-07"),
        )
        await env.sleep(timedelta(minutes=5))
        assert (await handle.query(FraudCheck.case)).status == "suspending"
        other = await handle.execute_update(FraudCheck.complaint_instruction, instruction("reconsider", "look again"))
        assert other.action_taken == ACTION_RECORDED
        reasons = "the number was cloned; the subscriber was identified in person"
        lifted = await handle.execute_update(FraudCheck.complaint_instruction, instruction("lift_suspension", reasons))
        assert lifted.action_taken == ACTION_SUSPENSION_LIFTED
    finally:
        outages.end("network")
    await env.sleep(timedelta(hours=1))  # the network is back: the suspension goes in, then the lift takes it out
    final = await handle.result()
    assert final.status == "closed" and final.restoration is not None
    assert final.lift is not None and final.lift.complaint_ref == "complaint-upheld-1" and final.lift.reason == reasons
    restored = messages_for_case(ack.case_id)[-1]
    assert restored.kind is NoticeKind.RESTORATION and restored.reason == reasons
    with session() as s:
        orders = s.exec(select(NetworkOrderRow).where(NetworkOrderRow.case_id == ack.case_id)).all()
        assert [o.action for o in orders] == ["suspend", "restore"]
    assert action_said(lifted.action_taken, "ru").startswith("приостановление снято")
    await save_golden(handle, "fraud_check", "confirmed_suspended_lifted_by_complaint")


async def test_centre_information_not_confirmed_informs_centre_within_two_days(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    number = new_number()
    received = await office_time(env)
    await sleep_until(env, received)
    ack = await open_case(env, centre_information(number, received), task_queue=task_queue)
    assert ack.answer is ReportAnswer.OPENED
    handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)
    await env.sleep(timedelta(hours=20))  # the next working morning
    decided = await handle.execute_update(
        FraudCheck.record_check_outcome,
        CheckOutcome(
            confirmed=False, evidence=["traffic is a corporate call centre under contract"], analyst="analyst-02"
        ),
    )
    final: FraudCaseView = await handle.result()
    assert final.outcome is not None and not final.outcome.confirmed and final.suspension is None
    [notice] = final.notices
    assert notice.kind is NoticeKind.NOT_CONFIRMED and notice.attempts == 1 and notice.delivered_at is not None
    [msg] = messages_for_case(ack.case_id)
    assert msg.kind is NoticeKind.NOT_CONFIRMED and msg.cite == "171 p.120"
    assert msg.subscriber is not None and not msg.subscriber.found and msg.subscriber.numbers == [number]
    states = {d.key: d for d in await handle.query(FraudCheck.deadlines)}
    assert set(states) == {"check", "not_confirmed_notice"}
    assert states["check"].status is DeadlineStatus.MET
    assert decided.outcome_at is not None
    assert states["not_confirmed_notice"].status is DeadlineStatus.MET
    assert states["not_confirmed_notice"].due == expected_due(decided.outcome_at)
    assert (await handle.query(FraudCheck.case)).outcome == "not_confirmed"
    with session() as s:  # nothing was suspended
        assert not s.exec(select(NetworkOrderRow).where(NetworkOrderRow.case_id == ack.case_id)).all()
    await save(handle, "not_confirmed")

    # The case is closed: a new report about the number opens a new case under the same id (a new run).
    closed_run = (await handle.describe()).run_id
    again = await open_case(env, subscriber_report(number, await env.get_current_time()), task_queue=task_queue)
    assert again.answer is ReportAnswer.OPENED and again.case_id == ack.case_id
    assert (await handle.describe()).run_id != closed_run
    assert len((await view(handle)).reports) == 1


async def test_internal_detection_informs_centre_at_once_with_all_the_subscribers_numbers(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    sub = new_subscriber(n_numbers=4)
    seed_demo_subscribers((sub,))
    number = sub.numbers[2]
    now = await env.get_current_time()
    ack = await open_case(
        env,
        InternalDetection(
            ref=f"afs:{_rng.randrange(10**9)}",
            suspect_number=number,
            received_at=now,
            signal="call",
            simbox=True,
            description="SIM box: 1 IMEI, 4 IMSI rotating, 900 short calls/hour",
        ),
        task_queue=task_queue,
    )
    handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)
    await env.sleep(timedelta(seconds=5))
    [msg] = messages_for_case(ack.case_id)  # before any analyst looked at it (p.118)
    assert msg.kind is NoticeKind.DETECTION and msg.cite == "171 p.118"
    assert msg.subscriber is not None and msg.subscriber.found
    assert (msg.subscriber.surname, msg.subscriber.name, msg.subscriber.patronymic, msg.subscriber.iin) == (
        sub.surname,
        sub.name,
        sub.patronymic,
        sub.iin,
    )
    assert sorted(msg.subscriber.numbers) == sorted(sub.numbers)
    v = await view(handle)
    [notice] = v.notices
    assert notice.delivered_at is not None and notice.delivered_at - now < timedelta(minutes=1)
    assert v.status == "check"

    # A second detection joining the case is sent too; a subscriber's report joining it is not.
    again = await open_case(
        env,
        InternalDetection(
            ref=f"afs:{_rng.randrange(10**9)}", suspect_number=number, received_at=now, description="second burst"
        ),
        task_queue=task_queue,
    )
    assert again.answer is ReportAnswer.JOINED
    await open_case(env, subscriber_report(number, now), task_queue=task_queue)
    await env.sleep(timedelta(seconds=5))
    assert [m.kind for m in messages_for_case(ack.case_id)] == [NoticeKind.DETECTION, NoticeKind.DETECTION]

    await handle.execute_update(
        FraudCheck.record_check_outcome,
        CheckOutcome(confirmed=False, evidence=["M2M fleet of a logistics company"], analyst="analyst-01"),
    )
    final = await handle.result()
    assert len(final.reports) == 3
    assert [m.kind for m in messages_for_case(ack.case_id)][-1] is NoticeKind.NOT_CONFIRMED
    # each detection's message is named by its report's place in the case: its id is its activity's, in clear
    assert [n.message_id.rsplit(":", 1)[-1] for n in final.notices[:2]] == ["report-0", "report-1"]
    history = (await handle.fetch_history()).to_json()
    assert all(r.report.ref not in history for r in final.reports if r.report.way_in.value == "internal_detection")
    await save(handle, "internal_detection")
    await save_golden(handle, "fraud_check", "internal_detection_notices_name_no_ref")


async def test_analyst_silent_check_is_breached_and_escalated(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    number = new_number()
    received = await office_time(env)
    await sleep_until(env, received)
    ack = await open_case(env, subscriber_report(number, received), task_queue=task_queue)
    handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)
    due = expected_due(received)
    await sleep_until(env, due - timedelta(minutes=1))
    [check] = await handle.query(FraudCheck.deadlines)
    assert check.status is DeadlineStatus.OPEN
    await env.sleep(timedelta(minutes=2))
    [check] = await handle.query(FraudCheck.deadlines)
    assert check.status is DeadlineStatus.BREACHED and check.escalated
    assert check.breached_at is not None and check.breached_at >= due
    case = await handle.query(FraudCheck.case)
    assert case.status == "check" and "record_check_outcome" in case.pending_events
    with session() as s:
        [row] = s.exec(select(SupervisorNotification).where(SupervisorNotification.case_id == ack.case_id)).all()
        assert row.deadline_key == "check" and row.cite == "171 p.119"

    await env.sleep(timedelta(hours=1))
    await handle.execute_update(
        FraudCheck.record_check_outcome,
        CheckOutcome(
            confirmed=False,
            evidence=["late check: the reported SMS came from a bank's real short number"],
            analyst="analyst-03",
        ),
    )
    await handle.result()
    [check, _notice] = await handle.query(FraudCheck.deadlines)
    assert check.status is DeadlineStatus.BREACHED and check.late_by_seconds and check.late_by_seconds > 3600
    await save(handle, "check_breached")


async def test_second_report_joins_the_open_case(env: WorkflowEnvironment, task_queue: str, worker: Worker) -> None:
    number = new_number()
    now = await env.get_current_time()
    first = subscriber_report(number, now)
    a = await open_case(env, first, task_queue=task_queue)
    handle = env.client.get_workflow_handle_for(FraudCheck.run, a.case_id)
    run_id = (await handle.describe()).run_id
    b = await open_case(env, centre_information(number, now), task_queue=task_queue)
    c = await open_case(env, subscriber_report(number, now), task_queue=task_queue)
    assert (a.answer, b.answer, c.answer) == (ReportAnswer.OPENED, ReportAnswer.JOINED, ReportAnswer.JOINED)
    assert a.case_id == b.case_id == c.case_id and c.reports_in_case == 3
    assert (await handle.describe()).run_id == run_id  # one case, not three
    assert [r.report.way_in.value for r in (await view(handle)).reports] == [
        "subscriber_report",
        "centre_information",
        "subscriber_report",
    ]
    # the case view (the API's GET /cases/{id}) lists them too: the number masked, no reporter's number
    details = (await handle.query(FraudCheck.case)).details
    recorded = (await view(handle)).reports
    assert details["number"] == number[:5] + "•••••" + number[-2:] and number not in str(details)
    assert [(r["ref"], r["way_in"]) for r in details["reports"]] == [
        (r.report.ref, r.report.way_in.value) for r in recorded
    ]
    assert details["confirmed"] is None and details["check"] == 1
    assert first.reporter_number not in str(details)
    # The same report sent again (a retry) is recognised by the start ledger; without the ledger's row,
    # Temporal itself recognises the Update id (a keyed hash of the report's ref) and answers what the first
    # attempt got.
    assert (await open_case(env, first, task_queue=task_queue)).answer is ReportAnswer.DUPLICATE
    with session() as s:
        s.exec(delete(StartLedger).where(col(StartLedger.message_id) == message_id(first.ref, first.way_in.value)))  # type: ignore[call-overload]
    again = await open_case(env, first, task_queue=task_queue)
    assert again.answer is ReportAnswer.OPENED and again.reports_in_case == 1
    assert len((await view(handle)).reports) == 3  # recorded once
    [check] = await handle.query(FraudCheck.deadlines)  # joining reports do not restart the term
    assert check.due == expected_due(now)
    await handle.execute_update(
        FraudCheck.record_check_outcome,
        CheckOutcome(confirmed=False, evidence=["no fraud pattern"], analyst="analyst-04"),
    )
    await handle.result()


async def test_a_report_received_before_the_first_moves_the_check_to_count_from_it(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """171 p.119: the check within 2 working days of the report. A report received two working days before the one
    the case began with joined silently and the check kept counting from the later one (an adversarial run,
    2026-12-04): it counts from the earliest report now, the move recorded; one received later moves nothing."""
    cal = current_calendar()
    today = cal.add_working_days((await env.get_current_time()).astimezone(ALMATY).date(), 1)
    morning = datetime.combine(today, time(10), tzinfo=ALMATY)  # a working morning: the terms below are still open
    await env.sleep(morning - await env.get_current_time())
    number, now = new_number(), await env.get_current_time()
    a = await open_case(env, subscriber_report(number, now), task_queue=task_queue)
    handle = env.client.get_workflow_handle_for(FraudCheck.run, a.case_id)
    earlier = datetime.combine(cal.add_working_days(today, -2), time(10), tzinfo=ALMATY)  # due today 18:30
    later = await open_case(env, subscriber_report(number, now + timedelta(minutes=1)), task_queue=task_queue)
    assert later.answer is ReportAnswer.JOINED
    [check] = await handle.query(FraudCheck.deadlines)
    assert check.due == expected_due(now) and check.changes == []
    joined_ref = opaque("ref-service:")
    joined = await open_case(env, subscriber_report(number, earlier, ref=joined_ref), task_queue=task_queue)
    assert joined.answer is ReportAnswer.JOINED
    for _ in range(100):
        [check] = await handle.query(FraudCheck.deadlines)
        if check.changes:
            break
        await env.sleep(timedelta(milliseconds=100))
    [change] = check.changes
    assert check.due == expected_due(earlier) < expected_due(now) and change.old_due == expected_due(now)
    said = f"report {joined_ref}, received earlier, joined: the check counts from its receipt (171 p.119)"
    assert change.reason == said, change.reason
    assert check.deadline.counted_from_day == earlier.date() and check.status is DeadlineStatus.OPEN
    # two earlier still, sent at once: the check counts from the earliest, whichever the case computes last (its due
    # instant has passed: breached at once)
    earliest = datetime.combine(cal.add_working_days(today, -4), time(10), tzinfo=ALMATY)
    between = datetime.combine(cal.add_working_days(today, -3), time(10), tzinfo=ALMATY)
    sent = [subscriber_report(number, between), subscriber_report(number, earliest)]
    await asyncio.gather(*(open_case(env, r, task_queue=task_queue) for r in sent))
    for _ in range(100):
        [check] = await handle.query(FraudCheck.deadlines)
        if check.deadline.counted_from_day == earliest.date() and len(check.changes) >= 2:
            break
        await env.sleep(timedelta(milliseconds=100))
    assert check.due == expected_due(earliest) and check.request and check.request.start == earliest
    assert check.status is DeadlineStatus.BREACHED
    await handle.execute_update(
        FraudCheck.record_check_outcome,
        CheckOutcome(confirmed=False, evidence=["no fraud pattern"], analyst="analyst-04"),
    )
    await handle.result()
    await save_golden(handle, "fraud_check", "check_counted_from_an_earlier_report")


async def test_report_after_not_confirmed_outcome_gets_a_new_check(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    number = new_number()
    outages.begin(
        "antifraud_centre", await env.get_current_time(), timedelta(minutes=30), "keep the case open after the outcome"
    )
    try:
        now = await env.get_current_time()
        ack = await open_case(env, subscriber_report(number, now), task_queue=task_queue)
        handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)
        first_run = (await handle.describe()).run_id
        await handle.execute_update(
            FraudCheck.record_check_outcome,
            CheckOutcome(confirmed=False, evidence=["nothing found"], analyst="analyst-05"),
        )
        later_report = subscriber_report(number, now + timedelta(seconds=1))
        later = await open_case(env, later_report, task_queue=task_queue)
        assert later.answer is ReportAnswer.JOINED and later.case_id == ack.case_id
        await env.sleep(timedelta(hours=1))  # the centre is back; the notice goes; the case begins a new check
        v = await view(handle)
        assert v.cycle == 2 and v.status == "check" and v.outcome is None
        assert [r.report.ref for r in v.reports] == [later_report.ref]
        [check] = await handle.query(FraudCheck.deadlines)
        assert check.status is DeadlineStatus.OPEN
        [msg] = messages_for_case(ack.case_id)
        assert msg.kind is NoticeKind.NOT_CONFIRMED
        await handle.execute_update(
            FraudCheck.record_check_outcome,
            CheckOutcome(confirmed=False, evidence=["still nothing"], analyst="analyst-05"),
        )
        final = await handle.result()
        assert final.cycle == 2 and len(messages_for_case(ack.case_id)) == 2
        # check no. 2 is a case begun after the first check's run, named by its own run, its receipt's intake kept
        second = await handle.describe()
        assert await second.memo_value(BEGUN_CASE_MEMO) == {"check": 2, "after_run": first_run}
        assert (await second.memo_value(INTAKE_MEMO))["started_by"]
        assert parse_history(await handle.fetch_history()).run_id == second.run_id != first_run
    finally:
        outages.end("antifraud_centre")
    first = env.client.get_workflow_handle(ack.case_id, run_id=first_run)
    described = await first.describe()
    assert described.status is WorkflowExecutionStatus.CONTINUED_AS_NEW
    # the first check's run says it ended a case: the audit tools take it for one (tests/e2e/test_limits.py)
    assert await described.memo_value(ENDED_CASE_MEMO) == {"check": 1}
    await save(first, "report_after_outcome_new_check")
    await save_golden(first, "fraud_check", "check_ended_its_case")


async def test_antifraud_centre_down_for_an_hour_delays_the_notice_and_never_loses_it(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    number = new_number()
    received = await office_time(env)
    await sleep_until(env, received)
    ack = await open_case(env, centre_information(number, received), task_queue=task_queue)
    handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)
    outage_start = await env.get_current_time()
    outages.begin("antifraud_centre", outage_start, timedelta(hours=1), "rehearsal: centre gateway down")
    try:
        decided = await handle.execute_update(
            FraudCheck.record_check_outcome,
            CheckOutcome(confirmed=False, evidence=["false alarm"], analyst="analyst-06"),
        )
        await env.sleep(timedelta(minutes=20))
        notice, call = await pending_notice(env, handle)
        assert call.activity == "inform_antifraud_centre" and call.attempt >= 3
        assert call.last_error and "unavailable" in call.last_error
        assert decided.outcome_at is not None
        assert timedelta(0) <= notice.pending_since - decided.outcome_at < timedelta(seconds=5)
        shown = notice.with_pending_call(call.attempt, call.last_error, call.next_attempt_at).describe()
        assert shown.startswith("pending since ") and f"attempts {call.attempt}" in shown and "unavailable" in shown
        assert (await handle.query(FraudCheck.case)).status == "not_confirmed_notice"
        assert messages_for_case(ack.case_id) == []

        await env.sleep(timedelta(hours=1))
        final = await handle.result()
        [notice] = final.notices
        assert notice.delivered_at is not None and notice.delivered_at >= outage_start + timedelta(hours=1)
        assert notice.delivered_at - (outage_start + timedelta(hours=1)) <= timedelta(minutes=10)  # back-off cap
        assert notice.attempts > call.attempt  # the attempt that got through, as Temporal counted it
        assert len(messages_for_case(ack.case_id)) == 1  # delivered once
        # The attempts cost no history: the notice is one scheduled activity however long the outage lasted.
        assert await scheduled(handle, "inform_antifraud_centre") == 1
        states = {d.key: d for d in await handle.query(FraudCheck.deadlines)}
        assert states["not_confirmed_notice"].status is DeadlineStatus.MET  # an hour is within 2 working days
    finally:
        outages.end("antifraud_centre")
    await save(handle, "centre_outage_recovered")


RETRY_CEILING = timedelta(hours=1)
"""The long outages' cases are registered with this ``outside_retry_ceiling``: a six-day outage is 150 attempts, each
a real call of the test's worker, where the default 5 minutes made it 1,700 (12 s of the suite's time a test)."""


async def confirmed_during_a_long_outage(
    env: WorkflowEnvironment,
    task_queue: str,
    system: str,
    breached: str,
    while_down: Callable[[WorkflowHandle], Awaitable[None]],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[WorkflowHandle, str]:
    """A confirmed case whose outside ``system`` is down for six days: past the term of ``breached`` the
    breach is recorded and escalated; the outage then ends and the act happens late, at the next attempt (the case
    keeps the retry ceiling of its registration, ``RETRY_CEILING``). Returns the case."""
    from infra.settings import settings

    received = await office_time(env)
    await sleep_until(env, received)
    monkeypatch.setenv("KZ_TIMINGS__OUTSIDE_RETRY_CEILING", "PT1H")
    settings.cache_clear()
    try:
        ack = await open_case(env, centre_information(new_number(), received), task_queue=task_queue)
    finally:
        monkeypatch.delenv("KZ_TIMINGS__OUTSIDE_RETRY_CEILING")
        settings.cache_clear()
    handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)
    outages.begin(system, await env.get_current_time(), timedelta(days=6), "long outage")
    try:
        decided = await handle.execute_update(
            FraudCheck.record_check_outcome,
            CheckOutcome(confirmed=True, evidence=["SIM box seized"], analyst="analyst-08"),
        )
        assert decided.outcome_at is not None
        await sleep_until(env, expected_due(decided.outcome_at) + timedelta(minutes=5))
        states = {d.key: d for d in await handle.query(FraudCheck.deadlines)}
        assert states[breached].status is DeadlineStatus.BREACHED and states[breached].escalated
        with session() as s:
            keys = {
                r.deadline_key
                for r in s.exec(
                    select(SupervisorNotification).where(SupervisorNotification.case_id == ack.case_id)
                ).all()
            }
        assert breached in keys
        await while_down(handle)
    finally:
        outages.end(system)
    await env.sleep(RETRY_CEILING + timedelta(minutes=15))
    late = {d.key: d for d in await handle.query(FraudCheck.deadlines)}[breached]
    assert late.status is DeadlineStatus.BREACHED and late.met_at is not None and (late.late_by_seconds or 0) > 0
    ceilings = {
        e.activity_task_scheduled_event_attributes.retry_policy.maximum_interval.ToTimedelta()
        for e in (await handle.fetch_history()).events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name != "notify_supervisor"
    }
    assert ceilings == {RETRY_CEILING}, ceilings  # every outside call; our own inbox keeps 5 minutes
    return handle, ack.case_id


async def test_centre_down_past_the_term_breaches_and_escalates_the_notice(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def notice_visibly_waiting(handle: WorkflowHandle) -> None:
        _notice, call = await pending_notice(env, handle)
        assert call.attempt > 5 and "unavailable" in (call.last_error or "")

    handle, case_id = await confirmed_during_a_long_outage(
        env, task_queue, "antifraud_centre", "suspension_notice", notice_visibly_waiting, monkeypatch
    )
    states = {d.key: d for d in await handle.query(FraudCheck.deadlines)}
    assert states["suspension"].status is DeadlineStatus.MET  # the network did its part
    assert (await handle.query(FraudCheck.case)).status == "suspended"
    assert [m.kind for m in messages_for_case(case_id)] == [NoticeKind.SUSPENSION]
    await handle.execute_update(
        FraudCheck.lift_suspension,
        LiftDecision(reason="gateway owner licensed as a call-termination partner", decided_by="head-of-antifraud"),
    )
    assert (await handle.result()).restoration is not None
    # Six days of attempts, yet two scheduled activities: the suspension notice and the restoration notice.
    assert await scheduled(handle, "inform_antifraud_centre") == 2
    await save(handle, "suspension_notice_breached")


async def test_a_centre_refusing_for_good_blocks_the_case_visibly_until_staff_resume(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    received = await office_time(env)
    await sleep_until(env, received)
    ack = await open_case(env, centre_information(new_number(), received), task_queue=task_queue)
    handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)
    outages.begin("antifraud_centre", await env.get_current_time(), None, "our certificate was revoked", permanent=True)
    try:
        await handle.execute_update(
            FraudCheck.record_check_outcome,
            CheckOutcome(confirmed=False, evidence=["a bank's own short number"], analyst="analyst-09"),
        )
        await env.sleep(timedelta(seconds=5))
        case = await handle.query(FraudCheck.case)
        assert case.status == "blocked" and case.blocked is not None
        assert case.blocked.what == "antifraud_centre" and "refuses the request permanently" in case.blocked.error
        assert case.blocked.status_before == "not_confirmed_notice"
        assert case.pending_events == ["resume_outside_step"]
        with session() as s:
            rows = s.exec(select(SupervisorNotification).where(SupervisorNotification.case_id == ack.case_id)).all()
        assert [r.deadline_key for r in rows] == ["blocked:antifraud_centre:0"]
        assert messages_for_case(ack.case_id) == [] and await pending_calls(env.client, handle.id) == []
    finally:
        outages.end("antifraud_centre")
    await handle.execute_update("resume_outside_step", ResumeRequest(by="duty officer", note="certificate renewed"))
    final = await handle.result()
    [notice] = final.notices
    assert notice.delivered_at is not None and [m.kind for m in messages_for_case(ack.case_id)] == [
        NoticeKind.NOT_CONFIRMED
    ]
    case = await handle.query(FraudCheck.case)
    assert case.blocked is None and case.outcome == "not_confirmed" and case.status == "closed"
    assert [b.resumed_by for b in case.blocked_steps] == ["duty officer"]
    await save(handle, "centre_refused_blocked_then_resumed")


async def test_network_down_past_the_term_breaches_and_escalates_the_suspension(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def not_suspended_yet(handle: WorkflowHandle) -> None:
        assert (await view(handle)).suspension is None  # not suspended, and visibly so

    handle, _ = await confirmed_during_a_long_outage(
        env, task_queue, "network", "suspension", not_suspended_yet, monkeypatch
    )
    assert (await view(handle)).suspension is not None
    await handle.execute_update(
        FraudCheck.lift_suspension,
        LiftDecision(reason="number owner proved a lawful call centre", decided_by="head-of-antifraud"),
    )
    assert (await handle.result()).restoration is not None


def write_sweep(path: Path, good: list[str]) -> dict[int, str]:
    """A sweep file with good numbers and bad lines; returns the bad lines' numbers and a word of why."""
    lines = ["number,signal,simbox,description", "# SIM-box sweep of the antifraud centre"]
    bad: dict[int, str] = {}
    for i, n in enumerate(good):
        lines.append(f"{n},call,yes,gateway #{i}")
        if i == 1:
            lines.append("+7 999 123,call,yes,not a number")
            bad[len(lines)] = "suspect_number"
        if i == 2:
            lines.append(f"{new_number()},call,maybe,")
            bad[len(lines)] = "simbox"
        if i == 3:
            lines.append(f"{good[0]},sms,no,repeated")
        if i == 4:
            lines.append(f"{new_number()},fax,no,")
            bad[len(lines)] = "signal"
    lines.append(f"{new_number()},call,yes,a,b")
    bad[len(lines)] = "columns"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return bad


async def test_bulk_file_with_bad_lines_and_rerun_creates_nothing_new(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    tmp_path: Path,
) -> None:
    good = [new_number() for _ in range(40)]
    already_open = good[5]
    now = await env.get_current_time()
    opened = await open_case(env, subscriber_report(already_open, now), task_queue=task_queue)
    sweep = tmp_path / "sweep-2026-11.csv"
    bad = write_sweep(sweep, good)
    ticks: list[int] = []
    total: list[int] = []

    result = await bulk_intake(
        env.client,
        sweep,
        sweep_id="sweep-2026-11",
        received_at=now,
        concurrency=8,
        task_queue=task_queue,
        progress=ticks.append,
        on_total=total.append,
    )
    assert sorted(line for line, _ in result.bad) == sorted(bad)
    for line, why in result.bad:
        assert bad[line] in why
    assert [(line, first) for line, first in result.repeated] == [(9, 3)]
    assert not result.failed
    assert (result.opened, result.joined, result.already) == (39, 1, 0)
    assert total == [40] and sum(ticks) == 40
    assert opened.case_id in result.case_ids.values()
    assert len(set(result.case_ids.values())) == 40
    joined = env.client.get_workflow_handle_for(FraudCheck.run, opened.case_id)
    assert len((await view(joined)).reports) == 2

    runs = {cid: (await env.client.get_workflow_handle(cid).describe()).run_id for cid in result.case_ids.values()}
    again = await bulk_intake(
        env.client, sweep, sweep_id="sweep-2026-11", received_at=now, concurrency=8, task_queue=task_queue
    )
    assert (again.opened, again.joined, again.already) == (0, 0, 40)
    assert sorted(again.bad) == sorted(result.bad)
    for cid, run_id in runs.items():
        assert (await env.client.get_workflow_handle_for(FraudCheck.run, cid).describe()).run_id == run_id
    assert len((await view(joined)).reports) == 2
    for cid in runs:  # centre information does not notify the centre back: nothing was sent
        assert messages_for_case(cid) == []
    with session() as s:
        rows = s.exec(select(StartLedger).where(col(StartLedger.source).startswith("bulk:sweep-2026-11"))).all()
        assert len(rows) == 40


async def refused(call: Awaitable[object]) -> str:
    """The reason the case gave for refusing an Update, with its causes (an argument the worker could not read is
    refused as "Failed decoding arguments", caused by the validation error)."""
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    reasons: list[str] = []
    cause: BaseException | None = info.value.cause
    while cause is not None:
        reasons.append(str(getattr(cause, "message", cause)))
        cause = cause.__cause__ if not isinstance(cause, FailureError) else cause.cause
    return ": ".join(reasons)


async def test_bad_input_and_out_of_turn_decisions_are_refused(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    number = new_number()
    now = await env.get_current_time()
    ack = await open_case(env, subscriber_report(number, now), task_queue=task_queue)
    handle = env.client.get_workflow_handle_for(FraudCheck.run, ack.case_id)
    # No evidence: refused by the model on the worker, never enters the history.
    why = await refused(
        handle.execute_update("record_check_outcome", {"confirmed": True, "evidence": [], "analyst": "x"})
    )
    assert "evidence" in why
    why = await refused(handle.execute_update(FraudCheck.lift_suspension, LiftDecision(reason="r", decided_by="b")))
    assert "no suspension to lift" in why
    why = await refused(handle.execute_update(FraudCheck.centre_information, centre_information(new_number(), now)))
    assert "another number" in why
    why = await refused(
        handle.execute_update(FraudCheck.subscriber_report, subscriber_report(number, now + timedelta(days=1)))
    )
    assert "in the future" in why
    await handle.execute_update(
        FraudCheck.record_check_outcome, CheckOutcome(confirmed=False, evidence=["none"], analyst="a")
    )
    why = await refused(
        handle.execute_update(
            FraudCheck.record_check_outcome, CheckOutcome(confirmed=True, evidence=["changed my mind"], analyst="a")
        )
    )
    assert "already recorded (not confirmed)" in why
    # the refusal carries its sentence (workflows.refusals): the console says it in its language
    with pytest.raises(WorkflowUpdateFailedError) as again:
        await handle.execute_update(FraudCheck.lift_suspension, LiftDecision(reason="r", decided_by="b"))
    problem = problem_from_temporal(again.value)
    assert problem.status == 409 and problem.detail.startswith("there is no suspension to lift (the case is at '")
    assert say("ru", problem.detail).startswith("нет приостановления, которое можно снять (статус дела: «")
    final = await handle.result()
    assert final.outcome is not None and not final.outcome.confirmed and len(final.reports) == 1
    history = await handle.fetch_history()
    accepted = [e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert len(accepted) == 2  # the opening report and the one valid outcome


def test_the_antifraud_centre_may_send_information_but_never_decide() -> None:
    centre = Role.operator("antifraud_centre")
    assert centre in SPEC.event("centre_information").roles
    assert centre not in SPEC.event("record_check_outcome").roles
    assert centre not in SPEC.event("lift_suspension").roles
    assert SPEC.event("record_check_outcome").roles == frozenset({Role.STAFF})


# --- through the HTTP API ---------------------------------------------------------------------------------

TASK_QUEUE = "fraud-api"
START = f"/v1/procedures/{SPEC.key}/cases"


@pytest.fixture
async def http(env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        procedures={SPEC.key: SPEC}, gateway=Gateway(client=env.client), task_queue=TASK_QUEUE, secret="test-secret"
    )
    async with (
        make_worker(env.client, task_queue=TASK_QUEUE, workflows=[FraudCheck]),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c,
    ):
        yield c


def key(role: str) -> dict[str, str]:
    org = "990340001230" if role.startswith("operator:") else None  # an operator system acts for its organisation
    return {"Authorization": f"Bearer {create_key(f'{role} (fraud api test)', [role], org)[0]}"}


def body(report: AnyReport) -> dict[str, Any]:
    return {"first": report.model_dump(mode="json")}


async def test_a_reference_is_its_senders_own_another_way_in_with_the_same_ref_is_another_report(
    env: WorkflowEnvironment, http: httpx.AsyncClient
) -> None:
    """The reference service's ref swallowed the centre's SIM-box report of the same ref ("duplicate", lost), or had
    it refused (409) when it was about another number, which also told the centre what the other ref was about (an
    adversarial run of 2026-12-04). A ref names one message of one kind of sender."""
    number, other, now = new_number(), new_number(), await env.get_current_time()
    staff, centre = key("staff"), key("operator:antifraud_centre")
    ref = opaque("nb-afc:", 10)
    first = await http.post(START, json=body(subscriber_report(number, now, ref=ref)), headers=staff)
    assert first.status_code == 201, first.text
    case_id = first.json()["case_id"]
    simbox = centre_information(number, now).model_copy(update={"ref": ref})
    joined = await http.post(START, json=body(simbox), headers=centre)
    assert joined.status_code == 200 and joined.json()["answer"] == "joined", joined.text
    handle = env.client.get_workflow_handle_for(FraudCheck.run, case_id)
    reports = (await handle.query(FraudCheck.fraud)).reports
    assert [(r.report.way_in.value, r.report.ref) for r in reports] == [
        ("subscriber_report", ref),
        ("centre_information", ref),
    ]
    again = await http.post(START, json=body(simbox), headers=centre)  # the centre's own retry: still once
    assert again.status_code == 200 and again.json()["answer"] == "duplicate"
    events = f"{START}/{case_id}/events/centre_information"
    resent = await http.post(events, json=simbox.model_dump(mode="json"), headers=centre)
    assert resent.status_code == 200 and resent.json()["result"]["answer"] == "duplicate", resent.text
    assert len((await handle.query(FraudCheck.fraud)).reports) == 2

    elsewhere = centre_information(other, now).model_copy(update={"ref": "rs:" + ref})
    taken = await http.post(START, json=body(subscriber_report(other, now, ref=elsewhere.ref)), headers=staff)
    assert taken.status_code == 201, taken.text
    # the centre's message of that text about a third number is its own: a case of its own, not a 409
    third = await http.post(
        START, json=body(elsewhere.model_copy(update={"suspect_number": new_number()})), headers=centre
    )
    assert third.status_code == 201 and third.json()["answer"] == "opened", third.text
    await save_golden(handle, "fraud_check", "same_ref_from_another_way_in_recorded")
    for case in (case_id, taken.json()["case_id"], third.json()["case_id"]):
        await stop(env.client.get_workflow_handle(case))


async def test_a_report_about_a_running_case_joins_it_and_one_after_it_closed_opens_a_new_check(
    env: WorkflowEnvironment, http: httpx.AsyncClient
) -> None:
    number, now = new_number(), await env.get_current_time()
    staff, centre = key("staff"), key("operator:antifraud_centre")

    first = await http.post(START, json=body(subscriber_report(number, now)), headers=staff)
    assert first.status_code == 201, first.text
    case_id = first.json()["case_id"]
    assert first.json()["answer"] == "opened"
    assert first.json()["result"] == {
        "case_id": case_id,
        "answer": "opened",
        "reports_in_case": 1,
        "status": "registered",
    }
    handle = env.client.get_workflow_handle_for(FraudCheck.run, case_id)
    first_run = (await handle.describe()).run_id

    joined = await http.post(START, json=body(centre_information(number, now)), headers=centre)
    assert joined.status_code == 200, joined.text
    assert joined.json()["case_id"] == case_id and joined.json()["answer"] == "joined"
    # an operator system reads nothing of the case: not how many reports it holds, nor where it stands
    assert joined.json()["result"] == {"case_id": case_id, "answer": "joined"}
    view = await handle.query(FraudCheck.fraud)
    assert [r.report.way_in.value for r in view.reports] == ["subscriber_report", "centre_information"]
    assert (await handle.describe()).run_id == first_run  # recorded in the running case, not dropped

    # The same report sent again is not recorded twice.
    again = await http.post(START, json=body(view.reports[1].report), headers=centre)
    assert again.status_code == 200 and again.json()["answer"] == "duplicate"
    assert len((await handle.query(FraudCheck.fraud)).reports) == 2

    outcome = await http.post(
        f"{START}/{case_id}/events/record_check_outcome",
        json={"confirmed": False, "evidence": ["no fraud pattern"], "analyst": "analyst-07"},
        headers=staff,
    )
    assert outcome.status_code == 200, outcome.text
    # the answer says where the case stands, with the number masked as the case view shows it (the Update's own
    # result, the whole fraud view, holds it in clear with the reports' numbers)
    assert outcome.json()["result"] == {
        "case_id": case_id,
        "number": masked_number(number),
        "check": 1,
        "status": "check",  # as the Update completed: the case closes after it
        "confirmed": False,
        "suspended": False,
        "lifted": False,
    }
    assert number not in outcome.text and number[1:] not in outcome.text
    closed = await until(handle.describe, lambda d: d.status is not WorkflowExecutionStatus.RUNNING)
    assert closed.status is WorkflowExecutionStatus.COMPLETED

    later = await http.post(START, json=body(subscriber_report(number, now)), headers=staff)
    assert later.status_code == 201, later.text
    assert later.json()["case_id"] == case_id and later.json()["answer"] == "opened"
    new_run = (await env.client.get_workflow_handle(case_id).describe()).run_id
    assert new_run != first_run  # a new check (171 p.119), not the closed case returned
    latest = env.client.get_workflow_handle_for(FraudCheck.run, case_id)
    assert [c.key for c in await latest.query(FraudCheck.deadlines)] == ["check"]
    await stop(latest)


async def test_a_report_dated_before_554_nk_added_chapter_3_is_refused_at_the_edge(
    env: WorkflowEnvironment, http: httpx.AsyncClient
) -> None:
    """171 ch.3 (p.116–120) and p.52(4)'s wording were added by 554/NK: "is some version of act 171 in force?" is not
    the question, "which paragraphs were in force on the day that governs this case?" is."""
    june_2025 = datetime(2025, 6, 16, 10, 0, tzinfo=ALMATY)
    number = new_number()
    r = await http.post(START, json=body(subscriber_report(number, june_2025)), headers=key("staff"))
    assert r.status_code == 422, r.text
    assert "171 p.119 does not apply on 2025-06-16" in r.json()["detail"]
    assert "applies from 2025-11-15" in r.json()["detail"]
    # no case was started under the number's id
    with pytest.raises(RPCError):
        await env.client.get_workflow_handle(fraud_case_id(number)).describe()
    # a report of the day 554/NK applies from is taken
    ok = await http.post(
        START,
        json=body(centre_information(new_number(), datetime(2025, 11, 15, 10, 0, tzinfo=ALMATY))),
        headers=key("operator:antifraud_centre"),
    )
    assert ok.status_code == 201, ok.text
    await stop(env.client.get_workflow_handle(ok.json()["case_id"]))


async def test_a_report_whose_ref_reads_as_a_phone_number_or_an_iin_is_refused_at_the_edge(
    env: WorkflowEnvironment, http: httpx.AsyncClient
) -> None:
    """A report's ``ref`` is its Update id, which Temporal stores in clear: one holding a phone number or an IIN
    (however written) is refused at the start and on the events route, never echoed; nothing reaches Temporal (the
    second adversarial run of 2026-12-03 found one in the server's database)."""
    number, now, staff = new_number(), await env.get_current_time(), key("staff")
    for ref, kind in (
        ("900101300126", "an IIN"),
        ("7-701-123-45-67", "a phone number"),
        ("tel:87011234567", "a phone"),
    ):
        r = await http.post(START, json=body(subscriber_report(number, now, ref=ref)), headers=staff)
        assert r.status_code == 422 and f"the report's ref holds what reads as {kind}" in r.json()["detail"], r.text
        assert ref not in r.text
    with pytest.raises(RPCError):
        await env.client.get_workflow_handle(fraud_case_id(number)).describe()
    opened = await http.post(
        START, json=body(subscriber_report(number, now, ref="crm:2026-12-03:000123")), headers=staff
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    joining = subscriber_report(number, now, ref="900101300126").model_dump(mode="json")
    r = await http.post(f"{START}/{case_id}/events/subscriber_report", json=joining, headers=staff)
    assert r.status_code == 422 and "holds what reads as an IIN" in r.text and "900101300126" not in r.text, r.text
    await stop(env.client.get_workflow_handle(case_id))


async def test_a_reference_taken_for_another_number_is_refused_not_answered_duplicate(
    env: WorkflowEnvironment, http: httpx.AsyncClient
) -> None:
    """The start ledger knows a report by its reference: the same reference about another number was answered
    "duplicate" with the first number's case, and the report was lost (the third adversarial run of 2026-12-03). It
    is refused (409), naming neither case; the same report sent again is still a duplicate."""
    first, second, now, staff = new_number(), new_number(), await env.get_current_time(), key("staff")
    ref = opaque("xref-", 10)
    opened = await http.post(START, json=body(subscriber_report(first, now, ref=ref)), headers=staff)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    again = await http.post(START, json=body(subscriber_report(first, now, ref=ref)), headers=staff)
    assert again.status_code == 200 and again.json()["answer"] == "duplicate"
    other = await http.post(START, json=body(subscriber_report(second, now, ref=ref)), headers=staff)
    assert other.status_code == 409 and "a reference names one message" in other.text, other.text
    assert case_id not in other.text
    with pytest.raises(RPCError):
        await env.client.get_workflow_handle(fraud_case_id(second)).describe()
    await stop(env.client.get_workflow_handle(case_id))


async def test_the_events_route_knows_a_reference_as_the_start_route_does(
    env: WorkflowEnvironment, http: httpx.AsyncClient
) -> None:
    """A report joining a case through its events route did not consult the start ledger nor write to it: a ref
    taken in about one number joined another's case, and a ref first sent there was then taken in about another
    number as well (an adversarial run, 2026-12-04). Now both routes know a ref as one message."""
    a, b, now, staff = new_number(), new_number(), await env.get_current_time(), key("staff")
    case_a = (await http.post(START, json=body(subscriber_report(a, now)), headers=staff)).json()["case_id"]
    case_b = (await http.post(START, json=body(subscriber_report(b, now)), headers=staff)).json()["case_id"]
    taken = opaque("xref-", 10)
    r = await http.post(START, json=body(subscriber_report(a, now, ref=taken)), headers=staff)
    assert r.status_code == 200 and r.json()["answer"] == "joined", r.text

    def joining(number: str, ref: str) -> dict[str, Any]:
        return subscriber_report(number, now, ref=ref).model_dump(mode="json")

    r = await http.post(f"{START}/{case_b}/events/subscriber_report", json=joining(b, taken), headers=staff)
    assert r.status_code == 409 and "a reference names one message" in r.text and case_a not in r.text, r.text
    r = await http.post(
        f"{START}/{case_b}/events/subscriber_report", json=joining(a, "xref-other-number"), headers=staff
    )
    assert r.status_code == 422 and "another number than this case" in r.text, r.text
    fresh = opaque("xref-", 10)
    r = await http.post(f"{START}/{case_b}/events/subscriber_report", json=joining(b, fresh), headers=staff)
    assert r.status_code == 200 and r.json()["result"]["answer"] == "joined", r.text
    r = await http.post(START, json=body(subscriber_report(a, now, ref=fresh)), headers=staff)
    assert r.status_code == 409 and case_b not in r.text, r.text
    r = await http.post(START, json=body(subscriber_report(b, now, ref=fresh)), headers=staff)
    assert r.status_code == 200 and r.json()["answer"] == "duplicate", r.text
    assert len((await view(env.client.get_workflow_handle(case_a))).reports) == 2
    for case_id in (case_a, case_b):
        await stop(env.client.get_workflow_handle(case_id))


async def test_a_reference_never_reaches_the_history_in_clear_and_one_taken_before_still_is_a_duplicate(
    env: WorkflowEnvironment, http: httpx.AsyncClient
) -> None:
    """Temporal keeps an Update id in clear, and the Update id was the report's ref: an IIN split in halves
    (``rs-900101_300017``) or a number with a digit joined passed the ref check and were found in the server's
    database (an adversarial run, 2026-12-04). The Update id is a keyed hash of the ref (``message_id``); the ref
    travels only inside the encrypted report. A message the ledger recorded under its ref, before the ids were
    keyed, is still answered "duplicate"."""
    from infra.db import session
    from models.tables import StartLedger

    number, now, staff = new_number(), await env.get_current_time(), key("staff")
    ref = f"rs-900101_{_rng.randrange(10**6):06d}"
    opened = await http.post(START, json=body(subscriber_report(number, now, ref=ref)), headers=staff)
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    handle = env.client.get_workflow_handle(case_id)
    history = (await handle.fetch_history()).to_json()
    assert message_id(ref, "subscriber_report") in history and ref not in history and ref.split("_")[1] not in history
    again = await http.post(START, json=body(subscriber_report(number, now, ref=ref)), headers=staff)
    assert again.status_code == 200 and again.json()["answer"] == "duplicate"
    # taken before the ids were keyed: the ledger holds the ref itself, and a closed case would otherwise open anew
    await stop(handle)
    old_ref = opaque("old-", 10)
    with session() as s:
        s.add(StartLedger(procedure="fraud_check", message_id=old_ref, event="subscriber_report", case_id=case_id,
                          answer="opened", source="before keyed ids"))  # fmt: skip
    old = await http.post(START, json=body(subscriber_report(number, now, ref=old_ref)), headers=staff)
    assert old.status_code == 200 and old.json() == {**old.json(), "answer": "duplicate", "case_id": case_id}


async def test_a_report_dated_in_the_future_is_refused_at_the_edge(
    env: WorkflowEnvironment, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.settings import settings

    monkeypatch.setattr(settings(), "future_tolerance_seconds", 300.0)
    number = new_number()
    later = datetime.now(UTC) + timedelta(minutes=6)
    r = await http.post(START, json=body(subscriber_report(number, later)), headers=key("staff"))
    assert r.status_code == 422 and "in the future" in r.json()["detail"], r.text
    with pytest.raises(RPCError):
        await env.client.get_workflow_handle(fraud_case_id(number)).describe()


def test_a_start_carries_one_report_never_what_the_case_writes_when_it_continues() -> None:
    """``cycle``, ``carried`` and ``state`` are written by the case when it continues as new: sent with a start,
    they would record reports without an event's checks (a report its sender may not send, another number)."""
    first = subscriber_report(new_number(), datetime.now(UTC))
    assert SPEC.intake_check is not None
    SPEC.intake_check(FraudCaseInput(first=first))
    own: dict[str, Any] = {"cycle": 1, "carried": [], "state": None}
    state = FraudState.model_construct()  # type: ignore[call-arg]  # only its presence is checked
    for extra in ({"cycle": 2}, {"carried": [first]}, {"state": state}):
        with pytest.raises(ValueError, match="the case's own"):
            SPEC.intake_check(FraudCaseInput.model_construct(first=first, **{**own, **extra}))
    # sent at their defaults too (found by an adversarial review: "cycle": 1, "carried": [], "state": null passed)
    for name, value in own.items():
        sent = FraudCaseInput.model_validate({"first": first.model_dump(mode="json"), name: value})
        with pytest.raises(ValueError, match="the case's own"):
            SPEC.intake_check(sent)
