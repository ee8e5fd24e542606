"""The benchmark's worker, in a process of its own: the production worker (``worker.make_worker``) with the floor's
workflows and activity added. ``--memory FILE`` traces Python allocations and writes the traced KiB (after a
collection) to FILE on SIGUSR1; ``--before NAME`` runs with a change of issue 18 undone, to measure it;
``--activity-clock FILE`` keeps the CPU of its activities' own bodies in FILE (``bench.activity_clock``).

The worker's sandbox is production's with ``bench`` passed through as well (``bench_sandbox``): production imports
our workflow modules once per worker (``infra.sandbox.SHARED_SANDBOX``), so the floor's module is imported once too.
Re-imported for every floor case, it made the floor dearer than the commands it replays (and its memory per open case
larger), which flattered our ratios."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import tracemalloc
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

BEFORE = (
    "issuer-key-cache",
    "current-paths",
    "paths-of-issue-18",
    "record-held-over-locals",
    "records-without-defaults",
    "sandbox-compiled-once",
    "sandbox-contexts-direct",
    "converters-shared",
)


def bench_sandbox() -> SandboxedWorkflowRunner:
    """The sandbox the worker chooses (``infra.sandbox.worker_sandbox``) with the benchmark's modules passed through."""
    from infra.sandbox import LeanSandbox, worker_sandbox

    return LeanSandbox(restrictions=worker_sandbox().restrictions.with_passthrough_modules("bench"))


_KEPT: list[AbstractContextManager[None]] = []
"""The undoing context managers entered for the process's life: one dropped would restore the code at once (its
generator closed when collected)."""


def _undo(name: str) -> None:
    from bench.bench_history import old_paths
    from workflows.clock import CURRENT_PATHS, CURRENT_PATHS_18, RECORD_HELD_OVER_LOCALS, RECORDS_WITHOUT_DEFAULTS

    slim = (RECORDS_WITHOUT_DEFAULTS,)
    held = (*slim, RECORD_HELD_OVER_LOCALS)
    paths = {
        "current-paths": (*held, CURRENT_PATHS_18, CURRENT_PATHS),  # each patch asked (a marker and an upsert each)
        "paths-of-issue-18": (*held, CURRENT_PATHS_18),  # begun on CURRENT_PATHS: the record published change by change
        "record-held-over-locals": held,  # begun on CURRENT_PATHS_18: a local activity closes a batch; whole records
        "records-without-defaults": slim,  # begun on RECORD_HELD_OVER_LOCALS: whole term records
    }
    if name in paths:
        undone = old_paths(paths[name])
        undone.__enter__()
        _KEPT.append(undone)
    if name == "issuer-key-cache":
        from activities import eds

        eds.issuer_key = eds.issuer_key.__wrapped__  # type: ignore[assignment]  # read from its file on every call
    if name == "sandbox-compiled-once":
        from infra import sandbox

        sandbox.sandbox_code = lambda source: source  # type: ignore[assignment,return-value]  # exec compiles it
    if name == "sandbox-contexts-direct":
        from infra import sandbox

        # the SDK's own methods again: each payload's contexts through exec under the sandbox's import hook
        del sandbox._LeanInstance.get_serialization_context
        del sandbox._LeanInstance.get_external_store_context
    if name == "converters-shared":
        from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter

        from infra.payloads import TolerantJSONPayloadConverter, TolerantPayloadConverter

        def built_each_time(self: TolerantPayloadConverter) -> None:  # the encoding converters built for each one made
            PydanticPayloadConverter.__init__(self)
            self._set_converters(
                *(
                    TolerantJSONPayloadConverter() if isinstance(c, PydanticJSONPlainPayloadConverter) else c
                    for c in self.converters.values()
                )
            )

        TolerantPayloadConverter.__init__ = built_each_time  # type: ignore[method-assign]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--memory", type=Path)
    parser.add_argument("--before", action="append", default=[], choices=BEFORE)
    parser.add_argument("--activity-clock", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    from temporalio.client import Client

    from bench.activity_clock import ActivityClock
    from bench.workflows import (
        BareCase,
        BareTimer,
        FloorCase,
        PublishingSteps,
        StormCase,
        UpdateThenActivity,
        carry,
        noop,
    )
    from infra.client import data_converter
    from worker import ACTIVITIES, make_worker
    from workflows.catalogue import WORKFLOWS

    for name in args.before:
        _undo(name)
    client = await Client.connect(args.address, data_converter=data_converter())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    if args.memory is not None:
        tracemalloc.start()
        out: Path = args.memory

        def dump() -> None:
            gc.collect()
            tmp = out.with_suffix(".tmp")
            tmp.write_text(f"{tracemalloc.get_traced_memory()[0] / 1024}\n")
            os.replace(tmp, out)

        loop.add_signal_handler(signal.SIGUSR1, dump)
    workflows = [*WORKFLOWS, BareCase, FloorCase, StormCase, BareTimer, UpdateThenActivity, PublishingSteps]
    clocks = [ActivityClock(args.activity_clock)] if args.activity_clock is not None else []
    activities: list[Callable[..., Any]] = [*ACTIVITIES, noop, carry]
    async with make_worker(
        client,
        task_queue=args.task_queue,
        workflows=workflows,
        activities=activities,
        interceptors=clocks,
        workflow_runner=bench_sandbox(),
    ):
        print("ready", flush=True)
        # Nobody reads this pipe from now on: a full pipe would block whatever writes to it (a workflow thread's
        # warning blocked a worker for good), so the rest goes where our stderr goes.
        os.dup2(2, 1)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
