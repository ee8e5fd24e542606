"""The CPU our activities' own bodies spend in the benchmark's worker, apart from the engine's work around them.

The floor's activities are no-ops; ours do the procedure's work (SQLite rows, documents rendered and signed, the EDS
issued). ``ActivityClock`` times each plain-``def`` activity (local ones too) by its thread's CPU clock
(``time.thread_time``: the thread's own CPU, not its waits for the GIL or the database), from the call of its function
to its return, so decoding its arguments, scheduling and reporting its result stay the engine's. The total is kept in a
file of 8 bytes shared with the benchmark (``read``), which reads it when it reads the worker's CPU. ``async``
activities run on the worker's event loop among everything else and are not timed (the four the complaint calls only
ask other cases).
"""

from __future__ import annotations

import inspect
import mmap
import struct
import threading
import time
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any

from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

__all__ = ["ActivityClock", "read"]

_TOTAL = struct.Struct("d")


def read(path: Path) -> float:
    """The CPU seconds the activities timed into ``path`` have spent so far (0 before the first)."""
    data = path.read_bytes()
    return _TOTAL.unpack(data)[0] if len(data) == _TOTAL.size else 0.0


class ActivityClock(Interceptor):
    """A worker interceptor adding each plain-``def`` activity's thread CPU to the total in ``path``."""

    def __init__(self, path: Path) -> None:
        path.write_bytes(bytes(_TOTAL.size))
        with path.open("r+b") as f:
            self._map = mmap.mmap(f.fileno(), _TOTAL.size)
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            _TOTAL.pack_into(self._map, 0, _TOTAL.unpack_from(self._map, 0)[0] + seconds)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Timed(next, self)


class _Timed(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, clock: ActivityClock) -> None:
        super().__init__(next)
        self._clock = clock

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        fn = input.fn
        if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__):
            return await super().execute_activity(input)
        clock = self._clock

        @wraps(fn)
        def timed(*args: Any) -> Any:
            start = time.thread_time()
            try:
                return fn(*args)
            finally:
                clock.add(time.thread_time() - start)

        return await super().execute_activity(replace(input, fn=timed))
