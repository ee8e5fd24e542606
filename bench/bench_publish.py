"""What publishing a step costs the engine: a search-attribute upsert, a memo upsert, both, or nothing, per step.

A case publishes each step it rests at (its status and next deadline as search attributes, the changed term's record
in the memo; docs/DESIGN-NOTES.md, issue 18, "Decided"). ``bench.workflows.PublishingSteps`` runs steps of one
workflow task each (a short timer) that publish one of the four, the same attributes and a term record's size; the
worker (``bench.worker_proc``) and the dev server run in processes of their own, and their CPU per step is read from
``/proc`` around each batch. The four alternate within each round; the figure is the median over the rounds, beside
a step that publishes nothing.

Run: ``python3 scripts/benchmark.py publish``.
"""

from __future__ import annotations

import asyncio
import statistics
import uuid

from temporalio.client import Client

from bench.common import Measurement
from bench.procs import Proc, dev_server_process, worker_process
from bench.workflows import PUBLISHING, PublishingSteps
from infra.client import data_converter

__all__ = ["run"]


async def _batch(client: Client, tq: str, publishing: str, n: int, steps: int, watch: list[Proc]) -> list[float]:
    """Engine CPU (worker, server) per step, ms, of ``n`` workflows of ``steps`` steps at once."""
    before = [p.cpu() for p in watch]
    await asyncio.gather(
        *(
            client.execute_workflow(
                PublishingSteps.run, args=[publishing, steps], id=f"publish-{uuid.uuid4().hex}", task_queue=tq
            )
            for _ in range(n)
        )
    )
    return [(p.cpu() - b) / (n * steps) * 1000 for p, b in zip(watch, before, strict=True)]


async def run(n: int = 12, steps: int = 12, rounds: int = 4) -> list[Measurement]:
    """Worker and server CPU per step of each kind of publication against a step that publishes nothing."""
    figures: dict[str, list[list[float]]] = {k: [] for k in PUBLISHING}
    async with dev_server_process() as (server, client0):
        address = client0.service_client.config.target_host
        client = await Client.connect(address, data_converter=data_converter())
        tq = f"bench-publish-{uuid.uuid4().hex[:6]}"
        async with worker_process(address, tq) as worker:
            await _batch(client, tq, "both", 2, 2, [worker, server])  # warm: the workflow imported, the key loaded
            for r in range(rounds):
                for publishing in PUBLISHING if r % 2 == 0 else tuple(reversed(PUBLISHING)):
                    figures[publishing].append(await _batch(client, tq, publishing, n, steps, [worker, server]))
    median = {k: [statistics.median(v[i] for v in vs) for i in range(2)] for k, vs in figures.items()}
    base_worker, base_server = median["nothing"]
    out = []
    for publishing in PUBLISHING[1:]:
        w, s = median[publishing]
        out.append(
            Measurement(
                f"a step publishing {publishing.replace('_', '-')}: engine CPU per step",
                "ms",
                w + s,
                base_worker + base_server,
                "a step publishing nothing",
                (w + s) / max(base_worker + base_server, 1e-6),
                {
                    "worker_ms": w,
                    "server_ms": s,
                    "nothing_worker_ms": base_worker,
                    "nothing_server_ms": base_server,
                    "rounds_server_ms": [v[1] for v in figures[publishing]],
                    "workflows": n,
                    "steps": steps,
                },
            )
        )
    return out
