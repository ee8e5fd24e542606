"""Durability modes and replay speed, each measured side by side with its floor in the same run. (Throughput, CPU
and memory per case against the fair floor: ``bench/bench_cpu.py``.)

The replay floor's shape (activities, local activities, updates, timers) is read from each golden history.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from bench.common import Measurement, dev_server
from bench.workflows import BareCase, BareShape, noop
from infra.client import data_converter
from infra.receipts import WORKER_INTERCEPTORS
from infra.sandbox import SANDBOX
from tests.e2e import scenarios
from tests.e2e.scenarios import SCENARIOS, Scenario
from worker import make_worker
from workflows.catalogue import WORKFLOWS

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
DEMO_PERMIT = ROOT / "demo" / "mvno_permit" / "application.json"


def shape_of(history: WorkflowHistory) -> BareShape:
    """How many activities, local activities (markers), updates and fired timers a history holds."""
    n = {t: 0 for t in ("act", "local", "upd", "timer")}
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            n["act"] += 1
        elif e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            n["local"] += 1
        elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            n["upd"] += 1
        elif e.event_type == EventType.EVENT_TYPE_TIMER_FIRED:  # a deadline wait cancelled by its event is no wait
            n["timer"] += 1
    return BareShape(activities=n["act"], local_activities=n["local"], updates=n["upd"], timers=n["timer"])


async def _ours(client: Client, tq: str, sc: Scenario, n: int) -> tuple[float, list[str]]:
    async def one(i: int) -> str:
        case_id = await sc.start(client, tq, f"{uuid.uuid4().hex[:10]}-{i}")
        await sc.drive(client, case_id)
        await sc.finished(client, case_id)
        return case_id

    t0 = time.perf_counter()
    ids = await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - t0), list(ids)


async def _bare(client: Client, tq: str, shape: BareShape, n: int) -> tuple[float, list[str]]:
    async def one(i: int) -> str:
        h = await client.start_workflow(BareCase.run, shape, id=f"bare-{uuid.uuid4().hex}", task_queue=tq)
        for _ in range(shape.updates):
            await h.execute_update(BareCase.event)
        await h.result()
        return h.id

    t0 = time.perf_counter()
    ids = await asyncio.gather(*(one(i) for i in range(n)))
    return n / (time.perf_counter() - t0), list(ids)


async def durability(n: int = 30) -> list[Measurement]:
    """The same case load in each dev-server durability mode; the floor is the in-memory server."""
    scenarios.POLL_SECONDS = 0.01
    sc = SCENARIOS[0]
    rates: dict[str, float] = {}
    for mode in ("memory", "file", "file+wal"):
        async with dev_server(mode) as client:
            tq = f"bench-{uuid.uuid4().hex[:6]}"
            async with make_worker(client, task_queue=tq):
                await _ours(client, tq, sc, 2)  # warm up
                rates[mode], _ = await _ours(client, tq, sc, n)
    return [
        Measurement(
            f"durability {sc.name} [{mode}]",
            "cases/s",
            rate,
            rates["memory"],
            "in-memory server",
            rate / rates["memory"],
            {"cases": n},
        )
        for mode, rate in rates.items()
    ]


async def replay(repeat: int = 3) -> list[Measurement]:
    """Replay of the golden histories against bare histories with the same shapes, histories per second."""
    goldens = []
    for path in sorted(GOLDEN.glob("*/*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        goldens.append(WorkflowHistory.from_json(doc["workflow_id"], doc["history"]))
    async with dev_server("memory") as client:
        tq = f"bench-{uuid.uuid4().hex[:6]}"
        async with make_worker(client, task_queue=tq, workflows=[BareCase], activities=[noop]):
            _, ids = await _bare_histories(client, tq, [shape_of(h) for h in goldens])
            bare = [await client.get_workflow_handle(i).fetch_history() for i in ids]
    ours_r = Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(),
        workflow_runner=SANDBOX,
        interceptors=WORKER_INTERCEPTORS,
    )
    bare_r = Replayer(workflows=[BareCase], data_converter=data_converter(), workflow_runner=SANDBOX)

    async def rate(r: Replayer, hs: list[WorkflowHistory]) -> float:
        t0 = time.perf_counter()
        for _ in range(repeat):
            async with r.workflow_replay_iterator(_aiter(hs)) as results:
                async for res in results:
                    if res.replay_failure is not None:
                        raise RuntimeError(f"replay failed: {res.replay_failure}")
        return repeat * len(hs) / (time.perf_counter() - t0)

    ours, floor = await rate(ours_r, goldens), await rate(bare_r, bare)
    return [
        Measurement(
            "replay of golden histories",
            "histories/s",
            ours,
            floor,
            "bare same shape",
            ours / floor,
            {"histories": len(goldens), "events": sum(len(h.events) for h in goldens)},
        )
    ]


async def _bare_histories(client: Client, tq: str, shapes: list[BareShape]) -> tuple[float, list[str]]:
    ids = []
    for shape in shapes:
        _, [i] = await _bare(client, tq, shape, 1)
        ids.append(i)
    return 0.0, ids


async def _aiter(items: list[WorkflowHistory]) -> Any:
    for i in items:
        yield i
