"""Fraud reports through the HTTP API take the one start path (update-with-start, 171 p.119): a report about
a number whose case runs is recorded in that case (``joined``), and a report about a number whose case
closed opens a new check (a new run under the same id)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from api.temporal import Gateway
from models.fraud_check import AnyReport
from tests.subscribers import until
from tests.workflows.test_fraud_check import centre_information, new_number, subscriber_report
from worker import make_worker
from workflows.fraud_check import SPEC, FraudCheck

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
    return {"Authorization": f"Bearer {create_key(f'{role} (fraud api test)', [role])[0]}"}


def body(report: AnyReport) -> dict[str, Any]:
    return {"first": report.model_dump(mode="json")}


async def test_a_report_about_a_running_case_joins_it_and_one_after_it_closed_opens_a_new_check(
    env: WorkflowEnvironment, http: httpx.AsyncClient
) -> None:
    number, now = new_number(), await env.get_current_time()
    staff, centre = key("staff"), key("operator:antifraud_centre")

    first = await http.post(START, json=body(subscriber_report(number, now)), headers=staff)
    assert first.status_code == 201, first.text
    case_id = first.json()["case_id"]
    assert first.json()["answer"] == "opened"
    handle = env.client.get_workflow_handle_for(FraudCheck.run, case_id)
    first_run = (await handle.describe()).run_id

    joined = await http.post(START, json=body(centre_information(number, now)), headers=centre)
    assert joined.status_code == 200, joined.text
    assert joined.json()["case_id"] == case_id and joined.json()["answer"] == "joined"
    assert joined.json()["result"]["reports_in_case"] == 2
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
    closed = await until(handle.describe, lambda d: d.status is not WorkflowExecutionStatus.RUNNING)
    assert closed.status is WorkflowExecutionStatus.COMPLETED

    later = await http.post(START, json=body(subscriber_report(number, now)), headers=staff)
    assert later.status_code == 201, later.text
    assert later.json()["case_id"] == case_id and later.json()["answer"] == "opened"
    new_run = (await env.client.get_workflow_handle(case_id).describe()).run_id
    assert new_run != first_run  # a new check (171 p.119), not the closed case returned
    latest = env.client.get_workflow_handle_for(FraudCheck.run, case_id)
    assert [c.key for c in await latest.query(FraudCheck.deadlines)] == ["check"]
    await latest.terminate("test done")
