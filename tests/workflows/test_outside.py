"""Calling an outside system from a case (``workflows.outside``, ``CaseWorkflow.outside``): a procedure whose SMS
gateway is the HTTP one (``adapters.sms_gateway``) against a real local server. The activity's retry policy
rides out the gateway's outage, a refusal for good blocks the case until staff resume it, and the one-time code
reaches the subscriber exactly once."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.otp import OtpActivities
from activities.sms import SmsActivities
from adapters.sms_gateway import HttpSmsGateway
from infra.cases import pending_calls
from models.case import ResumeRequest
from models.egov_number_connection import Channel, EgovConnectionInput
from models.identification import BiometricReport
from tests.http_servers import TOKEN, Gateway, serve
from tests.subscribers import digest_entry, new_phone, person, until
from worker import make_worker
from workflows.egov_number_connection import SPEC, EgovNumberConnection


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[Gateway, str]]:
    state = Gateway()
    with serve(state.app()) as base:
        yield state, f"{base}/v1/sms"


@pytest.fixture
async def worker(env: WorkflowEnvironment, task_queue: str, gateway: tuple[Gateway, str]) -> AsyncIterator[None]:
    sms = HttpSmsGateway(gateway[1], TOKEN, timeout=5)
    systems = [SmsActivities(sms), OtpActivities(sms)]
    async with make_worker(env.client, task_queue=task_queue, workflows=[EgovNumberConnection], systems=systems):
        yield


async def start(env: WorkflowEnvironment, task_queue: str, iin: str, phone: str) -> WorkflowHandle:
    inp = EgovConnectionInput(iin=iin, phone=phone, channel=Channel.BANK_APP, received_at=await env.get_current_time())
    return await env.client.start_workflow(EgovNumberConnection.run, inp, id=SPEC.case_id(inp), task_queue=task_queue)


def code_sent_to(state: Gateway, phone: str) -> tuple[str, list[str]]:
    """The code in the one SMS the gateway accepted for ``phone``, and the ids it accepted for it."""
    ids = [mid for mid, (body, _) in state.accepted.items() if body["to"] == phone]
    assert len(ids) == 1, f"the gateway accepted {len(ids)} SMS for the number"
    m = re.search(r"код (\d{6})", state.accepted[ids[0]][0]["text"])
    assert m
    return m.group(1), ids


async def finish(handle: WorkflowHandle, code: str) -> None:
    view = await handle.query(EgovNumberConnection.egov)
    assert view.otp_id is not None
    assert (await handle.execute_update(EgovNumberConnection.enter_otp, digest_entry(view.otp_id, code))).correct
    report = BiometricReport(session_id=f"bio-{uuid.uuid4()}", passed=True)
    await handle.execute_update(EgovNumberConnection.report_biometrics, report)
    assert (await handle.result()).outcome == "connected"


async def test_the_code_goes_out_once_through_the_http_gateway_after_its_outage(
    env: WorkflowEnvironment, task_queue: str, worker: None, gateway: tuple[Gateway, str]
) -> None:
    state, _ = gateway
    iin, phone = person(), new_phone()
    state.fail_next = [503, 503]
    handle = await start(env, task_queue, iin, phone)
    case = await until(lambda: handle.query(EgovNumberConnection.case), lambda c: c.status.startswith("awaiting"))
    assert case.blocked is None and not state.fail_next
    code, _ = code_sent_to(state, phone)
    await finish(handle, code)


async def test_a_gateway_refusing_the_code_blocks_the_request_until_staff_resume(
    env: WorkflowEnvironment, task_queue: str, worker: None, gateway: tuple[Gateway, str]
) -> None:
    state, _ = gateway
    iin, phone = person(), new_phone()
    state.answer_with = 422
    try:
        handle = await start(env, task_queue, iin, phone)
        case = await until(lambda: handle.query(EgovNumberConnection.case), lambda c: c.blocked is not None)
        assert case.status == "blocked" and case.blocked is not None and case.blocked.what == "sms_gateway"
        assert case.blocked.error_type == "SmsGatewayRefused" and "HTTP 422" in case.blocked.error
        # the refused call is not retried (the supervisor's notice may still be on its way)
        retried = [c for c in await pending_calls(env.client, handle.id) if c.activity == "issue_secret"]
        assert phone not in case.blocked.error and retried == []
    finally:
        state.answer_with = None
    await handle.execute_update("resume_outside_step", ResumeRequest(by="Operator on duty", note="number allowed"))
    await until(lambda: handle.query(EgovNumberConnection.case), lambda c: c.status.startswith("awaiting"))
    code, _ = code_sent_to(state, phone)
    await finish(handle, code)
