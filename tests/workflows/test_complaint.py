"""Complaint appeals on the time-skipping server with the real calendar."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.case import ACTION_CASE_CLOSED, CaseView, ResumeRequest
from models.complaint import Appealed, ComplaintInput, ForwardRequest, ReviewDecision, Satisfaction, Withdrawal
from models.deadlines import DeadlineStatus
from models.documents import RenderDocumentRequest
from models.egov_number_connection import Channel, EgovConnectionInput
from models.fraud_check import FraudCaseInput, SubscriberReport
from models.tables import ComplaintForward, PersonalAccountDelivery, SmsOutbox, SupervisorNotification
from rules.calendar import ALMATY, WorkingCalendar, almaty_text
from tests.cases import ending_leftovers, stop
from tests.conftest import time_skipping_server
from tests.refs import opaque
from tests.subscribers import new_phone, person
from tests.workflows.probes import AppealedCase, AppealedInput
from workflows.catalogue import WORKFLOWS
from workflows.complaint import SPEC, Complaint
from workflows.egov_number_connection import SPEC as EGOV_SPEC
from workflows.fraud_check import SPEC as FRAUD_SPEC
from workflows.outside import DEFAULT_TIMINGS

with workflow.unsafe.imports_passed_through():
    from sqlmodel import select

    from adapters.local_ca import local_ca, verify_cms
    from audit.history import parse_history
    from audit.report import build_report, render_report_html
    from infra import outages
    from infra.cases import CaseError, pending_calls, start_case
    from infra.client import data_converter
    from infra.db import session
    from infra.pseudonym import pseudonym
    from infra.store import load_document
    from tests.golden_tools import save_golden
    from worker import make_worker

CAL = WorkingCalendar()
IIN = "900101300126"
HEAD = "Head of the Telecommunications Committee"
AUTHORISED = "Authorised official of the Telecommunications Committee"
BODY = "Official of the body considering the complaint"


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server per test here, not per module. In about one full run in three (2026-12-04) a test of
    this module left its server's clock locked as it ended, with no case, activity or workflow task in flight to
    show for it; every later test's sleep then failed ("h2 protocol error", "Timeout expired"). A test's server ends
    with it (a quarter of a second each), so a clock one test locked stops no other."""
    async with time_skipping_server() as e:
        yield e


@pytest.fixture
async def worker(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[Worker]:
    async with (
        make_worker(env.client, task_queue=task_queue, workflows=[*WORKFLOWS, AppealedCase]) as w,
        ending_leftovers(env.client),
    ):
        yield w


def complaint(received_at: datetime, **kw: object) -> ComplaintInput:
    data: dict[str, object] = {
        "complaint_number": f"KZ-C-{uuid.uuid4().hex[:8]}",
        "complainant": {"full_name": "Асанов Асан Асанович", "iin": IIN, "phone": "+77011234567"},
        "appealed": "decision",
        "description": "The permit was refused without a hearing",
        "request": "Reconsider the application",
        "addressed_to": "provider",
        "received_at": received_at.isoformat(),
    }
    data.update(kw)
    return ComplaintInput.model_validate(data)


async def start(env: WorkflowEnvironment, task_queue: str, inp: ComplaintInput) -> WorkflowHandle:
    return await env.client.start_workflow(
        Complaint.run, inp, id=f"complaint-{uuid.uuid4().hex[:12]}", task_queue=task_queue
    )


async def start_appealed(
    env: WorkflowEnvironment, task_queue: str, received_at: datetime, runs_left: int = 0
) -> WorkflowHandle:
    return await env.client.start_workflow(
        AppealedCase.run,
        AppealedInput(received_at=received_at, runs_left=runs_left),
        id=f"appealed-{uuid.uuid4().hex[:12]}",
        task_queue=task_queue,
    )


async def view(handle: WorkflowHandle) -> CaseView:
    return await handle.query("case", result_type=CaseView)


async def until(
    env: WorkflowEnvironment, handle: WorkflowHandle, ready: Callable[[CaseView], bool], what: str
) -> CaseView:
    """The case's view once ``ready``, however long the worker took on a busy machine (the clock moved by seconds)."""
    for _ in range(600):
        await env.sleep(timedelta(seconds=1))
        if ready(v := await view(handle)):
            return v
        await asyncio.sleep(0.05)
    raise AssertionError(f"{handle.id}: {what} never came")


async def registered(env: WorkflowEnvironment, handle: WorkflowHandle) -> CaseView:
    """The case once registered: its registration ran."""
    return await until(env, handle, lambda v: v.registration is not None, "registration")


async def forwarded_and_upheld(env: WorkflowEnvironment, handle: WorkflowHandle, reasons: str) -> dict[str, Any]:
    """Forward the complaint, uphold it with a "reopen" instruction, and return its result."""
    await handle.execute_update("forward", ForwardRequest(forwarded_by="Head of department"))
    await until(env, handle, lambda v: v.status == "under_review", "the forwarding")
    decision = ReviewDecision(outcome="upheld", reasons=reasons, decided_by="Vice-minister", instruction="reopen")
    await handle.execute_update("review_decision", decision)
    return dict(await handle.result())


async def administrative_case_run(handle: WorkflowHandle) -> str:
    """The run the complaint's administrative case was generated from (its manifest)."""
    [admin_case] = [d for d in (await view(handle)).documents if d.kind == "administrative_case"]
    doc = load_document(admin_case.doc_id)
    assert doc is not None
    with zipfile.ZipFile(io.BytesIO(doc.content)) as bundle:
        return str(json.loads(bundle.read("manifest.json"))["generated_from"]["run_id"])


async def open_for_decisions(env: WorkflowEnvironment, handle: WorkflowHandle) -> CaseView:
    """The complaint once its office has opened on its registration day (a moment after its receipt when that is
    later): a provider's decision before then is carried out only then (665/NK p.6), and the tests here receive
    complaints ahead of the server's clock, on a working morning."""
    v = await registered(env, handle)
    assert v.registration is not None and v.details["received_at"]
    opens = max(
        datetime.fromisoformat(v.details["received_at"]),
        v.registration.results_from or datetime.min.replace(tzinfo=UTC),
    )
    await env.sleep(max(opens - await env.get_current_time(), timedelta()) + timedelta(seconds=2))
    return v


def at_office(day: date, hour: int = 11) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ALMATY)


async def next_working_morning(env: WorkflowEnvironment) -> datetime:
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    return at_office(CAL.add_working_days(today, 1), 10)


def signed_and_delivered(doc_id: str, signer: str) -> str:
    """The document's text once its detached CMS signature verified against the local NCA as ``signer``'s and it was
    put in the complainant's personal account (the account the state registries give the IIN)."""
    doc = load_document(doc_id)
    assert doc is not None and doc.signature is not None, f"{doc_id} is not signed"
    assert signer in verify_cms(doc.content, doc.signature, local_ca().root.cert).subject
    with session() as s:
        delivery = s.get(PersonalAccountDelivery, doc_id)
    assert delivery is not None and delivery.recipient == pseudonym("applicant", IIN), f"{doc_id} is not delivered"
    return doc.content.decode()


async def refused_permit(env: WorkflowEnvironment, task_queue: str, received: datetime) -> WorkflowHandle:
    """A permit case refused to consider further (665/NK p.6), waiting in its complaint window."""
    from models.mvno_permit import CompletenessDecision
    from tests.workflows.permit_cases import application, start_permit_case
    from workflows.mvno_permit import MvnoPermit

    permit = await start_permit_case(env.client, application(received), task_queue)
    for _ in range(100):
        if "completeness_decision" in (await view(permit)).pending_events:
            break
        await env.sleep(timedelta(seconds=1))
    await env.sleep(received - await env.get_current_time())  # nothing is decided before the receipt (14 item 1)
    await permit.execute_update(
        MvnoPermit.completeness_decision,
        CompletenessDecision(complete=False, reasons=["the information form is missing"], decided_by="A. Sadykova"),
    )
    for _ in range(100):
        if (await view(permit)).pending_events == ["reopen"]:
            break
        await env.sleep(timedelta(seconds=1))
    assert (await view(permit)).status != "completeness_check"
    return permit


