"""A deadline for each async test that ends it the asyncio way, before pytest-timeout's alarm.

pytest-timeout's alarm (SIGALRM) raises its failure in whatever Python code runs when it rings. In a process whose
event loop runs Temporal workers, that is as often a callback or another task as the test: a callback's exception is
logged by the loop and lost, another task's kills that task (a worker's poller, say). The suite then hung with every
process idle (twice in about a dozen runs, 2026-12-04): a test waited on a case that would never answer, its alarm
was swallowed, and nothing else could end it. Here the test's own coroutine is cancelled at 90% of its timeout: its
fixtures tear down as usual, and the failure's traceback shows the ``await`` it was stuck in. pytest-timeout (the
thread method, pyproject) stays the backstop for a test stuck outside the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

SHARE = float(os.environ.get("KZ_TEST_DEADLINE_SHARE", "0.9"))
"""The part of pytest-timeout's limit after which an async test is cancelled."""


class DeadlinePassed(AssertionError):
    """An async test did not end within its deadline; the cancelled ``await`` is the exception's cause."""


def bounded(test: Callable[..., Coroutine[Any, Any, Any]], seconds: float) -> Callable[..., Coroutine[Any, Any, Any]]:
    """``test``, cancelled and failed after ``seconds``."""

    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(seconds):
                return await test(*args, **kwargs)
        except TimeoutError as exc:
            if isinstance(exc.__cause__, asyncio.CancelledError):  # ours, not one the test raised
                raise DeadlinePassed(f"the test did not end in {seconds:.0f} s; it was waiting here") from exc
            raise

    return run


def item_timeout(item: pytest.Item) -> float | None:
    """The item's pytest-timeout limit in seconds (its marker, else the command line or ini), if any."""
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    value = item.config.getoption("timeout", None) or item.config.getini("timeout")
    return float(value) if value else None


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    test = getattr(item, "obj", None)
    limit = item_timeout(item)
    if not (isinstance(item, pytest.Function) and inspect.iscoroutinefunction(test) and limit):
        yield
        return
    item.obj = bounded(test, SHARE * limit)
    try:
        yield
    finally:
        item.obj = test
