"""What every case does with the law (``workflows/case.py``, ``workflows/clock.py``): it keeps the law of its
governing day, an amended term never reaches it through a calendar correction, a correction that moves nothing
records nothing, and only a recorded law migration moves it onto a new version. Shown on fraud cases (171 ch.3)
against the time-skipping server and the real calendar, with an amended act 171 in a temporary law file."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.cases import _problem, timeline
from api.i18n import say
from cli.law_changes import calendar_moves, law_moves, send_law_migration
from infra.calendar import CALENDAR_FILE_INVALID, current_calendar
from infra.cases import CaseError, case_view, send_event, start_case
from infra.db import session
from models import search_attributes as sa
from models.case import CaseView, LawMigration, ResumeRequest
from models.deadlines import CalendarCorrection, CorrectionResult, DeadlineState
from models.fraud_check import CheckOutcome, FraudCaseInput, SubscriberReport
from models.tables import SupervisorNotification
from rules.calendar import ALMATY
from tests.cases import stop
from tests.conftest import OVERRIDES
from tests.golden_tools import save_golden
from tests.laws import amended_171, use_law
from tests.refs import opaque
from tests.subscribers import until
from worker import make_worker
from workflows.fraud_check import SPEC, FraudCheck

_rng = random.Random()
AMENDMENT = "171/test-amendment"


def report(received_at: datetime) -> SubscriberReport:
    return SubscriberReport(
        ref=opaque("ref-service:"),
        suspect_number=f"+7708{_rng.randrange(10**7):07d}",
        reporter_number=f"+7707{_rng.randrange(10**7):07d}",
        received_at=received_at,
        signal="sms",
        description="SMS: 'your card is blocked'",
    )


@pytest.fixture
async def cases(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[list[str]]:
    """A worker for the test; cases it leaves open are terminated after it (a timer with no worker would stall
    the time-skipping server for later tests)."""
    opened: list[str] = []
    async with make_worker(env.client, task_queue=task_queue, workflows=[FraudCheck]):
        yield opened
        for case_id in opened:
            await stop(env.client.get_workflow_handle(case_id))


async def open_case(
    env: WorkflowEnvironment, task_queue: str, opened: list[str], at: datetime, first: SubscriberReport | None = None
) -> WorkflowHandle:
    first = first or report(at)
    started = await start_case(env.client, SPEC, FraudCaseInput(first=first), task_queue=task_queue)
    opened.append(started.case_id)
    handle = env.client.get_workflow_handle_for(FraudCheck.run, started.case_id)
    for _ in range(200):
        if await handle.query(FraudCheck.deadlines):
            break
        await env.sleep(timedelta(milliseconds=50))
    return handle


async def check(handle: WorkflowHandle) -> DeadlineState:
    [state] = [s for s in await handle.query(FraudCheck.deadlines) if s.key == "check"]
    return state


def working_days_after(day: date, n: int) -> datetime:
    return datetime.combine(current_calendar().add_working_days(day, n), time(18, 30), tzinfo=ALMATY)


async def test_an_amended_term_reaches_a_running_case_only_through_a_recorded_law_migration(
    env: WorkflowEnvironment, task_queue: str, cases: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = await env.get_current_time()
    today = now.astimezone(ALMATY).date()
    running = await open_case(env, task_queue, cases, now)
    before = await check(running)
    assert before.deadline.amount == 2 and before.due == working_days_after(today, 2)
    registration = (await case_view(env.client, running.id)).registration
    assert registration is not None and registration.terms["fraud.check"].amount == 2

    # An amendment (fraud.check 2 → 3 working days) in force from today lands in the law files.
    use_law(monkeypatch, amended_171(tmp_path, in_force_from=today, check_days=3, version=AMENDMENT))

    # A calendar correction that moves nothing: nothing is recorded, the running case keeps its law.
    cal = current_calendar()
    assert calendar_moves(await case_view(env.client, running.id), cal).moves == []
    result = await running.execute_update(
        FraudCheck.apply_calendar_correction,
        CalendarCorrection(reason="nothing changed", calendar_version=cal.version),
        result_type=CorrectionResult,
    )
    assert result.changed == [] and result.unchanged == ["check"] and not result.refused
    after_correction = await check(running)
    assert after_correction.due == before.due and after_correction.changes == []
    history = [e async for e in running.fetch_history_events()]
    accepted = max(
        i for i, e in enumerate(history) if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    )
    recorded_after = {e.event_type for e in history[accepted:]}
    assert EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED not in recorded_after  # no memo rewritten
    assert EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES not in recorded_after

    # A worker whose calendar is not the one the operator intends refuses the correction and changes nothing.
    refused = await running.execute_update(
        FraudCheck.apply_calendar_correction,
        CalendarCorrection(reason="another calendar", calendar_version="holidays-0.0+overrides-000000000000"),
        result_type=CorrectionResult,
    )
    assert "not the intended" in refused.refused and refused.changed == []
    # through the API, the console or `case send` that refusal is the answer (422), not a 200 read as done
    with pytest.raises(CaseError) as at_the_edge:
        other = CalendarCorrection(reason="another calendar", calendar_version="holidays-0.0+overrides-111111111111")
        await send_event(env.client, SPEC, SPEC.event("apply_calendar_correction"), running.id, other)
    assert at_the_edge.value.kind == "refused" and _problem(at_the_edge.value).response().status_code == 422
    assert "the case refused apply_calendar_correction: this worker computes with calendar" in at_the_edge.value.message
    assert say("ru", at_the_edge.value.message).startswith("дело отклонило apply_calendar_correction: ")

    # A case registered under the amendment counts 3 working days.
    newer = await open_case(env, task_queue, cases, now)
    fresh = await check(newer)
    assert fresh.deadline.amount == 3 and fresh.due == working_days_after(today, 3)

    # The dry run lists the running case and its due instant's old and new value, before anything is sent.
    plan = law_moves(await case_view(env.client, running.id), cal, "171", AMENDMENT)
    assert plan is not None and [(m.key, m.old_due, m.new_due) for m in plan.moves] == [
        ("check", before.due, working_days_after(today, 3))
    ]
    assert law_moves(await case_view(env.client, newer.id), cal, "171", AMENDMENT) is None  # under it already

    # What staff typed is checked as every edge checks it, before anything is sent: a reason holding U+202E
    # reached three cases' records through the command line while the API refused it (an adversarial run).
    hidden = LawMigration(to_version=AMENDMENT, reason="Order \u202e621-KN", decided_by="supervisor-1")
    with pytest.raises(ValueError, match=r"reason: holds the invisible character U\+202E.*nothing sent"):
        await send_law_migration(env.client, [running.id], hidden)
    assert (await case_view(env.client, running.id)).registration.migrations == []  # type: ignore[union-attr]

    # The migration itself: recorded with old and new values, the case's law now the amendment's.
    migration = LawMigration(to_version=AMENDMENT, reason="test amendment of p.119", decided_by="supervisor-1")
    [outcome] = await send_law_migration(env.client, [running.id], migration)
    assert (outcome.moved, outcome.error) == (1, "")
    moved = await check(running)
    assert moved.due == working_days_after(today, 3) and moved.deadline.amount == 3
    [change] = moved.changes
    assert (change.old_due, change.new_due) == (before.due, moved.due)
    assert change.reason == f"law migration to {AMENDMENT}: test amendment of p.119"
    view = await case_view(env.client, running.id)
    assert view.registration is not None and view.registration.act_version_id == AMENDMENT
    [record] = view.registration.migrations
    assert (record.from_version, record.to_version, record.decided_by) == ("171/554-NK-2025", AMENDMENT, "supervisor-1")
    # Sent again (a later sending): refused by the case, under the version already; taken once.
    [again] = await send_law_migration(env.client, [running.id], migration)
    assert again.moved == 0 and f"under {AMENDMENT} already" in again.error
    assert len((await check(running)).changes) == 1

    await running.execute_update(
        FraudCheck.record_check_outcome, CheckOutcome(confirmed=False, evidence=["none"], analyst="analyst-1")
    )
    await running.result()
    await save_golden(running, "fraud_check", "law_migration")


async def test_a_migration_refused_by_a_worker_behind_on_the_law_is_taken_when_sent_again(
    env: WorkflowEnvironment, task_queue: str, cases: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent while the worker's law files did not hold the version yet, a migration was refused and recorded; sent
    again once they did, Temporal answered the recorded refusal (the Update id was the version's alone), so those
    cases could never move (an adversarial run, 2026-12-03). Each sending has ids of its own now."""
    now = await env.get_current_time()
    today = now.astimezone(ALMATY).date()
    running = await open_case(env, task_queue, cases, now)
    migration = LawMigration(to_version=AMENDMENT, reason="amendment of p.119", decided_by="supervisor-1")
    [refused] = await send_law_migration(env.client, [running.id], migration)
    assert refused.moved == 0 and AMENDMENT in refused.error  # the worker does not know the version
    use_law(monkeypatch, amended_171(tmp_path, in_force_from=today, check_days=3, version=AMENDMENT))
    [taken] = await send_law_migration(env.client, [running.id], migration)
    assert (taken.moved, taken.error) == (1, "")
    moved = await check(running)
    assert moved.deadline.amount == 3 and moved.due == working_days_after(today, 3)
    view = await case_view(env.client, running.id)
    assert view.registration is not None and view.registration.act_version_id == AMENDMENT


