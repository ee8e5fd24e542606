"""Workflows used only by the benchmarks: our deadline mechanism in isolation, and bare floors."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from models.deadlines import DeadlineState
    from workflows.case import CaseWorkflow

__all__ = ["BareCase", "BareShape", "BareTimer", "StormCase", "StormInput", "UpdateThenActivity", "noop"]


class StormInput(BaseModel):
    start: datetime  # every case gets the same start, so every deadline falls on the same instant


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


class BareShape(BaseModel):
    """How many activities, local activities, updates and fired timers a procedure's path has."""

    activities: int = 0
    local_activities: int = 0
    updates: int = 0
    timers: int = 0


@activity.defn
async def noop(n: int) -> int:
    return n


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
