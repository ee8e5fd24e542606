"""Event latency: an operator-system event through the HTTP API to the case's next activity, under a
steady offered load, against the floor of an Update sent straight to a bare workflow (no API, no logic)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC

import httpx
import uvicorn
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateStage

from api.app import create_app
from api.auth import create_key
from api.temporal import Gateway
from bench.common import Measurement, dev_server, percentile
from bench.worker_proc import bench_sandbox
from bench.workflows import UpdateThenActivity, noop
from infra.cases import start_case
from models.complaint import ComplaintInput
from tests.e2e.scenarios import poll, registered_receipt
from worker import ACTIVITIES, make_worker
from workflows.catalogue import WORKFLOWS
from workflows.complaint import SPEC


async def _next_activity_started(client: Client, case_id: str, after: float) -> float:
    """Seconds from ``after`` (epoch) to the first activity the case started after its Update."""
    for _ in range(200):
        hist = await client.get_workflow_handle(case_id).fetch_history()
        accepted = False
        for e in hist.events:
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                accepted = True
            elif accepted and e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                return e.event_time.ToDatetime(UTC).timestamp() - after
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{case_id}: no activity after the event")


async def _offer(n: int, rate: float, send: Callable[[int], Awaitable[float]]) -> list[float]:
    """Send ``n`` events at ``rate`` per second, each on its own schedule; returns their send instants."""
    t0 = time.time()

    async def one(i: int) -> float:
        await asyncio.sleep(max(0.0, t0 + i / rate - time.time()))
        return await send(i)

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def run(n: int = 60, rate: float = 5.0) -> list[Measurement]:
    async with dev_server("file+wal") as client:
        tq = f"bench-{uuid.uuid4().hex[:6]}"
        async with make_worker(
            client,
            task_queue=tq,
            workflows=[*WORKFLOWS, UpdateThenActivity],
            activities=[*ACTIVITIES, noop],
            workflow_runner=bench_sandbox(),  # the bare workflow's module imported once, as ours are
        ):
            key, _ = create_key("bench", ["staff"])
            app = create_app(gateway=Gateway(client=client), task_queue=tq)
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            server = uvicorn.Server(
                uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
            )
            serving = asyncio.create_task(server.serve())
            try:
                while not server.started:
                    await asyncio.sleep(0.05)
                ids = []
                for i in range(n):
                    inp = ComplaintInput.model_validate(
                        {
                            "complaint_number": f"LAT-{uuid.uuid4().hex[:8]}-{i}",
                            "appealed": "inaction",
                            "complainant": {"full_name": "Bench", "iin": "900101300126", "phone": "+77011234567"},
                            "description": "bench",
                            "request": "bench",
                            "addressed_to": "provider",
                            "received_at": registered_receipt().isoformat(),  # satisfied at once, any hour
                        }
                    )
                    ids.append((await start_case(client, SPEC, inp, task_queue=tq)).case_id)
                for case_id in ids:
                    await poll(client, case_id, lambda v: "satisfy" in v.pending_events)

                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:

                    async def send_api(i: int) -> float:
                        sent = time.time()
                        r = await http.post(
                            f"/v1/procedures/complaint/cases/{ids[i]}/events/satisfy",
                            json={"decided_by": "Bench", "action_taken": "answered"},
                            headers={"Authorization": f"Bearer {key}"},
                        )
                        r.raise_for_status()
                        return sent

                    sent = await _offer(n, rate, send_api)
                ours = sorted([await _next_activity_started(client, c, t) for c, t in zip(ids, sent, strict=True)])

                bare_ids = [
                    (
                        await client.start_workflow(UpdateThenActivity.run, id=f"lat-{uuid.uuid4().hex}", task_queue=tq)
                    ).id
                    for _ in range(n)
                ]

                async def send_bare(i: int) -> float:
                    sent = time.time()
                    await client.get_workflow_handle(bare_ids[i]).start_update(
                        UpdateThenActivity.event, wait_for_stage=WorkflowUpdateStage.ACCEPTED
                    )
                    return sent

                sent = await _offer(n, rate, send_bare)
                floor = sorted(
                    [await _next_activity_started(client, c, t) for c, t in zip(bare_ids, sent, strict=True)]
                )
            finally:
                server.should_exit = True
                await serving
    return [
        Measurement(
            f"event latency p{p} (API → next activity, {rate}/s)",
            "ms",
            percentile(ours, p) * 1000,
            percentile(floor, p) * 1000,
            "bare update → activity",
            percentile(ours, p) / max(percentile(floor, p), 1e-6),
            {"events": n},
        )
        for p in (50, 95, 99)
    ]
