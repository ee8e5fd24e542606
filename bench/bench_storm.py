"""Deadline storm: N open cases whose legal deadlines fall on the same instant; how late each breach is
recorded, against bare timers to the same instant (the engine's floor), each on a dev server of its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import Client

from bench.common import Measurement, dev_server, percentile
from bench.workflows import BareTimer, StormCase, StormInput
from worker import make_worker


async def _start_all(client: Client, tq: str, n: int, make: object) -> list:  # type: ignore[type-arg]
    sem = asyncio.Semaphore(50)

    async def one(i: int):  # type: ignore[no-untyped-def]
        async with sem:
            return await make(i)  # type: ignore[operator]

    return await asyncio.gather(*(one(i) for i in range(n)))


async def _storm(kind: str, n: int, lead_seconds: float) -> list[float]:
    """Seconds late of each of ``n`` deadlines falling on one instant, on a dev server and worker of their own."""
    async with dev_server("file+wal") as client:
        tq = f"bench-storm-{uuid.uuid4().hex[:6]}"
        async with make_worker(client, task_queue=tq, workflows=[StormCase, BareTimer]):
            now = datetime.now().astimezone()
            due = now + timedelta(seconds=lead_seconds)
            start = due - timedelta(minutes=10)  # the 10-minute term of 58 Annex item 3 ends at `due`

            def make(i: int) -> Any:
                if kind == "ours":
                    return client.start_workflow(
                        StormCase.run, StormInput(start=start), id=f"storm-{tq}-{i}", task_queue=tq
                    )
                return client.start_workflow(BareTimer.run, due, id=f"bare-{tq}-{i}", task_queue=tq)

            handles = await _start_all(client, tq, n, make)
            if datetime.now().astimezone() >= due:
                raise RuntimeError(f"starting {n} cases took longer than the {lead_seconds}s lead; raise it")
            # Wait past the instant, then collect the (finished) results a few at a time: thousands of
            # concurrent result long-polls exceed the dev server's per-namespace poller limit.
            await asyncio.sleep(max(0.0, (due - datetime.now().astimezone()).total_seconds()) + 5)
            sem = asyncio.Semaphore(32)

            async def result(h):  # type: ignore[no-untyped-def]
                async with sem:
                    return await h.result()

            got = await asyncio.gather(*(result(h) for h in handles))
    if kind == "ours":
        return sorted((s.breached_at - s.due).total_seconds() for s in got)
    return sorted((f - due).total_seconds() for f in got)


async def run(n: int = 2000, lead_seconds: float = 90.0) -> list[Measurement]:
    """Ours and the bare timers each on a dev server of their own, one after the other: neither slows the other."""
    late = await _storm("ours", n, lead_seconds)
    late_bare = await _storm("bare", n, lead_seconds)
    return [
        Measurement(
            "deadline storm p50 lateness",
            "s",
            percentile(late, 50),
            percentile(late_bare, 50),
            "bare timers",
            percentile(late, 50) / max(percentile(late_bare, 50), 1e-3),
            {"cases": n},
        ),
        Measurement(
            "deadline storm p99 lateness",
            "s",
            percentile(late, 99),
            percentile(late_bare, 99),
            "bare timers",
            percentile(late, 99) / max(percentile(late_bare, 99), 1e-3),
            {"cases": n, "max_s": late[-1], "bare_max_s": late_bare[-1]},
        ),
    ]