async def test_a_migration_onto_a_version_without_the_cases_procedure_is_refused_and_the_dry_run_says_so(
    env: WorkflowEnvironment, task_queue: str, cases: list[str]
) -> None:
    """171/2015 predates ch.3 (p.116–120): a fraud case moved onto it lost every term value it counts by and went on
    suspending numbers under a paragraph its version did not have (an adversarial run, 2026-12-03). The dry run names
    the case as one that would refuse; sent anyway, the case refuses and keeps its law."""
    now = await env.get_current_time()
    opening = report(now)
    running = await open_case(env, task_queue, cases, now, opening)
    before = await check(running)
    plan = law_moves(await case_view(env.client, running.id), current_calendar(), "171", "171/2015")
    assert plan is not None and plan.moves == []
    assert "would refuse it: 171/2015 gives none of the terms the case counts by" in plan.problem
    migration = LawMigration(to_version="171/2015", reason="back to the old order", decided_by="supervisor-1")
    # through the API or `case send` the edge refuses it (422) before anything reaches the case; the API answered
    # 200 with the refusal the case had recorded
    for version, why in (("171/2015", "gives none of the terms"), ("171/2099", "known: 171/2015")):
        with pytest.raises(CaseError) as at_the_edge:
            attempt = migration.model_copy(update={"to_version": version})
            await send_event(env.client, SPEC, SPEC.event("migrate_law"), running.id, attempt)
        assert at_the_edge.value.kind == "refused" and why in at_the_edge.value.message
        assert _problem(at_the_edge.value).response().status_code == 422
        # a supervisor's console says it in its language (rules.text.Sentence), the API in English as above
        said = say("ru", at_the_edge.value.message)
        assert said.startswith("отказано: to_version: ") and why not in said and version in said
    [refused] = await send_law_migration(env.client, [running.id], migration)
    assert refused.moved == 0 and "its procedure does not run under that version" in refused.error
    # the console's timeline shows the case's refusal, where it said "event taken" (the same adversarial run)
    entries = await timeline(env.client, running.id, await case_view(env.client, running.id))
    [answered] = [e for e in entries if e.name == "migrate_law" and e.kind.startswith("event_")]
    assert answered.kind == "event_failed" and "gives none of the terms" in answered.detail, answered
    # A report dated before ch.3 applied, refused when it opens a case, was taken when it joined one through the
    # events route (the same adversarial run): refused there too, as at the start.
    number = opening.suspect_number
    old = report(datetime(2025, 1, 1, 10, tzinfo=ALMATY)).model_copy(update={"suspect_number": number})
    with pytest.raises(CaseError) as before_ch3:
        await send_event(env.client, SPEC, SPEC.event("subscriber_report"), running.id, old)
    assert before_ch3.value.kind == "refused" and "does not apply on 2025-01-01" in before_ch3.value.message
    later = report(now).model_copy(update={"suspect_number": number})
    joined = await send_event(env.client, SPEC, SPEC.event("subscriber_report"), running.id, later)
    assert joined.result["answer"] == "joined"
    view = await case_view(env.client, running.id)
    assert view.registration is not None and view.registration.act_version_id == "171/554-NK-2025"
    assert set(view.registration.terms) == set(FraudCheck.TERMS) and view.registration.migrations == []
    assert (await check(running)).due == before.due


