"""A benchmark driver, in a process of its own: one batch of cases of a procedure (``--kind ours``, driven by its
end-to-end scenario, ``tests/e2e/scenarios.py``) or of its floor (``--kind floor``, ``FloorCase`` replaying the
procedure's script), all at once. It prints ``ready``, waits for ``go`` on stdin (the orchestrator samples the
worker's and the server's CPU then), runs the batch and prints one JSON line: the case ids, its own CPU seconds over
the batch, and the queries and Updates it sent per case.

Both kinds drive alike: before each Update the driver asks the case (a query every ``POLL_SECONDS``) whether it
waits for it, then sends it and waits for its result; an Update ours took with its start (a fraud report) comes
with the floor's start too. ``--open`` only starts the cases and waits until each waits
for its first event (memory per open case)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    WorkflowUpdateHandle,
    WorkflowUpdateStage,
)


class Counting(Interceptor):
    """Counts the driver's queries and Updates."""

    def __init__(self) -> None:
        self.queries = 0
        self.updates = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Out(next, self)


class _Out(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, n: Counting) -> None:
        super().__init__(next)
        self.n = n

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        self.n.queries += 1
        return await super().query_workflow(input)

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        self.n.updates += 1
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: StartWorkflowUpdateWithStartInput
    ) -> WorkflowUpdateHandle[Any]:
        self.n.updates += 1
        return await super().start_update_with_start_workflow(input)


async def _settle(client: Client, case_id: str) -> None:
    """Until the case waits: no workflow task and no activity pending, its history unchanged for half a second."""
    seen = -1
    for _ in range(600):
        h = client.get_workflow_handle(case_id)
        n = len([e async for e in h.fetch_history_events()])
        d = (await h.describe()).raw_description
        if not d.pending_activities and not d.HasField("pending_workflow_task") and n == seen:
            return
        seen = n
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{case_id} did not settle at its first event")


async def main() -> None:
    proto = os.fdopen(os.dup(1), "w")  # the orchestrator reads two lines here; anything else goes to stderr
    os.dup2(2, 1)
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--procedure", required=True)
    parser.add_argument("--kind", choices=("ours", "floor"), required=True)
    parser.add_argument("--n", type=int, default=1)
    parser.add_argument("--script", type=Path, help="the floor's script (JSON of bench.workflows.FloorScript)")
    parser.add_argument("--open", action="store_true", help="only open the cases, until each waits for its first event")
    parser.add_argument("--poll", type=float, default=0.01)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    from bench.floor import start_floor
    from bench.workflows import FloorCase, FloorScript, filler
    from infra.client import data_converter
    from tests.e2e import scenarios
    from tests.e2e.scenarios import SCENARIOS

    scenarios.POLL_SECONDS = args.poll
    sc = next(s for s in SCENARIOS if s.name == args.procedure)
    script = FloorScript.model_validate_json(args.script.read_text()) if args.script else None
    counting = Counting()
    client = await Client.connect(args.address, data_converter=data_converter(), interceptors=[counting])
    tag = uuid.uuid4().hex[:8]

    async def ours(i: int) -> str:
        case_id = await sc.start(client, args.task_queue, f"{tag}-{i}")
        if args.open:
            await _settle(client, case_id)
            return case_id
        await sc.drive(client, case_id)
        await sc.finished(client, case_id)
        return case_id

    async def _update(case_id: str, k: int, data: str) -> None:
        """As ``scenarios.update`` sends an event, with the floor's two arguments."""
        h = await client.get_workflow_handle(case_id).start_update(
            FloorCase.event, args=[k, data], id=f"{case_id}/{k}", wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        await h.result()

    async def floor(i: int) -> str:
        assert script is not None
        run = script.until_first_event() if args.open else script
        case_id = f"floor-{tag}-{i}"
        sizes = [op.size for op in run.ops if op.kind == "update_accept"]
        first = filler(sizes[0], random.Random(1)) if sizes else ""
        h = await start_floor(client, run, id=case_id, task_queue=args.task_queue, first_event=first)
        for k in range(1 + run.with_start, len(sizes) + 1):
            while await h.query(FloorCase.waiting_for) != k:
                await asyncio.sleep(args.poll)
            if args.open:
                return h.id
            await _update(h.id, k, filler(sizes[k - 1], random.Random(k)))
        await h.result()
        return h.id

    print("ready", file=proto, flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    cpu0 = time.process_time()
    one = ours if args.kind == "ours" else floor
    ids = await asyncio.gather(*(one(i) for i in range(args.n)))
    report = {
        "ids": list(ids),
        "driver_cpu": time.process_time() - cpu0,
        "queries": counting.queries / args.n,
        "updates": counting.updates / args.n,
    }
    print(json.dumps(report), file=proto, flush=True)
    # The report is out; leave without the interpreter's shutdown, where the SDK's runtime threads have been seen to
    # abort the process (PyGILState_Release while finalizing).
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
