"""The cases' counters (``workflows.metrics``) on a worker's Prometheus endpoint (``infra.telemetry``), beside
the SDK's own metrics: a case that starts, breaches its legal term, is blocked by an SMS gateway refusing for
good, is resumed and closes is counted once each, per procedure, term and system; replaying its history on
the same runtime counts nothing again."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from models.case import ResumeRequest
from models.deadlines import DeadlineStatus
from models.sms import SmsReceipt, SmsRequest
from rules.calendar import ALMATY, WorkingCalendar
from workflows.metrics import BLOCKED, BREACHED, CLOSED, STARTED, CaseMetrics

with workflow.unsafe.imports_passed_through():
    import httpx

    from activities.sms import SmsActivities
    from infra.client import data_converter
    from infra.sandbox import SANDBOX
    from infra.telemetry import metrics_runtime
    from tests.e2e.procs import free_port
    from tests.workflows.probes import MetricsProbe, ProbeInput
    from worker import make_worker


class RefusingOnce:
    """An SMS gateway that refuses the first message for good, then accepts."""

    def __init__(self) -> None:
        self.refused = False

    def send(self, req: SmsRequest) -> SmsReceipt:
        if not self.refused:
            self.refused = True
            raise ApplicationError("number not served", type="SmsGatewayRefused", non_retryable=True)
        return SmsReceipt(message_id=req.message_id, accepted_at=datetime.now(ALMATY))


@pytest.fixture
async def metered(env: WorkflowEnvironment) -> AsyncIterator[tuple[Client, str]]:
    """A client on the test server whose runtime serves Prometheus on a free port (as the worker's does)."""
    address = f"127.0.0.1:{free_port()}"
    client = await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=data_converter(),
        runtime=metrics_runtime(address),
    )
    yield client, f"http://{address}/metrics"


def scrape(url: str, name: str, **labels: str) -> float:
    """The value of metric ``name`` with ``labels`` (0 when absent); Prometheus may add ``_total``."""
    body = httpx.get(url, timeout=5).text
    total = 0.0
    for line in body.splitlines():
        m = re.match(rf"^{name}(?:_total)?\{{(.*)\}} ([0-9.e+-]+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            total += float(m.group(2))
    return total


def next_tuesday_morning(today: date) -> datetime:
    cal = WorkingCalendar()
    day = today + timedelta(days=7)
    while day.weekday() != 1 or not cal.is_working_day(day) or not cal.is_working_day(day + timedelta(days=3)):
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=ALMATY)


async def test_a_case_is_counted_once_per_start_breach_block_and_close(
    env: WorkflowEnvironment, task_queue: str, metered: tuple[Client, str]
) -> None:
    client, url = metered
    now = await env.get_current_time()
    received = next_tuesday_morning(now.astimezone(ALMATY).date())
    systems = [SmsActivities(RefusingOnce())]
    worker = make_worker(client, task_queue=task_queue, workflows=[MetricsProbe], systems=systems)
    async with worker:
        handle = await client.start_workflow(
            MetricsProbe.run, ProbeInput(received_at=received), id=f"probe-{uuid.uuid4()}", task_queue=task_queue
        )
        await env.sleep(timedelta(seconds=1))
        assert scrape(url, STARTED, procedure="metrics_probe") == 1
        assert scrape(url, BREACHED, procedure="metrics_probe") == 0

        [state] = await handle.query(MetricsProbe.deadlines)
        await env.sleep(state.due - await env.get_current_time() + timedelta(seconds=2))
        # the fired timer's task may still run on a loaded machine: wait for it in real time
        for _ in range(600):
            [state] = await handle.query(MetricsProbe.deadlines)
            if state.status is DeadlineStatus.BREACHED:
                break
            await asyncio.sleep(0.05)
        assert state.status is DeadlineStatus.BREACHED
        assert scrape(url, BREACHED, procedure="metrics_probe", term="fraud.check") == 1

        await handle.execute_update(MetricsProbe.decide)
        view = await handle.query(MetricsProbe.case)
        while view.blocked is None:
            await env.sleep(timedelta(seconds=1))
            view = await handle.query(MetricsProbe.case)
        assert scrape(url, BLOCKED, procedure="metrics_probe", system="sms_gateway") == 1
        await handle.execute_update("resume_outside_step", ResumeRequest(by="Operator on duty", note="allowed"))
        assert (await handle.result()).status is DeadlineStatus.BREACHED
    # a replay of the whole case on the same runtime (a worker picking it up from its history) counts nothing again
    replayer = Replayer(
        workflows=[MetricsProbe],
        data_converter=data_converter(),
        workflow_runner=SANDBOX,
        interceptors=[CaseMetrics()],
        runtime=client.service_client.config.runtime,
    )
    assert (await replayer.replay_workflow(await handle.fetch_history())).replay_failure is None
    assert scrape(url, STARTED, procedure="metrics_probe") == 1
    assert scrape(url, BREACHED, procedure="metrics_probe") == 1
    assert scrape(url, BLOCKED, procedure="metrics_probe") == 1
    assert scrape(url, CLOSED, procedure="metrics_probe", outcome="completed") == 1
    # the SDK's metrics are on the same endpoint: the ones docs/PRODUCTION.md says to alert on
    body = httpx.get(url, timeout=5).text
    assert "temporal_workflow_task_schedule_to_start_latency" in body
    assert "temporal_activity_schedule_to_start_latency" in body
    assert "temporal_workflow_completed" in body