async def test_fraud_terms_run_from_the_day_after_the_receipt_without_an_after_hours_roll(
    env: WorkflowEnvironment, task_queue: str, cases: list[str]
) -> None:
    """171 ch.3 counts from the receipt of the report (Civil Code: from the next day), whatever its hour: a report
    on Monday at 19:00 is checked by Wednesday 18:30 (Tuesday is day 1); one on Saturday by Tuesday 18:30."""
    cal = current_calendar()
    day = (await env.get_current_time()).astimezone(ALMATY).date() + timedelta(days=1)
    working = (0, 1, 2, 3, 4, 7, 8)  # Monday to Friday, and the next Monday and Tuesday
    while not (day.weekday() == 0 and all(cal.is_working_day(day + timedelta(days=i)) for i in working)):
        day += timedelta(days=1)
    monday_evening = datetime.combine(day, time(19, 0), tzinfo=ALMATY)
    await env.sleep(monday_evening - await env.get_current_time())  # the report comes in then
    monday = await open_case(env, task_queue, cases, monday_evening)
    assert (await check(monday)).due == datetime.combine(day + timedelta(days=2), time(18, 30), tzinfo=ALMATY)
    assert (await check(monday)).deadline.after_hours_roll is None
    saturday = day + timedelta(days=5)
    saturday_morning = datetime.combine(saturday, time(11, 0), tzinfo=ALMATY)
    await env.sleep(saturday_morning - await env.get_current_time())
    on_saturday = await open_case(env, task_queue, cases, saturday_morning)
    next_tuesday = datetime.combine(saturday + timedelta(days=3), time(18, 30), tzinfo=ALMATY)
    assert (await check(on_saturday)).due == next_tuesday


