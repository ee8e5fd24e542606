"""The benchmark's clock of activities (``bench.activity_clock``): a plain-``def`` activity's own thread CPU is added to
a total another process reads from a file; an ``async`` one is not timed. No speed is asserted, only what was
counted against what the thread spent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput

from bench.activity_clock import ActivityClock, read


class _Calls(ActivityInboundInterceptor):
    """The end of the chain: calls the function as the SDK would (a sync one in a thread of the pool)."""

    def __init__(self) -> None:
        """No next interceptor: the chain ends here."""

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if asyncio.iscoroutinefunction(input.fn):
            return await input.fn(*input.args)
        return await asyncio.to_thread(input.fn, *input.args)


def _burn(seconds: float) -> float:
    """Spend ``seconds`` of this thread's CPU; returns what it spent."""
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        sum(range(1000))
    return time.thread_time() - start


async def _call(clock: ActivityClock, fn: Callable[..., Any], *args: Any) -> Any:
    chain = clock.intercept_activity(_Calls())
    return await chain.execute_activity(ExecuteActivityInput(fn=fn, args=args, executor=None, headers={}))


async def test_a_plain_activity_is_timed_by_its_threads_cpu_and_an_async_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "activities"
    clock = ActivityClock(path)
    assert read(path) == 0.0
    spent = await _call(clock, _burn, 0.05)
    assert spent <= read(path) < spent + 0.01  # what the function spent, and little besides

    async def waits_and_works() -> None:
        await asyncio.sleep(0.01)
        _burn(0.05)

    before = read(path)
    await _call(clock, waits_and_works)
    assert read(path) == before


async def test_an_activity_that_fails_is_counted_too(tmp_path: Path) -> None:
    path = tmp_path / "activities"
    clock = ActivityClock(path)

    def fails() -> None:
        _burn(0.02)
        raise RuntimeError("the outside system refused")

    with pytest.raises(RuntimeError):
        await _call(clock, fails)
    assert read(path) >= 0.02
