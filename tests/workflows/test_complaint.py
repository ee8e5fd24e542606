"""Complaint appeals on the time-skipping server with the real calendar."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta

import pytest
from pydantic import BaseModel
from sqlmodel import select
from temporalio import workflow
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from infra import outages
from infra.cases import pending_calls
from infra.db import session
from infra.store import load_document
from models.case import CaseView, ComplaintInstruction, ResumeRequest
from models.complaint import ComplaintInput, ForwardRequest, ReviewDecision, Satisfaction, Withdrawal
from models.deadlines import DeadlineStatus
from models.tables import ComplaintForward, SmsOutbox, SupervisorNotification
from rules.calendar import ALMATY, WorkingCalendar
from worker import make_worker
from workflows.case import CaseWorkflow
from workflows.catalogue import WORKFLOWS
from workflows.complaint import AUTO_FORWARD_MARGIN, Complaint

with workflow.unsafe.imports_passed_through():
    from tests.golden_tools import save_golden

CAL = WorkingCalendar()
IIN = "900101300126"


class AppealedInput(BaseModel):
    received_at: datetime


@workflow.defn
class AppealedCase(CaseWorkflow):
    """A stand-in for any procedure's case: it registers, has a deadline, and obeys instructions."""

    PROCEDURE = "appealed_probe"

    def __init__(self) -> None:
        super().__init__()
        self.reopened = False

    @workflow.run
    async def run(self, inp: AppealedInput) -> str:
        await self.register("665/NK", inp.received_at)
        self.set_status("refused")
        await self.clock.open("completeness", "mvno.completeness_check", inp.received_at)
        self.clock.met("completeness")
        await workflow.wait_condition(lambda: self.reopened)
        return "reopened"

    async def on_complaint_instruction(self, instruction: ComplaintInstruction) -> str:
        self.reopened = instruction.action == "reopen"
        self.set_status("completeness_check")
        return "reopened for a new decision" if self.reopened else "recorded"


@pytest.fixture
async def worker(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[Worker]:
    async with make_worker(env.client, task_queue=task_queue, workflows=[*WORKFLOWS, AppealedCase]) as w:
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


async def start_appealed(env: WorkflowEnvironment, task_queue: str, received_at: datetime) -> WorkflowHandle:
    return await env.client.start_workflow(
        AppealedCase.run,
        AppealedInput(received_at=received_at),
        id=f"appealed-{uuid.uuid4().hex[:12]}",
        task_queue=task_queue,
    )


async def view(handle: WorkflowHandle) -> CaseView:
    return await handle.query("case", result_type=CaseView)


def at_office(day: date, hour: int = 11) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ALMATY)


async def next_working_morning(env: WorkflowEnvironment) -> datetime:
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    return at_office(CAL.add_working_days(today, 1), 10)


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


async def test_nobody_acts_so_it_is_forwarded_at_the_deadline_with_the_administrative_case(
    env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
) -> None:
    received = await next_working_morning(env)
    appealed = await start_appealed(env, task_queue, received - timedelta(days=20))
    handle = await start(env, task_queue, complaint(received, appealed_case_id=appealed.id))
    await env.sleep(timedelta(seconds=2))
    forward_due = {s.key: s for s in (await view(handle)).deadlines}["forward"].due
    assert forward_due == datetime.combine(CAL.add_working_days(received.date(), 3), time(18, 30), tzinfo=ALMATY)

    trigger = forward_due - AUTO_FORWARD_MARGIN
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
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    year = today.year if today < date(today.year, 3, 1) else today.year + 1
    eve = CAL.add_working_days(date(year, 3, 21), -1)
    handle = await start(env, task_queue, complaint(at_office(eve, 17), addressed_to=addressed_to))
    await env.sleep(timedelta(seconds=2))
    review = {s.key: s for s in (await view(handle)).deadlines}["review"]
    expected = CAL.add_working_days(eve, days)
    assert review.due == datetime.combine(expected, time(18, 30), tzinfo=ALMATY)
    assert (expected - eve).days > days + 2  # the holidays were skipped, not counted
    assert any("Nowruz" in s.name for s in review.deadline.skipped)
    assert review.deadline.cite == cite
    await handle.execute_update("withdraw", Withdrawal(reason="test over"))
    await handle.result()


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
    review_due = {s.key: s for s in (await view(handle)).deadlines}["review"].due
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
    from models.mvno_permit import CompletenessDecision, PermitCaseView
    from tests.cases import stop
    from tests.workflows.permit_cases import application, start_permit_case
    from workflows.mvno_permit import MvnoPermit

    received = await next_working_morning(env)
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

    handle = await start(env, task_queue, complaint(received + timedelta(days=1), appealed_case_id=permit.id))
    await env.sleep(timedelta(seconds=2))
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
    assert any(n.startswith("documents/") for n in names)  # the refusal the permit case produced

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
