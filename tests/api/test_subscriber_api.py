"""The subscriber procedures through the HTTP API: a mailbox application dated after the abolition of
act 71 is refused at the edge (422 naming 305/NK) and no case is started; one dated while it was in
force starts a case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from api.temporal import Gateway
from rules.calendar import ALMATY
from tests.subscribers import person, until
from worker import make_worker
from workflows.electronic_mailbox import SPEC, ElectronicMailbox

START = f"/v1/procedures/{SPEC.key}/cases"


@pytest.fixture
async def http(env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        procedures={SPEC.key: SPEC},
        gateway=Gateway(client=env.client),
        task_queue="subscriber-api",
        secret="test-secret",
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


def staff() -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key('back office (subscriber test)', ['staff'])[0]}"}


async def test_mailbox_after_abolition_is_refused_at_the_edge_and_no_case_starts(
    env: WorkflowEnvironment,
    http: httpx.AsyncClient,
) -> None:
    body = {
        "iin": person(),
        "login": "user.after305",
        "channel": "online",
        "received_at": (await env.get_current_time()).isoformat(),
    }
    r = await http.post(START, json=body, headers=staff())
    assert r.status_code == 422, r.text
    assert "abolished by Order 305/NK" in r.json()["detail"]
    from models.electronic_mailbox import MailboxApplicationInput

    with pytest.raises(RPCError):  # nothing was started under the application's id
        await env.client.get_workflow_handle(SPEC.case_id(MailboxApplicationInput.model_validate(body))).describe()


async def test_mailbox_while_the_act_was_in_force_starts_a_case(
    env: WorkflowEnvironment,
    http: httpx.AsyncClient,
) -> None:
    body = {
        "iin": person(),
        "login": "user.before305",
        "channel": "online",
        "received_at": datetime(2024, 5, 2, 10, 0, tzinfo=ALMATY).isoformat(),
    }
    # A worker runs the case: a workflow task left pending would stall the test server's clock for later tests.
    async with make_worker(env.client, task_queue="subscriber-api", workflows=[ElectronicMailbox]):
        r = await http.post(START, json=body, headers=staff())
        assert r.status_code == 201, r.text
        handle = env.client.get_workflow_handle(r.json()["case_id"])
        case = await until(
            lambda: handle.query(ElectronicMailbox.case), lambda c: c.status == "awaiting_eds_confirmation" or c.closed
        )
        assert case.status == "awaiting_eds_confirmation"
        await handle.terminate("test done")


async def test_portal_sends_the_typed_code_and_only_its_digest_enters_history(env: WorkflowEnvironment) -> None:
    from api.auth import create_key
    from models.egov_number_connection import Channel
    from tests.subscribers import history_text, new_phone, sms_secret
    from workflows.egov_number_connection import SPEC as EGOV
    from workflows.egov_number_connection import EgovNumberConnection

    app = create_app(
        procedures={EGOV.key: EGOV}, gateway=Gateway(client=env.client), task_queue="egov-api", secret="test-secret"
    )
    portal = {"Authorization": f"Bearer {create_key('portal (test)', ['operator:egov_portal'])[0]}"}
    iin, phone = person(), new_phone()
    async with (
        make_worker(env.client, task_queue="egov-api", workflows=[EgovNumberConnection]),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http,
    ):
        r = await http.post(
            f"/v1/procedures/{EGOV.key}/cases",
            headers=portal,
            json={
                "iin": iin,
                "phone": phone,
                "channel": Channel.PORTAL.value,
                "received_at": (await env.get_current_time()).isoformat(),
            },
        )
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        handle = env.client.get_workflow_handle(case_id)
        await until(lambda: handle.query(EgovNumberConnection.egov), lambda v: v.otp_id is not None)
        events = f"/v1/procedures/{EGOV.key}/cases/{case_id}/events/enter_otp"
        wrong = await http.post(events, headers=portal, json={"code": "000000"})
        assert wrong.status_code == 200 and wrong.json()["result"]["correct"] is False
        code = sms_secret(phone, "1414")
        right = await http.post(events, headers=portal, json={"code": code})
        assert right.status_code == 200 and right.json()["result"]["correct"] is True, right.text
        text = await history_text(handle)
        assert phone in text and f'"{code}"' not in text and "000000" not in text
        await handle.terminate("test done")
