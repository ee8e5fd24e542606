"""Workflows used only by the benchmarks: our deadline mechanism in isolation, and bare floors."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from bench.floor_data import BareShape, Carried, FloorOp, FloorScript, StormInput, filler
    from models import search_attributes as sa
    from models.deadlines import DeadlineState
    from workflows.case import CaseWorkflow

__all__ = [
    "PUBLISHING",
    "BareCase",
    "BareShape",
    "BareTimer",
    "FloorCase",
    "FloorOp",
    "FloorScript",
    "PublishingSteps",
    "StormCase",
    "StormInput",
    "UpdateThenActivity",
    "carry",
    "filler",
    "noop",
]


@workflow.defn
class StormCase(CaseWorkflow):
    """A case with one 10-minute legal term (58 Annex item 3) that nobody meets: it breaches."""

    PROCEDURE = "bench_storm"

    @workflow.run
    async def run(self, inp: StormInput) -> DeadlineState:
        await self.clock.open("term", "egov.service_term", inp.start)
        await self.clock.wait("term", lambda: False, keep_waiting=False)
        return self.clock.get("term")


@workflow.defn
class BareTimer:
    """The floor of the storm: a bare timer to the same instant, reporting when it fired."""

    @workflow.run
    async def run(self, due: datetime) -> datetime:
        await workflow.sleep(max(0.0, (due - workflow.now()).total_seconds()))
        return workflow.now()


@activity.defn
async def noop(n: int) -> int:
    return n


@activity.defn
async def carry(arg: Carried) -> str | None:
    """A no-op taking and giving as many bytes as an activity of ours (the floor with ``payloads`` added back); what
    gave nothing back gives ``None``, as ours; it answers after as long as ours took (``seconds``), idle."""
    if arg.seconds:
        await asyncio.sleep(arg.seconds)
    return filler(arg.result, random.Random(arg.result)) if arg.result else None


@workflow.defn
class BareCase:
    """A workflow of a given shape and no logic: the floor a procedure's throughput is compared with."""

    def __init__(self) -> None:
        self.updates = 0

    @workflow.run
    async def run(self, shape: BareShape) -> int:
        for i in range(shape.local_activities):
            await workflow.execute_local_activity(noop, i, start_to_close_timeout=timedelta(seconds=10))
        for i in range(shape.activities):
            await workflow.execute_activity(noop, i, start_to_close_timeout=timedelta(seconds=10))
        for _ in range(shape.timers):
            await workflow.sleep(0.001)
        await workflow.wait_condition(lambda: self.updates >= shape.updates)
        return self.updates

    @workflow.update
    def event(self) -> int:
        self.updates += 1
        return self.updates


@workflow.defn
class UpdateThenActivity:
    """The floor of event latency: an Update, then one activity."""

    def __init__(self) -> None:
        self.got = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.got)
        return await workflow.execute_activity(noop, 1, start_to_close_timeout=timedelta(seconds=10))

    @workflow.update
    def event(self) -> None:
        self.got = True


_KEYS: dict[str, Callable[[str], SearchAttributeKey[Any]]] = {
    "Keyword": SearchAttributeKey.for_keyword,
    "KeywordList": SearchAttributeKey.for_keyword_list,
    "Text": SearchAttributeKey.for_text,
    "Bool": SearchAttributeKey.for_bool,
    "Int": SearchAttributeKey.for_int,
    "Double": SearchAttributeKey.for_float,
    "Datetime": SearchAttributeKey.for_datetime,
}


def _attribute(name: str, kind: str, value: Any) -> SearchAttributeUpdate[Any]:
    """The upsert of one of our search attributes as our history recorded it (a JSON value; null unsets it)."""
    key = _KEYS[kind](name)
    if value is None:
        return key.value_unset()
    return key.value_set(datetime.fromisoformat(value) if kind == "Datetime" else value)


