"""Case throughput of each procedure against a bare workflow of the same shape, durability modes, memory
per open case, and replay speed — each measured side by side with its floor in the same run.

The shape of a procedure's path (activities, local activities, updates, timers) is read from the history
of one of its cases run first, so the bare floor has exactly as many of each.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from bench.common import Measurement, dev_server
from bench.workflows import BareCase, BareShape, noop
from cli.common import load_json_model
from infra.cases import start_case
from infra.client import data_converter
from infra.receipts import WORKER_INTERCEPTORS
from infra.sandbox import SANDBOX
from models.mvno_permit import PermitApplication
from tests.e2e import scenarios
from tests.e2e.scenarios import SCENARIOS, Scenario
from worker import ACTIVITIES, make_worker
from workflows.catalogue import WORKFLOWS
from workflows.mvno_permit import SPEC as PERMIT

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


async def throughput(n: int = 30, mode: str = "file+wal") -> list[Measurement]:
    """Completed cases per second of each procedure's path, and of its bare floor, on one server."""
    scenarios.POLL_SECONDS = 0.01  # each event goes in as soon as the case can take it
    out: list[Measurement] = []
    async with dev_server(mode) as client:
        tq = f"bench-{uuid.uuid4().hex[:6]}"
        async with make_worker(client, task_queue=tq, workflows=[*WORKFLOWS, BareCase], activities=[*ACTIVITIES, noop]):
            for sc in SCENARIOS:
                _, [probe] = await _ours(client, tq, sc, 1)
                shape = shape_of(await client.get_workflow_handle(probe).fetch_history())
                ours, _ = await _ours(client, tq, sc, n)
                bare, _ = await _bare(client, tq, shape, n)
                out.append(
                    Measurement(
                        f"throughput {sc.name} [{mode}]",
                        "cases/s",
                        ours,
                        bare,
                        "bare same shape",
                        ours / bare,
                        {"cases": n, "shape": shape.model_dump()},
                    )
                )
    return out


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


def _traced_kib() -> float:
    """Python memory held now (after a collection), as tracemalloc sees it; RSS is too coarse per case."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0] / 1024


async def memory(n: int = 300) -> list[Measurement]:
    """Worker memory per open case (a permit case waiting at its completeness check) against bare ones."""
    async with dev_server("file+wal") as client:
        tq = f"bench-{uuid.uuid4().hex[:6]}"
        async with make_worker(client, task_queue=tq, workflows=[*WORKFLOWS, BareCase], activities=[*ACTIVITIES, noop]):

            async def settle(ids: list[str], ok: Any) -> None:
                for case_id in ids:
                    for _ in range(400):
                        if await ok(case_id):
                            break
                        await asyncio.sleep(0.05)

            tracemalloc.start()
            base = _traced_kib()
            demo = load_json_model(DEMO_PERMIT, PermitApplication)
            apps = [
                demo.model_copy(
                    update={"application_number": f"MEM-{uuid.uuid4().hex[:10]}", "received_at": datetime.now(UTC)}
                )
                for _ in range(n)
            ]
            handles = [(await start_case(client, PERMIT, a, task_queue=tq)).case_id for a in apps]

            async def waiting(case_id: str) -> bool:
                v = await client.get_workflow_handle(case_id).query("case")
                return "completeness_decision" in v["pending_events"]

            await settle(handles, waiting)
            ours = (_traced_kib() - base) / n
            base = _traced_kib()
            bare = [
                await client.start_workflow(
                    BareCase.run, BareShape(updates=1), id=f"mem-{uuid.uuid4().hex}", task_queue=tq
                )
                for _ in range(n)
            ]

            async def started(case_id: str) -> bool:
                hist = await client.get_workflow_handle(case_id).fetch_history()
                return any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in hist.events)

            await settle([h.id for h in bare], started)
            floor = (_traced_kib() - base) / n
            tracemalloc.stop()
            for case_id in [*handles, *(h.id for h in bare)]:
                await client.get_workflow_handle(case_id).terminate("benchmark done")
    return [
        Measurement(
            "worker memory per open case (permit at completeness check)",
            "KiB",
            ours,
            floor,
            "bare waiting workflow",
            ours / floor,
            {"cases": n},
        )
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
