"""Calendar: deadlines per second against a plain dictionary lookup loop over the same inputs."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from bench.common import Measurement
from rules.calendar import ALMATY, WorkingCalendar


def run(n: int = 200_000) -> list[Measurement]:
    cal = WorkingCalendar()
    base = datetime(2026, 1, 5, 10, 0, tzinfo=ALMATY)
    inputs = [base + timedelta(hours=7 * i) for i in range(1000)]
    cal.deadline(inputs[0], 2)  # build the tables once, as a running worker has them
    table = {d: d + timedelta(days=2) for d in inputs}

    t0 = time.perf_counter()
    for i in range(n):
        cal.deadline(inputs[i % 1000], 2)
    ours = n / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    for i in range(n):
        table[inputs[i % 1000]]
    floor = n / (time.perf_counter() - t0)
    return [
        Measurement(
            "calendar deadlines",
            "deadlines/s",
            ours,
            floor,
            "dict lookup",
            ours / floor,
            {"per_deadline_us": 1e6 / ours},
        )
    ]