@workflow.defn
class FloorCase:
    """The fair floor of a procedure: its activities, local activities, timers started, fired and cancelled, and
    Updates taken one at a time, in its history's order, with no logic, no memo and no search attributes."""

    def __init__(self) -> None:
        self.received = 0  # Updates received
        self.completed = 0  # Updates whose completion the script reached
        self.awaiting = 0  # the Update the script waits for now (0: none), for the driver's queries

    @workflow.run
    async def run(self, script: FloorScript) -> int:
        acts: dict[int, workflow.ActivityHandle[Any]] = {}
        timers: dict[int, asyncio.Task[None]] = {}
        accepted = 0
        for op in script.ops:
            if op.kind == "activity_start" and (op.carried or op.result or op.took):
                arg = Carried(data=filler(op.carried, workflow.random()), result=op.result, seconds=op.took)
                acts[op.ref] = workflow.start_activity(carry, arg, start_to_close_timeout=timedelta(seconds=30))
            elif op.kind == "activity_start":
                acts[op.ref] = workflow.start_activity(noop, op.ref, start_to_close_timeout=timedelta(seconds=30))
            elif op.kind == "activity_wait":
                await acts.pop(op.ref)
            elif op.kind == "local" and (op.carried or op.result):
                arg = Carried(data=filler(op.carried, workflow.random()), result=op.result)
                await workflow.execute_local_activity(carry, arg, start_to_close_timeout=timedelta(seconds=30))
            elif op.kind == "local":
                await workflow.execute_local_activity(noop, op.ref, start_to_close_timeout=timedelta(seconds=30))
            elif op.kind == "timer_start":
                timers[op.ref] = asyncio.create_task(workflow.sleep(max(op.seconds, 0.001)))
                await asyncio.sleep(0)  # the timer's command goes out now, in this order
            elif op.kind == "timer_cancel":
                timers.pop(op.ref).cancel()
            elif op.kind == "timer_wait":
                await timers.pop(op.ref)
            elif op.kind == "update_accept":
                accepted += 1
                self.awaiting = accepted
                await workflow.wait_condition(lambda n=accepted: self.received >= n)  # type: ignore[misc]
                self.awaiting = 0
            elif op.kind == "update_complete":
                self.completed += 1
            elif op.kind == "patch":
                workflow.patched(op.name)
            elif op.kind == "upsert_sa":
                workflow.upsert_search_attributes([_attribute(k, *v) for k, v in op.attributes.items()])
            elif op.kind == "upsert_memo":
                workflow.upsert_memo({f"floor-{op.ref}": filler(op.size, workflow.random())})
        # a term still running when the path ends (the permit's validity) is left as ours leaves it: not cancelled
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.completed

    @workflow.update
    async def event(self, n: int, data: str) -> int:
        self.received += 1
        k = self.received
        await workflow.wait_condition(lambda: self.completed >= k)
        return k

    @workflow.query
    def waiting_for(self) -> int:
        """The Update the case waits for now (0: none), as our drivers ask a case whether it is ready."""
        return self.awaiting


PUBLISHING = ("nothing", "search_attributes", "memo", "both")
"""What each step of ``PublishingSteps`` publishes (``bench.bench_publish``)."""


@workflow.defn
class PublishingSteps:
    """``steps`` steps of one workflow task each (a short timer), each publishing ``publishing``: our step's search
    attributes (status and next deadline, as a signing step sets them), a term's record in the memo, both, or
    nothing: the engine's cost of publishing a step a case rests at."""

    @workflow.run
    async def run(self, publishing: str, steps: int) -> int:
        for i in range(steps):
            if publishing in ("search_attributes", "both"):
                due = workflow.now() + timedelta(minutes=30 + i)
                workflow.upsert_search_attributes([sa.STATUS.value_set(f"step{i}"), sa.NEXT_DEADLINE.value_set(due)])
            if publishing in ("memo", "both"):
                workflow.upsert_memo({f"deadline:step{i}": filler(200, workflow.random())})  # a term record, sealed
            await workflow.sleep(0.01)
        return steps
