"""Deadline storm: N open cases whose legal deadlines fall on the same instant; how late each breach is
recorded, against bare timers to the same instant (the engine's floor). Ours and the bare timers each run on a dev
server and a worker of their own (processes apart, one after the other), and the CPU the worker and the server spend
from just before the instant until every result is in is the storm's cost: per breach, it sizes a deployment."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import Client

from bench.common import Measurement, percentile
from bench.procs import dev_server_process, worker_process
from bench.workflows import BareTimer, StormCase, StormInput


async def _start_all(client: Client, n: int, make: Any) -> list[Any]:
    sem = asyncio.Semaphore(50)

    async def one(i: int) -> Any:
        async with sem:
            return await make(i)

    return await asyncio.gather(*(one(i) for i in range(n)))


async def _storm(kind: str, n: int, lead_seconds: float) -> tuple[list[float], float]:
    """Seconds late of each of ``n`` deadlines falling on one instant, and the engine CPU seconds (worker + server)
    spent on them from two seconds before the instant until every result is in."""
    async with dev_server_process() as (server, client):
        address = client.service_client.config.target_host
        tq = f"bench-storm-{uuid.uuid4().hex[:6]}"
        async with worker_process(address, tq) as worker:
            due = datetime.now().astimezone() + timedelta(seconds=lead_seconds)
            start = due - timedelta(minutes=10)  # the 10-minute term of 58 Annex item 3 ends at `due`

            def make(i: int) -> Any:
                if kind == "ours":
                    return client.start_workflow(
                        StormCase.run, StormInput(start=start), id=f"storm-{tq}-{i}", task_queue=tq
                    )
                return client.start_workflow(BareTimer.run, due, id=f"bare-{tq}-{i}", task_queue=tq)

            handles = await _start_all(client, n, make)
            if datetime.now().astimezone() >= due - timedelta(seconds=2):
                raise RuntimeError(f"starting {n} cases took longer than the {lead_seconds}s lead; raise it")
            await asyncio.sleep((due - datetime.now().astimezone()).total_seconds() - 2)
            cpu0 = worker.cpu() + server.cpu()
            # Wait past the instant, then collect the (finished) results a few at a time: thousands of
            # concurrent result long-polls exceed the dev server's per-namespace poller limit.
            await asyncio.sleep(max(0.0, (due - datetime.now().astimezone()).total_seconds()) + 5)
            sem = asyncio.Semaphore(32)

            async def result(h: Any) -> Any:
                async with sem:
                    return await h.result()

            got = await asyncio.gather(*(result(h) for h in handles))
            cpu = worker.cpu() + server.cpu() - cpu0
    if kind == "ours":
        return sorted((s.breached_at - s.due).total_seconds() for s in got), cpu
    return sorted((f - due).total_seconds() for f in got), cpu


async def run(n: int = 2000, lead_seconds: float = 90.0) -> list[Measurement]:
    """Ours, then the bare timers, each on a dev server of its own: neither slows the other."""
    late, cpu = await _storm("ours", n, lead_seconds)
    late_bare, cpu_bare = await _storm("bare", n, lead_seconds)
    out = [
        Measurement(
            f"deadline storm p{p} lateness",
            "s",
            percentile(late, p),
            percentile(late_bare, p),
            "bare timers",
            percentile(late, p) / max(percentile(late_bare, p), 1e-3),
            {"cases": n, "max_s": late[-1], "bare_max_s": late_bare[-1]},
        )
        for p in (50, 99)
    ]
    out.append(
        Measurement(
            "deadline storm engine CPU per breach",
            "ms",
            cpu / n * 1000,
            cpu_bare / n * 1000,
            "bare timers",
            cpu / max(cpu_bare, 1e-6),
            {"cases": n, "engine_cpu_s": [cpu, cpu_bare]},
        )
    )
    return out