async def until_blocked(handle: WorkflowHandle, env: WorkflowEnvironment) -> CaseView:
    for _ in range(200):
        view = await case_view(env.client, handle.id)
        if view.blocked is not None:
            return view
        await env.sleep(timedelta(milliseconds=100))
    raise AssertionError(f"case {handle.id} did not block: {view.status}")


async def test_16_6_a_broken_calendar_file_blocks_cases_visibly_until_it_is_mended_and_staff_resume(
    env: WorkflowEnvironment, task_queue: str, cases: list[str]
) -> None:
    """A typo in the override file while cases run: a case that must count a term, and a case started behind the
    edge's back (the Temporal CLI), each show ``blocked`` with the file's error and the supervisor is told; once the
    file is mended and staff resume, both go on. Nothing is failed, nothing retries unseen."""
    now = await env.get_current_time()
    running = await open_case(env, task_queue, cases, now)
    good = OVERRIDES.read_text()
    OVERRIDES.write_text(good + "\n[[day_off]]\ndate = 2027-03-23\n")  # no reason: invalid
    try:
        await running.execute_update(
            FraudCheck.record_check_outcome, CheckOutcome(confirmed=True, evidence=["a call script"], analyst="a-1")
        )
        blocked = await until_blocked(running, env)
        assert blocked.status == "blocked" and blocked.blocked is not None
        assert blocked.blocked.what == "deadlines" and blocked.blocked.error_type == CALENDAR_FILE_INVALID
        assert str(OVERRIDES) in blocked.blocked.error and "needs a reason" in blocked.blocked.error
        assert blocked.pending_events == ["resume_outside_step"]

        fresh = await env.client.start_workflow(
            FraudCheck.run,
            FraudCaseInput(first=report(now)),
            id=f"fraud_check-t{random.randrange(10**9)}",
            task_queue=task_queue,
        )
        cases.append(fresh.id)
        new = await until_blocked(fresh, env)
        assert new.blocked is not None and new.blocked.what == "registration" and new.registration is None

        async def told_so_far() -> list[SupervisorNotification]:
            with session() as s:
                return list(s.exec(select(SupervisorNotification).where(SupervisorNotification.case_id == fresh.id)))

        # the case shows itself blocked, then tells the supervisor in an activity of its own
        told = await until(told_so_far, bool)
        assert [n.deadline_key for n in told] == ["blocked:registration:0"]
        for handle in (running, fresh):  # published: a refused computation does not hold the case's record back
            described = await handle.describe()
            assert described.typed_search_attributes.get(sa.STATUS) == "blocked", handle.id
    finally:
        OVERRIDES.write_text(good)
    for handle in (running, fresh):
        await handle.execute_update("resume_outside_step", ResumeRequest(by="duty officer", note="file mended"))
    for _ in range(200):
        views = [await case_view(env.client, h.id) for h in (running, fresh)]
        if all(v.blocked is None and v.status != "blocked" for v in views) and "suspension" in {
            d.key for d in views[0].deadlines
        }:
            break
        await env.sleep(timedelta(milliseconds=100))
    assert views[0].status in {"suspending", "suspended"} and [b.what for b in views[0].blocked_steps] == ["deadlines"]
    assert views[1].registration is not None and {d.key for d in views[1].deadlines} == {"check"}