async def test_satisfied_within_three_days_is_not_forwarded(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    received = await next_working_morning(env)
    handle = await start(env, task_queue, complaint(received))
    await env.sleep(received - await env.get_current_time() + timedelta(days=1))
    await handle.execute_update(
        "satisfy",
        Satisfaction(decided_by="Head of department", action_taken="The application is accepted for a new check"),
    )
    result = await handle.result()
    assert result["satisfied"] and result["forwarded_at"] is None
    v = await view(handle)
    assert v.outcome == "satisfied" and v.closed
    states = {s.key: s for s in v.deadlines}
    assert states["forward"].status is DeadlineStatus.MET
    assert states["review"].status is DeadlineStatus.CANCELLED
    with session() as s:
        assert s.get(ComplaintForward, handle.id) is None
        sms = s.exec(select(SmsOutbox).where(SmsOutbox.case_id == handle.id)).all()
    assert len(sms) == 1 and sms[0].to == "+77011234567"
    doc = load_document(f"{handle.id}/satisfied")
    assert doc is not None
    html = doc.content.decode()
    assert "Асанов Асан Асанович" in html and "Жалоба удовлетворена" in html and "10-т." in html
    await save_golden(handle, "complaint", "satisfied")


async def test_16_11_a_running_case_keeps_the_auto_forward_margin_of_its_registration(
    env: WorkflowEnvironment, task_queue: str, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator changes the auto-forward margin (``KZ_TIMINGS__AUTO_FORWARD_MARGIN``) while a complaint runs:
    the running complaint forwards 30 minutes before its term ends, as configured when it was registered; a
    complaint registered after the change forwards 3 hours before. Both are recorded in their registrations."""
    from infra.settings import settings

    received = await next_working_morning(env)
    appealed = await start_appealed(env, task_queue, received - timedelta(days=20))
    before = await start(env, task_queue, complaint(received, appealed_case_id=appealed.id))
    await registered(env, before)  # under the old setting: its registration reads the worker's settings
    monkeypatch.setenv("KZ_TIMINGS__AUTO_FORWARD_MARGIN", "PT3H")
    settings.cache_clear()
    try:
        after = await start(env, task_queue, complaint(received, appealed_case_id=appealed.id))
        await registered(env, after)
    finally:
        monkeypatch.delenv("KZ_TIMINGS__AUTO_FORWARD_MARGIN")
        settings.cache_clear()
    margins = []
    for handle in (before, after):
        reg = (await view(handle)).registration
        assert reg is not None and reg.timings is not None
        margins.append(reg.timings.auto_forward_margin)
    assert margins == [timedelta(minutes=30), timedelta(hours=3)]

    forward_due = {s.key: s for s in (await view(before)).deadlines}["forward"].due
    await env.sleep(forward_due - timedelta(hours=3) - await env.get_current_time() + timedelta(seconds=10))
    assert (await view(after)).details["auto_forwarded"] and not (await view(before)).details["auto_forwarded"]
    await env.sleep(forward_due - timedelta(minutes=30) - await env.get_current_time() - timedelta(seconds=10))
    assert (await view(before)).details["forwarded_at"] is None  # the new margin did not reach it
    await env.sleep(timedelta(seconds=20))
    assert (await view(before)).details["auto_forwarded"]
    for handle in (before, after, appealed):
        await stop(handle)


async def test_nobody_acts_so_it_is_forwarded_at_the_deadline_with_the_administrative_case(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    received = await next_working_morning(env)
    appealed = await start_appealed(env, task_queue, received - timedelta(days=20))
    handle = await start(env, task_queue, complaint(received, appealed_case_id=appealed.id))
    opened = await until(env, handle, lambda v: any(s.key == "forward" for s in v.deadlines), "the forward term")
    forward_due = {s.key: s for s in opened.deadlines}["forward"].due
    assert forward_due == datetime.combine(CAL.add_working_days(received.date(), 3), time(18, 30), tzinfo=ALMATY)

    trigger = forward_due - DEFAULT_TIMINGS.auto_forward_margin
    await env.sleep(trigger - await env.get_current_time() - timedelta(seconds=5))
    assert (await view(handle)).details["forwarded_at"] is None
    await env.sleep(timedelta(seconds=10))
    v = await view(handle)
    assert v.status == "under_review" and v.details["auto_forwarded"]
    assert trigger <= datetime.fromisoformat(v.details["forwarded_at"]) < forward_due
    assert {s.key: s for s in v.deadlines}["forward"].status is DeadlineStatus.MET
    [admin_case] = [d for d in v.documents if d.kind == "administrative_case"]
    doc = load_document(admin_case.doc_id)
    assert doc is not None and doc.media_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(doc.content)) as bundle:
        case_html = bundle.read("case.html").decode()
        manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["case_id"] == appealed.id
    assert "665/NK p.6" in case_html and "completeness" in case_html  # the appealed case's term and citation
    with session() as s:
        fwd = s.get(ComplaintForward, handle.id)
    assert fwd is not None and admin_case.doc_id in fwd.doc_ids

    await handle.execute_update(
        "review_decision",
        ReviewDecision(
            outcome="upheld", reasons="The hearing was not offered", decided_by="Vice-minister", instruction="reopen"
        ),
    )
    result = await handle.result()
    assert result["instruction_outcome"] == {"delivered": True, "action_taken": "reopened for a new decision"}
    assert result["court_appeal_allowed_from"] is not None
    assert await appealed.result() == "reopened"
    appealed_view = await view(appealed)
    [record] = appealed_view.instructions
    assert record.instruction.complaint_id == handle.id and appealed_view.status == "completeness_check"
    decision = load_document(f"{handle.id}/decision")
    assert decision is not None and "п. 5 ст. 91 АППК" in decision.content.decode()
    await save_golden(handle, "complaint", "auto_forwarded_upheld")


async def test_a_complaint_about_an_earlier_case_of_a_reused_id_reaches_that_case_not_the_next(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """A complaint names an earlier case of an id that names several by its run (``appealed_run_id``: a fraud case
    closed and opened again under its number's id). Its notices and instruction went to the id's running case, and
    its administrative case was that case's (an adversarial run, 2026-12-04). The earlier case is closed: nothing
    reaches the next one, and the administrative case is the earlier one's."""
    from temporalio.common import WorkflowIDReusePolicy

    received = await next_working_morning(env)
    earlier = await start_appealed(env, task_queue, received - timedelta(days=20))
    earlier_run = (await earlier.describe()).run_id
    await until(env, earlier, lambda v: v.status == "refused", "the earlier case's refusal")
    await earlier.terminate("closed")  # the probe has no close of its own
    await env.client.start_workflow(
        AppealedCase.run,
        AppealedInput(received_at=received - timedelta(days=2)),
        id=earlier.id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    following = env.client.get_workflow_handle(earlier.id)
    await until(env, following, lambda v: v.status == "refused", "the next case's refusal")
    # the start's edge reads the run named: received before the next case, the complaint is refused about it alone
    before_the_next = complaint(received - timedelta(days=5), appealed="action", appealed_case_id=earlier.id)
    with pytest.raises(CaseError, match="before the receipt of the case named"):
        await start_case(env.client, SPEC, before_the_next, task_queue=task_queue)
    with pytest.raises(CaseError, match="appealed_run_id: no run of the case named by appealed_case_id has this id"):
        # another id's run, or none: it was refused as "no such case", naming no field (the next adversarial run)
        await start_case(env.client, SPEC, before_the_next.model_copy(update={"appealed_run_id": str(uuid.uuid4())}))
    with pytest.raises(ValueError, match="appealed_run_id names a run of the case named by appealed_case_id"):
        complaint(received, appealed_run_id=earlier_run)
    named = before_the_next.model_copy(update={"appealed_run_id": earlier_run})
    taken = env.client.get_workflow_handle((await start_case(env.client, SPEC, named, task_queue=task_queue)).case_id)
    await registered(env, taken)
    await taken.execute_update("withdraw", Withdrawal(reason="test over"))
    handle = await start(env, task_queue, complaint(received, appealed_case_id=earlier.id, appealed_run_id=earlier_run))
    await registered(env, handle)
    result = await forwarded_and_upheld(env, handle, "No hearing was offered")
    assert result["instruction_outcome"] == {"delivered": False, "action_taken": ACTION_CASE_CLOSED}
    untouched = await view(following)
    assert untouched.status == "refused" and not untouched.instructions and not untouched.complaints
    assert await administrative_case_run(handle) == earlier_run
    await stop(following)


async def test_a_complaint_naming_a_run_that_continued_as_new_reaches_its_case(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """A complaint names the run of the decision it appeals; the case went on in a new run since (a permit's yearly
    run, a fraud case's next check). Its notices and instruction go to the case that run belongs to, now running in
    its latest run: before, they went to the named run, which had closed, and nothing was delivered."""
    received = await next_working_morning(env)
    appealed = await start_appealed(env, task_queue, received - timedelta(days=20), runs_left=1)
    first_run = (await appealed.describe()).run_id
    latest = env.client.get_workflow_handle(appealed.id)
    await until(env, latest, lambda v: v.status == "refused" and v.run_id != first_run, "the next run's refusal")
    handle = await start(env, task_queue, complaint(received, appealed_case_id=appealed.id, appealed_run_id=first_run))
    await registered(env, handle)
    await until(env, latest, lambda v: bool(v.complaints), "the notice of the complaint")
    result = await forwarded_and_upheld(env, handle, "No hearing was offered")
    assert result["instruction_outcome"]["delivered"] is True, result["instruction_outcome"]
    assert await latest.result() == "reopened"


async def test_a_complaint_about_a_case_its_chain_went_on_from_reaches_no_next_case(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """A case ends and the next case of its id begins in the same chain (a fraud case's check before the next, whose
    run continues as new into the next check). Complaints about the first, naming its run or none, reached the next
    case, and the administrative case of one naming none was the next case's history (an adversarial run,
    2026-12-05). Now nothing reaches the next case, and the administrative case is the case the complaint read."""
    received = await next_working_morning(env)
    appealed = await env.client.start_workflow(
        AppealedCase.run,
        AppealedInput(received_at=received - timedelta(days=20), next_case_on_signal=True),
        id=f"appealed-{uuid.uuid4().hex[:12]}",
        task_queue=task_queue,
    )
    first_run = (await appealed.describe()).run_id
    await until(env, appealed, lambda v: v.status == "refused", "the first case's refusal")
    named = await start(env, task_queue, complaint(received, appealed_case_id=appealed.id, appealed_run_id=first_run))
    unnamed = await start(env, task_queue, complaint(received, appealed_case_id=appealed.id))
    for handle in (named, unnamed):
        await registered(env, handle)
    await until(env, appealed, lambda v: len(v.complaints) == 2, "the notices of both complaints")
    await appealed.signal(AppealedCase.go_on_to_the_next_case)
    latest = env.client.get_workflow_handle(appealed.id)
    await until(env, latest, lambda v: v.status == "refused" and v.run_id != first_run, "the next case")
    for handle in (named, unnamed):
        result = await forwarded_and_upheld(env, handle, "Wrong")
        assert result["instruction_outcome"] == {"delivered": False, "action_taken": ACTION_CASE_CLOSED}
        assert await administrative_case_run(handle) == first_run
    untouched = await view(latest)
    assert not untouched.instructions and not untouched.complaints
    await stop(latest)


@pytest.mark.parametrize(
    ("addressed_to", "days", "cite"),
    # the quality body's term cites the paragraph of the complaint's own act (665/NK by default)
    [("provider", 5, "Law on public services art. 25 p.2"), ("quality_body", 15, "665/NK p.10")],
)
async def test_review_terms_count_working_days_over_nauryz(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    addressed_to: str,
    days: int,
    cite: str,
) -> None:
    """The provider's 5 working days count from its registration (art. 25 p.2); the quality body's 15 from the body's
    own registration, when the provider forwards the complaint to it (58 p.10): received two working days before
    Nauryz and forwarded on its eve, both terms end as far past the holidays as their days reach from their start.
    The body's term counted from the provider's registration before, so a complaint the provider forwarded late
    reached the body breached (an adversarial run, 2026-12-04)."""
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    year = today.year if today < date(today.year, 3, 1) else today.year + 1
    eve = CAL.add_working_days(date(year, 3, 21), -1)
    received = CAL.add_working_days(eve, -2)
    handle = await start(env, task_queue, complaint(at_office(received, 10), addressed_to=addressed_to))
    start_day = received
    if addressed_to == "quality_body":
        v = await open_for_decisions(env, handle)
        assert "review" not in {s.key for s in v.deadlines}  # the body has not received it yet
        await env.sleep(at_office(eve, 17) - await env.get_current_time())
        await handle.execute_update("forward", ForwardRequest(forwarded_by="Head", body="Quality committee"))
        start_day = eve
    review = {s.key: s for s in (await until(env, handle, has_review, "the review term")).deadlines}["review"]
    expected = CAL.add_working_days(start_day, days)
    assert review.due == datetime.combine(expected, time(18, 30), tzinfo=ALMATY)
    assert (expected - start_day).days > days + 2  # the holidays were skipped, not counted
    assert any("Nowruz" in s.name for s in review.deadline.skipped)
    assert review.deadline.cite == cite
    assert review.deadline.counted_from_day == start_day
    await handle.execute_update("withdraw", Withdrawal(reason="test over"))
    await handle.result()
    if addressed_to == "quality_body":
        await save_golden(handle, "complaint", "quality_body_review_from_its_receipt")


def has_review(v: CaseView) -> bool:
    return "review" in {s.key for s in v.deadlines}


async def test_a_complaint_registered_after_its_forwarding_term_records_the_breach_and_escalates_it(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """A complaint received days before it reached the engine: its provider's term (3 working days) had passed. The
    case forwards it at once, and the passed term is a breach like any other, escalated to a supervisor (its inbox),
    then met late by the forwarding; before, it was only recorded as met late (an adversarial run, 2026-12-04)."""
    now = await env.get_current_time()
    received = datetime.combine(
        WorkingCalendar().add_working_days(now.astimezone(ALMATY).date(), -6), time(10), tzinfo=ALMATY
    )
    handle = await start(env, task_queue, complaint(received, appealed="inaction"))
    v = await until(env, handle, lambda v: v.status == "under_review", "the automatic forwarding")
    forward = {s.key: s for s in v.deadlines}["forward"]
    assert forward.status is DeadlineStatus.BREACHED and forward.escalated
    assert forward.breached_at is not None and forward.breached_at >= now  # found when the case began
    assert forward.met_at is not None and (forward.late_by_seconds or 0) > 0  # the forwarding, late
    with session() as s:
        esc = s.exec(select(SupervisorNotification).where(SupervisorNotification.case_id == handle.id)).all()
    assert "forward" in [e.deadline_key for e in esc]
    await handle.execute_update("withdraw", Withdrawal(reason="test over"))
    await handle.result()
    await save_golden(handle, "complaint", "registered_after_its_forwarding_term")


async def test_silent_review_body_breaches_and_is_escalated(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    received = await next_working_morning(env)
    handle = await start(env, task_queue, complaint(received, addressed_to="quality_body"))
    await env.sleep(timedelta(seconds=2))
    await handle.execute_update(
        "forward", ForwardRequest(forwarded_by="Head of department", body="Agency for civil service affairs")
    )
    # the body's 15 working days open as it receives the complaint (58 p.10)
    review_due = {s.key: s for s in (await until(env, handle, has_review, "the review term")).deadlines}["review"].due
    await env.sleep(review_due - await env.get_current_time() + timedelta(seconds=5))
    v = await view(handle)
    review = {s.key: s for s in v.deadlines}["review"]
    assert review.status is DeadlineStatus.BREACHED and review.escalated
    with session() as s:
        esc = s.exec(select(SupervisorNotification).where(SupervisorNotification.case_id == handle.id)).all()
    assert [e.deadline_key for e in esc] == ["review"]
    await handle.execute_update(
        "review_decision", ReviewDecision(outcome="rejected", reasons="The refusal was lawful", decided_by="Agency")
    )
    await handle.result()
    final = await view(handle)
    assert final.outcome == "rejected"
    late = {s.key: s for s in final.deadlines}["review"]
    assert late.met_at is not None and (late.late_by_seconds or 0) > 0
    await save_golden(handle, "complaint", "review_breached_rejected")


async def test_withdrawal_and_events_that_do_not_fit(env: WorkflowEnvironment, task_queue: str, worker: Worker) -> None:
    received = await next_working_morning(env)
    handle = await start(env, task_queue, complaint(received))
    await env.sleep(timedelta(seconds=2))
    with pytest.raises(WorkflowUpdateFailedError) as exc:
        await handle.execute_update(
            "review_decision", ReviewDecision(outcome="rejected", reasons="too early", decided_by="x")
        )
    assert "does not fit" in str(exc.value.cause)
    assert (await view(handle)).pending_events == ["withdraw", "satisfy", "forward"]
    await handle.execute_update("withdraw", Withdrawal(reason="resolved with the provider"))
    result = await handle.result()
    assert result["withdrawn"]
    v = await view(handle)
    assert v.outcome == "withdrawn" and all(s.status is DeadlineStatus.CANCELLED for s in v.deadlines)
    await save_golden(handle, "complaint", "withdrawn")


async def test_a_satisfaction_taken_the_evening_before_the_registration_day_is_carried_out_when_the_office_opens(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """Received at 19:00 (after office hours), a complaint is registered on the next working day (665/NK p.6): a
    satisfaction sent that evening was signed, dated and counted "met on time" before the registration its letter
    names (an adversarial run, 2026-12-03). Taken that evening, it is carried out when the office opens on the
    registration day — the letter rendered, signed and delivered then, the case saying so meanwhile. A forwarding
    goes at once: the considering body's review counts from its own receipt."""
    day = CAL.add_working_days((await env.get_current_time()).astimezone(ALMATY).date(), 1)
    received = datetime.combine(day, time(19), tzinfo=ALMATY)
    satisfied = await start(env, task_queue, complaint(received))
    forwarded = await start(env, task_queue, complaint(received))
    reg = (await registered(env, satisfied)).registration
    await registered(env, forwarded)
    registration_day = CAL.add_working_days(day, 1)
    opens = datetime.combine(registration_day, time(9), tzinfo=ALMATY)
    assert reg is not None and reg.registered_on == registration_day and reg.results_from == opens
    satisfaction = Satisfaction(decided_by="Head of department", action_taken="The application is checked again")
    await env.sleep(received - await env.get_current_time() + timedelta(minutes=5))
    said = await satisfied.execute_update("satisfy", satisfaction, result_type=str)
    assert f"carried out when the office opens on the registration day, {registration_day} 09:00 Asia/Almaty" in said
    said = await forwarded.execute_update("forward", ForwardRequest(forwarded_by="clerk-1"), result_type=str)
    assert said == "recorded: the complaint and the administrative case are being forwarded"
    v = await until(env, forwarded, lambda v: v.status == "under_review", "the forwarding")
    forward_met = {s.key: s for s in v.deadlines}["forward"].met_at
    assert forward_met is not None and forward_met < opens
    held = await view(satisfied)
    assert held.status == "satisfied" and not held.closed and held.pending_events == []
    assert datetime.fromisoformat(held.details["carried_out_from"]) == opens  # the case page says when
    with pytest.raises(WorkflowUpdateFailedError) as meanwhile:
        await satisfied.execute_update("withdraw", Withdrawal(reason="settled"))
    assert "nothing while the decision is carried out" in str(meanwhile.value.cause)

    await env.sleep(opens - await env.get_current_time() + timedelta(minutes=1))
    assert (await satisfied.result())["satisfied"]
    assert (await view(satisfied)).details["carried_out_from"] is None
    terms = {s.key: s for s in (await view(satisfied)).deadlines}
    assert terms["forward"].status is DeadlineStatus.MET and terms["forward"].met_at is not None
    assert terms["forward"].met_at >= opens
    rendered = [  # the letter is rendered, dated, signed and delivered once the office opens (the server's clock)
        e.event_time.ToDatetime(tzinfo=UTC)
        async for e in satisfied.fetch_history_events()
        if e.activity_task_scheduled_event_attributes.activity_type.name == "render_document"
    ]
    assert len(rendered) == 1 and rendered[0] >= opens
    await save_golden(satisfied, "complaint", "satisfied_on_the_registration_day")
    await stop(forwarded)


async def test_complaint_about_a_complaint_bodys_inaction_names_the_first(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    received = await next_working_morning(env)
    first = await start(env, task_queue, complaint(received))
    await env.sleep(timedelta(seconds=1))
    second_input = complaint(
        received,
        appealed="inaction",
        appealed_case_id=first.id,
        about_complaint_id=first.id,
        addressed_to="quality_body",
    )
    second = await start(env, task_queue, second_input)
    await env.sleep(timedelta(seconds=2))
    v = await view(second)
    assert v.details["about_complaint_id"] == first.id
    assert v.details["appealed_case"]["procedure"] == "complaint" and v.details["appealed_case"]["exists"]
    with pytest.raises(ValueError, match="inaction"):
        complaint(received, appealed="decision", about_complaint_id=first.id)
    for h in (first, second):
        await h.execute_update("withdraw", Withdrawal(reason="test over"))
        await h.result()


async def test_a_complaint_about_a_decision_is_received_after_the_appealed_case_decided(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """A complaint appeals a decision only once there is one: received before the appealed case first acted (a term
    met, or its close, as visibility knows it) it is refused, naming that instant, and so is one about a case that has
    decided nothing yet (an adversarial run, 2026-12-04: a complaint received before the permit's refusal was
    forwarded at once with both its terms breached). Its action or inaction may be appealed meanwhile."""
    received = await env.get_current_time() - timedelta(minutes=5)
    pending = EgovConnectionInput(iin=person(), phone=new_phone(), channel=Channel.PORTAL, received_at=received)
    undecided = await start_case(env.client, EGOV_SPEC, pending, task_queue=task_queue)
    decided = await start_appealed(env, task_queue, received)  # meets its term as it registers
    await registered(env, decided)
    first_act = (await view(decided)).deadlines[0].met_at
    assert first_act is not None and first_act > received

    async def refusal(**kw: object) -> str:
        with pytest.raises(CaseError) as refused:
            await start_case(env.client, SPEC, complaint(kw.pop("received_at", received), **kw), task_queue=task_queue)  # type: ignore[arg-type]
        assert refused.value.kind == "refused"
        return str(refused.value)

    said = await refusal(appealed_case_id=undecided.case_id)
    assert "appealed: the case named by appealed_case_id has decided nothing yet" in said
    said = await refusal(appealed_case_id=decided.id)
    assert (
        f"received_at: before the first decision of the case named by appealed_case_id ({almaty_text(first_act)})"
        in said
    )
    await env.sleep(timedelta(seconds=2))
    after = await env.get_current_time()
    for kw in (
        {"appealed_case_id": decided.id, "received_at": after},
        {"appealed_case_id": undecided.case_id, "appealed": "inaction"},
    ):
        started = await start_case(
            env.client, SPEC, complaint(kw.pop("received_at", received), **kw), task_queue=task_queue
        )  # type: ignore[arg-type]
        assert started.answer == "opened"
        await env.client.get_workflow_handle(started.case_id).execute_update("withdraw", Withdrawal(reason="test over"))
    for h in (env.client.get_workflow_handle(undecided.case_id), decided):
        await stop(h)


async def test_a_complaint_is_under_the_act_of_the_case_it_appeals(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """58 p.10 and 665/NK p.10 each govern a complaint about their own procedure's case: the start takes the act from
    the appealed case and refuses another (an adversarial run, 2026-12-03: ``act_key=58`` about a permit registered
    the complaint under 58, without 665/NK p.6's after-hours roll; left out, a complaint about a number connected
    under 58 was registered under 665/NK)."""
    received = await next_working_morning(env)
    egov_input = EgovConnectionInput(iin=person(), phone=new_phone(), channel=Channel.PORTAL, received_at=received)
    egov = await start_case(env.client, EGOV_SPEC, egov_input, task_queue=task_queue)
    under_665 = await start_appealed(env, task_queue, received)  # registers under 665/NK, as a permit does
    await registered(env, under_665)

    async def act_of(**kw: object) -> str:
        kw.setdefault("appealed", "action")  # the cases named here have decided nothing yet
        started = await start_case(env.client, SPEC, complaint(received, **kw), task_queue=task_queue)
        handle = env.client.get_workflow_handle(started.case_id)
        reg = (await registered(env, handle)).registration
        first = await anext(aiter(handle.fetch_history_events()))
        payloads = first.workflow_execution_started_event_attributes.input.payloads
        [recorded] = await env.client.data_converter.decode(payloads, [ComplaintInput])
        await handle.execute_update("withdraw", Withdrawal(reason="test over"))
        assert reg is not None and recorded.act_key == reg.act_key  # the act filled in is in the case's input
        if "about_complaint_id" in kw:  # filled: the first complaint is the appealed case
            assert recorded.appealed_case_id == kw["about_complaint_id"]
        return reg.act_key

    assert await act_of(appealed_case_id=egov.case_id) == "58"
    assert await act_of(appealed_case_id=egov.case_id, act_key="58") == "58"
    assert await act_of(appealed_case_id=under_665.id) == "665/NK"
    assert await act_of() == "665/NK"  # naming no case: the default, recorded
    assert await act_of(act_key="58") == "58"  # naming no case: the act given
    # a case under neither act (a fraud check, 171): the complaint is under 665/NK, and 58 given is refused (the
    # adversarial run of the fix: it was kept)
    fraud_report = SubscriberReport(
        ref=opaque("ref:"),
        suspect_number=new_phone(),
        reporter_number=new_phone(),
        received_at=await env.get_current_time(),  # a report is not taken ahead of the case's clock
        description="SMS: 'your card is blocked'",
    )
    fraud = await start_case(env.client, FRAUD_SPEC, FraudCaseInput(first=fraud_report), task_queue=task_queue)
    assert await act_of(appealed_case_id=fraud.case_id) == "665/NK"

    async def refused(why: str, **kw: object) -> None:
        kw.setdefault("appealed", "action")
        with pytest.raises(CaseError) as refusal:
            await start_case(env.client, SPEC, complaint(kw.pop("received_at", received), **kw))  # type: ignore[arg-type]
        assert refusal.value.kind == "refused" and why in str(refusal.value), refusal.value

    for appealed, given, said in (
        (under_665.id, "58", "is under act 665/NK, whose p.10 governs a complaint about it"),
        (egov.case_id, "665/NK", "is under act 58, whose p.10 governs a complaint about it"),
        (fraud.case_id, "58", "is under act 171, a complaint about it is under 665/NK; leave act_key out or give"),
    ):
        await refused(f"act_key: the case named by appealed_case_id {said}", appealed_case_id=appealed, act_key=given)
    # a complaint is received after the case it appeals
    before = received - timedelta(days=1)
    early = {"appealed_case_id": egov.case_id, "received_at": before}
    await refused(
        f"received_at: before the receipt of the case named by appealed_case_id ({almaty_text(received)})", **early
    )
    # a complaint about a complaint body's inaction is under the first complaint's act, and appeals that complaint
    about_egov = complaint(received, appealed_case_id=egov.case_id, appealed="action")
    first = await start_case(env.client, SPEC, about_egov, task_queue=task_queue)
    await registered(env, env.client.get_workflow_handle(first.case_id))
    about = {"appealed": "inaction", "about_complaint_id": first.case_id, "addressed_to": "quality_body"}
    assert await act_of(**about) == "58"
    assert await act_of(**about, appealed_case_id=first.case_id) == "58"
    another = about | {"appealed_case_id": egov.case_id}
    await refused("appealed_case_id: a complaint about a complaint body's inaction appeals", **another)
    not_a_complaint = about | {"about_complaint_id": egov.case_id}
    await refused(f"about_complaint_id: names a {EGOV_SPEC.key} case, not a complaint", **not_a_complaint)
    await env.client.get_workflow_handle(first.case_id).execute_update("withdraw", Withdrawal(reason="test over"))
    for h in (env.client.get_workflow_handle(egov.case_id), env.client.get_workflow_handle(fraud.case_id), under_665):
        await stop(h)


async def test_a_complaint_under_58_cites_58_alone_in_its_letter_and_its_administrative_case(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    """The satisfaction letter's text and the administrative case's citation name the complaint's own act: both named
    58 and 665/NK whatever the complaint was under (the second adversarial run of 2026-12-03)."""
    received = await next_working_morning(env)
    satisfied = await start(env, task_queue, complaint(received, act_key="58"))
    await open_for_decisions(env, satisfied)
    await satisfied.execute_update("satisfy", Satisfaction(decided_by=HEAD, action_taken="Connected"))
    await satisfied.result()
    letter = load_document(f"{satisfied.id}/satisfied")
    assert letter is not None
    html = letter.content.decode()
    assert "Негіздеме: № 58 бұйрық 10-т.</p>" in html and "Основание: п. 10 приказа № 58.</p>" in html
    assert "665" not in html
    appealed = await start_appealed(env, task_queue, received)
    forwarded = await start(env, task_queue, complaint(received, act_key="58", appealed_case_id=appealed.id))
    await open_for_decisions(env, forwarded)
    await forwarded.execute_update("forward", ForwardRequest(forwarded_by="Head", body="Agency"))
    v = await until(env, forwarded, lambda v: any(d.kind == "administrative_case" for d in v.documents), "case file")
    [case_file] = [d for d in v.documents if d.kind == "administrative_case"]
    assert case_file.cite == "58 p.10"
    await forwarded.execute_update("withdraw", Withdrawal(reason="test over"))
    await stop(appealed)


async def test_sms_gateway_down_for_an_hour_delays_the_notice_visibly_and_sends_it_once(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    received = await next_working_morning(env)
    handle = await start(env, task_queue, complaint(received))
    await env.sleep(received - await env.get_current_time() + timedelta(hours=1))
    outages.begin("sms_gateway", await env.get_current_time(), timedelta(hours=1), "gateway maintenance")
    try:
        await handle.execute_update("satisfy", Satisfaction(decided_by="Head", action_taken="Accepted"))
        await env.sleep(timedelta(minutes=20))
        [call] = await pending_calls(env.client, handle.id)
        assert call.activity == "send_sms" and call.attempt > 1
        assert call.last_error and "sms gateway unavailable" in call.last_error
        assert (await view(handle)).status == "provider_review"  # the case is waiting, not lost
        await env.sleep(timedelta(hours=1))
        result = await handle.result()
    finally:
        outages.end("sms_gateway")
    assert result["satisfied"]
    with session() as s:
        sent = s.exec(select(SmsOutbox).where(SmsOutbox.case_id == handle.id)).all()
    assert len(sent) == 1


async def test_permanent_refusal_blocks_the_case_visibly_until_staff_resume(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    received = await next_working_morning(env)
    handle = await start(env, task_queue, complaint(received))
    await env.sleep(received - await env.get_current_time() + timedelta(hours=1))
    outages.begin("sms_gateway", await env.get_current_time(), None, "number ported abroad", permanent=True)
    try:
        await handle.execute_update("satisfy", Satisfaction(decided_by="Head", action_taken="Accepted"))
        await env.sleep(timedelta(seconds=5))
        v = await view(handle)
        assert v.status == "blocked" and v.blocked is not None
        assert v.blocked.what == "sms_gateway" and "refuses the request permanently" in v.blocked.error
        assert v.pending_events == ["resume_outside_step"]
        with session() as s:
            esc = s.exec(select(SupervisorNotification).where(SupervisorNotification.case_id == handle.id)).all()
        assert [e.deadline_key for e in esc] == ["blocked:sms_gateway:0"]
    finally:
        outages.end("sms_gateway")
    await handle.execute_update("resume_outside_step", ResumeRequest(by="Operator on duty", note="gateway fixed"))
    result = await handle.result()
    assert result["satisfied"]
    v = await view(handle)
    assert v.blocked is None and v.blocked_steps[0].resumed_by == "Operator on duty"


async def test_upheld_complaint_reopens_a_refused_permit_case(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    from models.mvno_permit import PermitCaseView
    from tests.cases import stop

    received = await next_working_morning(env)
    permit = await refused_permit(env, task_queue, received)

    handle = await start(env, task_queue, complaint(received + timedelta(days=1), appealed_case_id=permit.id))
    await open_for_decisions(env, handle)
    await handle.execute_update("forward", ForwardRequest(forwarded_by="Head", body="Ministry"))
    await env.sleep(timedelta(seconds=2))
    v = await view(handle)
    assert v.details["appealed_case"]["procedure"] == "mvno_permit"
    [admin_case] = [d for d in v.documents if d.kind == "administrative_case"]
    doc = load_document(admin_case.doc_id)
    assert doc is not None
    with zipfile.ZipFile(io.BytesIO(doc.content)) as bundle:
        case_html = bundle.read("case.html").decode()
        names = bundle.namelist()
    assert "665/NK p.6" in case_html and "the information form is missing" in case_html
    # the refusal the permit case produced, named to open as what it is
    assert any(n.startswith("documents/") and n.endswith(".html") for n in names), names

    await handle.execute_update(
        "review_decision",
        ReviewDecision(
            outcome="upheld",
            reasons="The form was attached to the application",
            decided_by="Vice-minister",
            instruction="reopen",
        ),
    )
    result = await handle.result()
    assert result["instruction_outcome"]["delivered"]
    assert result["instruction_outcome"]["action_taken"] == "reopened for a new decision at completeness_check"
    p = await permit.query("permit_case", result_type=PermitCaseView)
    assert p.status == "completeness_check" and p.round == 2
    await stop(permit)


# --- issue 14, items 6-11 -------------------------------------------------------------------------


async def closed_result(env: WorkflowEnvironment, handle: WorkflowHandle) -> Any:
    """A case's result once it closed, read with a client without the environment's interceptor (whose
    ``result()`` unlocks time skipping and lets the server jump to stale timers of other tests' cases)."""
    plain = Client(env.client.service_client, namespace=env.client.namespace, data_converter=data_converter())
    for _ in range(400):
        if (await env.client.get_workflow_handle(handle.id).describe()).close_time is not None:
            return await plain.get_workflow_handle(handle.id).result()
        await asyncio.sleep(0.05)
    raise AssertionError(f"case {handle.id} did not close")


async def test_14_6_a_withdrawn_complaint_is_not_a_review(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    received = await next_working_morning(env)
    handle = await start(env, task_queue, complaint(received, addressed_to="quality_body"))
    await open_for_decisions(env, handle)
    await handle.execute_update("forward", ForwardRequest(forwarded_by="Head of department", body="Agency"))
    await env.sleep(timedelta(seconds=2))
    assert (await view(handle)).pending_events == ["withdraw", "review_decision"]
    await handle.execute_update("withdraw", Withdrawal(reason="settled with the provider"))
    result = await handle.result()
    assert result["withdrawn"] and result["review"] is None
    v = await view(handle)
    assert v.outcome == "withdrawn" and v.pending_events == []
    states = {s.key: s for s in v.deadlines}
    # the withdrawal ended the review term: cancelled (withdrawn), never met
    assert states["review"].status is DeadlineStatus.CANCELLED and states["review"].cancel_reason == "withdrawn"
    assert states["review"].met_at is None
    assert states["forward"].status is DeadlineStatus.MET  # the forwarding did happen in time
    # the considering body held the complaint: it acknowledges the withdrawal
    assert "Жалоба № " in signed_and_delivered(f"{handle.id}/withdrawn", BODY)

    report = build_report([parse_history(await handle.fetch_history())])
    [proc] = report.procedures
    assert (proc.met_on_time, proc.withdrawn, proc.cancelled, proc.met_late, proc.breached) == (1, 1, 0, 0, 0)
    assert proc.share_met_on_time == 1.0  # the withdrawn review is not a decided term
    assert {t.key: t.outcome for t in report.cases[0].terms} == {"forward": "met_on_time", "review": "withdrawn"}
    assert not report.overruns and "<th>withdrawn</th>" in render_report_html(report)
    await save_golden(handle, "complaint", "withdrawn_during_review")


async def test_14_6_a_withdrawal_after_the_breach_leaves_the_review_breached_not_met(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    received = await next_working_morning(env)
    handle = await start(env, task_queue, complaint(received))
    await env.sleep(timedelta(seconds=2))
    await handle.execute_update("forward", ForwardRequest(forwarded_by="Head of department", body="Ministry"))
    review_due = {s.key: s for s in (await view(handle)).deadlines}["review"].due
    await env.sleep(review_due - await env.get_current_time() + timedelta(seconds=5))
    await handle.execute_update("withdraw", Withdrawal(reason="no answer came"))
    await handle.result()
    review = {s.key: s for s in (await view(handle)).deadlines}["review"]
    # the body missed its term and never reviewed: breached, with no "done" instant
    assert review.status is DeadlineStatus.BREACHED and review.escalated
    assert review.met_at is None and review.late_by_seconds is None
    report = build_report([parse_history(await handle.fetch_history())])
    [proc] = report.procedures
    assert (proc.met_on_time, proc.met_late, proc.breached, proc.withdrawn) == (1, 0, 1, 0)
    [overrun] = report.overruns
    assert overrun.term == "review" and "withdraw accepted" in overrun.reason and "case closed" in overrun.reason
    await save_golden(handle, "complaint", "withdrawn_after_review_breached")


async def test_14_7_a_complaint_satisfied_by_the_provider_reopens_the_refused_permit(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    from models.mvno_permit import PermitCaseView
    from tests.cases import stop

    received = await next_working_morning(env)
    permit = await refused_permit(env, task_queue, received)
    handle = await start(env, task_queue, complaint(received + timedelta(days=1), appealed_case_id=permit.id))
    await open_for_decisions(env, handle)
    await handle.execute_update(
        "satisfy",
        Satisfaction(decided_by="Head of the Committee", action_taken="The information form was attached: new check"),
    )
    result = await handle.result()
    assert result["satisfied"] and result["forwarded_at"] is None
    # the provider's satisfaction reached the appealed case exactly as an upheld decision does
    assert result["instruction_outcome"] == {
        "delivered": True,
        "action_taken": "reopened for a new decision at completeness_check",
    }
    p = await permit.query("permit_case", result_type=PermitCaseView)
    assert p.status == "completeness_check" and p.round == 2
    appealed = await view(permit)
    [record] = appealed.instructions
    assert record.instruction.complaint_id == handle.id and record.instruction.decision == "satisfied"
    assert record.instruction.action == "reopen" and "information form was attached" in record.instruction.reasons
    [noticed] = appealed.complaints
    assert noticed.complaint_id == handle.id and noticed.outcome == "satisfied" and not noticed.pending
    html = signed_and_delivered(f"{handle.id}/satisfied", HEAD)
    # the letter says what the appealed case did in its own languages, not in the case's English
    assert "құжаттардың толықтығын тексеру кезеңінде қайта ашылды" in html
    assert "возобновлено для нового решения на этапе проверки полноты документов" in html
    assert "reopened for a new decision" not in html
    await save_golden(handle, "complaint", "satisfied_reopens_the_appealed_case")
    await stop(permit)


async def test_14_7_the_satisfaction_names_the_instruction_only_for_an_appealed_case(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    handle = await start(env, task_queue, complaint(await next_working_morning(env)))
    await env.sleep(timedelta(seconds=2))
    with pytest.raises(WorkflowUpdateFailedError) as exc:
        await handle.execute_update(
            "satisfy", Satisfaction(decided_by="Head", action_taken="answered", instruction="reopen")
        )
    assert "names no appealed case" in str(exc.value.cause)
    assert Satisfaction(decided_by="x", action_taken="y").instruction_for(Appealed.DECISION) == "reopen"
    assert Satisfaction(decided_by="x", action_taken="y").instruction_for(Appealed.INACTION) == "reconsider"
    await handle.execute_update("withdraw", Withdrawal(reason="test over"))
    await handle.result()


async def test_14_8_complaint_decisions_are_signed_documents_in_the_personal_account(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    received = await next_working_morning(env)
    satisfied, decided, withdrawn = [await start(env, task_queue, complaint(received)) for _ in range(3)]
    for handle in (satisfied, decided, withdrawn):
        await open_for_decisions(env, handle)
    await satisfied.execute_update("satisfy", Satisfaction(decided_by="Head", action_taken="The decision is issued"))
    await withdrawn.execute_update("withdraw", Withdrawal(reason="resolved"))
    await decided.execute_update("forward", ForwardRequest(forwarded_by="Head", body="Ministry"))
    await env.sleep(timedelta(seconds=2))
    await decided.execute_update(
        "review_decision", ReviewDecision(outcome="rejected", reasons="The refusal was lawful", decided_by="Ministry")
    )
    for handle, kind, signer in (
        (satisfied, "satisfied", HEAD),
        (decided, "decision", BODY),
        (withdrawn, "withdrawn", AUTHORISED),
    ):
        await handle.result()
        signed_and_delivered(f"{handle.id}/{kind}", signer)
        [doc] = (await view(handle)).documents
        assert doc.doc_id == f"{handle.id}/{kind}" and doc.signed_by and signer in doc.signed_by
        with session() as s:
            [sms] = s.exec(select(SmsOutbox).where(SmsOutbox.case_id == handle.id)).all()
        # in the state language, then Russian (docs/DESIGN-NOTES.md, "SMS to citizens"), worded by the activity
        kk, ru = sms.text.splitlines()
        said = {"satisfied": ("қанағаттандырылды", "удовлетворена"), "decision": ("шешім", "решение")}.get(
            kind, ("кері қайтарылды", "отозвана")
        )
        assert " шағымы: " in kk and said[0] in kk and "жеке кабинетіңізде" in kk
        assert ru.startswith("Жалоба ") and said[1] in ru and "личном кабинете" in ru
    # a document's context holds what it shows of the registration; the law's terms stay in the case's record
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in (await satisfied.fetch_history()).events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    [render] = [a for a in scheduled if a.activity_type.name == "render_document"]
    [request] = await env.client.data_converter.decode(render.input.payloads, [RenderDocumentRequest])
    assert request.context["registration"]["registered_on"] == received.astimezone(ALMATY).date().isoformat()
    assert not {"terms", "migrations", "timings"} & set(request.context["registration"])
    # a case begun today publishes its record in batches: one search-attribute upsert and one memo upsert at most in
    # each run of upserts (before CURRENT_PATHS_18 the registration wrote act version, memo, status one by one)
    events = (await satisfied.fetch_history()).events
    runs: list[list[str]] = [[]]
    for e in events:
        if e.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if "TemporalChangeVersion" not in fields:  # the SDK's, made with a patch marker
                runs[-1].append("attributes")
        elif e.HasField("workflow_properties_modified_event_attributes"):
            runs[-1].append("memo")
        elif runs[-1]:
            runs.append([])
    assert runs[0] and all(r.count("attributes") <= 1 and r.count("memo") <= 1 for r in runs), runs
    await save_golden(satisfied, "complaint", "satisfied_signed_and_delivered")
    # the same path on the branches of issue 16 (the record published only where it changed, races settled)
    await save_golden(satisfied, "complaint", "satisfied_signed_and_delivered_publishing_changes_only")
    # and with the SMS worded from templates in Kazakh and Russian
    await save_golden(satisfied, "complaint", "satisfied_signed_and_delivered_sms_in_kk_and_ru")
    await save_golden(satisfied, "complaint", "satisfied_signed_and_delivered_on_current_paths")
    await save_golden(
        satisfied, "complaint", "satisfied_signed_and_delivered_without_defaults"
    )  # begun on RECORDS_WITHOUT_DEFAULTS
    await save_golden(satisfied, "complaint", "satisfied_signed_and_delivered_current_paths_sms_in_kk_and_ru")
    await save_golden(decided, "complaint", "rejected_signed_and_delivered")
    await save_golden(withdrawn, "complaint", "withdrawn_signed_and_delivered")


async def test_14_9_the_administrative_case_carries_every_signed_document_and_a_readable_application(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    from models.mvno_permit import PermitCaseView
    from tests.cases import stop

    received = await next_working_morning(env)
    permit = await refused_permit(env, task_queue, received)
    permit_docs = (await view(permit)).documents
    assert permit_docs and all(d.signed_by for d in permit_docs)
    handle = await start(env, task_queue, complaint(received + timedelta(days=1), appealed_case_id=permit.id))
    await open_for_decisions(env, handle)
    await handle.execute_update("forward", ForwardRequest(forwarded_by="Head", body="Ministry"))
    await env.sleep(timedelta(seconds=2))
    [admin_case] = [d for d in (await view(handle)).documents if d.kind == "administrative_case"]
    doc = load_document(admin_case.doc_id)
    assert doc is not None
    with zipfile.ZipFile(io.BytesIO(doc.content)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        case_html = bundle.read("case.html").decode()
        files = {n: bundle.read(n) for n in bundle.namelist()}
    # every document of the appealed case, each with its detached CMS signature beside it
    assert {d["doc_id"] for d in manifest["documents"]} == {d.doc_id for d in permit_docs}
    for entry in manifest["documents"]:
        assert entry["included"] and entry["signature"] == entry["path"] + ".p7s"
        signer = verify_cms(files[entry["path"]], files[entry["signature"]], local_ca().root.cert).subject
        assert HEAD in signer and HEAD in (entry["signed_by"] or "")
    assert {f["path"] for f in manifest["files"]} >= {e["signature"] for e in manifest["documents"]}
    # the application as labels and values, not raw JSON
    application = case_html.split("<h2>Application</h2>")[1].split("<h2>")[0]
    number = (await permit.query("permit_case", result_type=PermitCaseView)).application_number
    assert f"<th>Application number</th><td>{number}</td>" in application
    assert "Applicant › " in application and "IIN" in application
    assert "{" not in application and '"application_number"' not in application
    await handle.execute_update("withdraw", Withdrawal(reason="test over"))
    await handle.result()
    await stop(permit)


@pytest.mark.parametrize(
    ("addressed_to", "act", "review_cite"),
    [
        ("quality_body", "665/NK", "665/NK p.10"),
        ("quality_body", "58", "58 p.10"),
        ("provider", "665/NK", "Law on public services art. 25 p.2"),  # the 5-day rule keeps its own law
    ],
)
async def test_14_11_the_quality_bodys_fifteen_days_cite_the_acts_p10_everywhere(
    env: WorkflowEnvironment, task_queue: str, worker: Worker, addressed_to: str, act: str, review_cite: str
) -> None:
    received = await next_working_morning(env)
    handle = await start(env, task_queue, complaint(received, addressed_to=addressed_to, act_key=act))
    await open_for_decisions(env, handle)
    await handle.execute_update("forward", ForwardRequest(forwarded_by="Head", body="Agency"))
    review = {s.key: s for s in (await until(env, handle, has_review, "the review term")).deadlines}["review"]
    assert review.deadline.cite == review_cite
    assert review.deadline.amount == (15 if addressed_to == "quality_body" else 5)
    await env.sleep(timedelta(seconds=2))
    await handle.execute_update(
        "review_decision", ReviewDecision(outcome="rejected", reasons="lawful", decided_by="Agency")
    )
    await handle.result()
    [doc] = (await view(handle)).documents
    html = signed_and_delivered(doc.doc_id, BODY)
    assert review_cite in doc.cite and "APPC art. 91 p.5" in doc.cite
    assert review_cite in html
    if addressed_to == "quality_body":  # the 5-day rule (art. 25 p.2) is nowhere on the 15-day decision
        assert "art. 25" not in doc.cite and "art. 25" not in html
    # the decision cites its own act's p.10, not the other act's (a decision under 58 cited 665/NK too: an
    # adversarial run, 2026-12-03)
    other = "665/NK" if act == "58" else "58"
    assert f"{act} p.10" in doc.cite and f"{other} p.10" not in doc.cite, doc.cite
    if act == "58":
        await save_golden(handle, "complaint", "rejected_under_58_citing_its_act")
    # the events' own citations (API summary, console form, command line) are both acts' p.10, whoever decides: a
    # procedure's event is the same under either act (satisfy and forward cited 58 alone)
    for name in ("satisfy", "forward", "review_decision"):
        assert SPEC.event(name).cite == "58 p.10; 665/NK p.10"


async def complaint_two_days_before_the_window_closes(
    env: WorkflowEnvironment, task_queue: str
) -> tuple[WorkflowHandle, WorkflowHandle, datetime]:
    """A refused permit, and a complaint about it filed two days before its complaint window's due instant and
    forwarded at once; returns the permit, the complaint and the window's due instant."""
    permit = await refused_permit(env, task_queue, await next_working_morning(env))
    window_due = {s.key: s for s in (await view(permit)).deadlines}["complaint_window"].due
    await env.sleep(window_due - timedelta(days=2) - await env.get_current_time())
    handle = await start(
        env,
        task_queue,
        complaint(await env.get_current_time(), appealed_case_id=permit.id, addressed_to="quality_body"),
    )
    await open_for_decisions(env, handle)
    await handle.execute_update("forward", ForwardRequest(forwarded_by="Head", body="Agency"))
    await env.sleep(timedelta(seconds=2))
    [noticed] = (await view(permit)).complaints
    assert noticed.complaint_id == handle.id and noticed.pending
    review_due = {s.key: s for s in (await view(handle)).deadlines}["review"].due
    assert review_due > window_due  # the complaint is considered past the window's end
    await env.sleep(window_due - await env.get_current_time() + timedelta(minutes=1))
    desc = await permit.describe()
    assert desc.close_time is None, "the window closed while the complaint was being considered"
    events = (await view(permit)).details["events"]
    assert any(e["kind"] == "complaint_window_held" and handle.id in e["detail"] for e in events)
    window = {s.key: s for s in (await view(permit)).deadlines}["complaint_window"]
    assert window.status is DeadlineStatus.OPEN
    return permit, handle, window_due


async def test_14_10_the_complaint_window_does_not_close_while_a_complaint_is_considered(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    permit, handle, window_due = await complaint_two_days_before_the_window_closes(env, task_queue)
    await handle.execute_update(
        "review_decision", ReviewDecision(outcome="rejected", reasons="the refusal was lawful", decided_by="Agency")
    )
    result = await closed_result(env, handle)
    assert result["appealed_case_told"] and result["review"]["outcome"] == "rejected"
    outcome = await closed_result(env, permit)
    assert outcome["outcome"] == "refused_to_consider"
    v = await view(permit)
    window = {s.key: s for s in v.deadlines}["complaint_window"]
    assert window.status is DeadlineStatus.CANCELLED  # closed without an instruction, as before
    [held] = window.changes
    assert held.old_due == window_due and held.new_due > window_due
    assert held.reason == f"held open by complaint {handle.id} (rejected) until its outcome"
    closed = next(e for e in v.details["events"] if e["kind"] == "complaint_window_closed")
    assert f"held open by complaint {handle.id} (rejected)" in closed["detail"]
    [record] = v.complaints
    assert record.outcome == "rejected" and record.concluded_at is not None
    await save_golden(permit, "mvno_permit", "complaint_window_held_by_complaint")
    await save_golden(handle, "complaint", "rejected_after_holding_the_window")


async def test_14_10_an_upheld_complaint_after_the_window_due_still_reopens_the_case(
    env: WorkflowEnvironment, task_queue: str, worker: Worker
) -> None:
    from models.mvno_permit import CompletenessDecision
    from workflows.mvno_permit import MvnoPermit

    permit, handle, window_due = await complaint_two_days_before_the_window_closes(env, task_queue)
    await handle.execute_update(
        "review_decision",
        ReviewDecision(outcome="upheld", reasons="the form was attached", decided_by="Agency", instruction="reopen"),
    )
    result = await closed_result(env, handle)
    assert result["instruction_outcome"]["action_taken"] == "reopened for a new decision at completeness_check"
    v = await view(permit)
    window = {s.key: s for s in v.deadlines}["complaint_window"]
    assert window.status is DeadlineStatus.MET  # the extended window, not a breach
    assert window.changes[0].old_due == window_due and window.met_at == window.due
    assert v.status == "completeness_check" and v.details["round"] == 2
    # round 2 refused again; its own window passes with no complaint: the case closes as before
    for _ in range(100):
        if "completeness_decision" in (await view(permit)).pending_events:
            break
        await env.sleep(timedelta(seconds=1))
    await permit.execute_update(
        MvnoPermit.completeness_decision,
        CompletenessDecision(complete=False, reasons=["the contract is unsigned"], decided_by="A. Sadykova"),
    )
    for _ in range(100):
        if (await view(permit)).pending_events == ["reopen"]:
            break
        await env.sleep(timedelta(seconds=1))
    second = {s.key: s for s in (await view(permit)).deadlines}["complaint_window#2"].due
    await env.sleep(second - await env.get_current_time() + timedelta(minutes=1))
    assert (await closed_result(env, permit))["outcome"] == "refused_to_consider"
    await save_golden(permit, "mvno_permit", "complaint_window_held_then_reopened")
