"""The processes of a CPU benchmark, each apart: a Temporal dev server, a worker, and a driver per batch; the CPU
each spends is read from ``/proc/<pid>/stat`` (Linux), so a case's cost is split by who pays it."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench import activity_clock
from bench.common import temporal_binary
from infra.client import data_converter
from models import search_attributes as sa

__all__ = ["Proc", "cpu_seconds", "dev_server_process", "run_driver", "worker_process"]

_TICKS = os.sysconf("SC_CLK_TCK")
ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process (all its threads) has spent so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime: fields 14 and 15 of stat(5)


class Proc:
    """A child process whose CPU is sampled; a worker's also the CPU of its activities' bodies (``clock``)."""

    def __init__(self, popen: subprocess.Popen[str], clock: Path | None = None) -> None:
        self.popen = popen
        self.clock = clock

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def activity_cpu(self) -> float:
        """The CPU seconds its activities' own bodies have spent so far (0 for a process without a clock)."""
        return activity_clock.read(self.clock) if self.clock is not None else 0.0

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def dev_server_process() -> AsyncIterator[tuple[Proc, Client]]:
    """A dev server of its own (SQLite file + WAL, our search attributes) and a client of the orchestrator."""
    tmp = Path(tempfile.mkdtemp(prefix="kz-bench-srv-"))
    port = _free_port()
    args = [temporal_binary(), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port)]
    args += ["--db-filename", str(tmp / "temporal.db"), "--log-level", "error"]
    args += ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
    for key in sa.ALL:
        args += ["--search-attribute", f"{key.name}={key._metadata_type}"]
    proc = Proc(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True))
    try:
        client = None
        for _ in range(300):
            try:
                client = await Client.connect(f"127.0.0.1:{port}", data_converter=data_converter())
                await client.count_workflows()  # the visibility store answers: search attributes are registered
                break
            except Exception:
                if proc.popen.poll() is not None:
                    raise RuntimeError("the dev server exited on start") from None
                await asyncio.sleep(0.2)
        if client is None:
            raise RuntimeError("the dev server did not answer in 60 s")
        yield proc, client
    finally:
        proc.stop()


@asynccontextmanager
async def worker_process(address: str, task_queue: str, *extra: str) -> AsyncIterator[Proc]:
    """``bench.worker_proc`` in a process of its own, its activities' bodies timed (``Proc.activity_cpu``); returns
    once its worker polls."""
    clock = Path(tempfile.mkdtemp(prefix="kz-bench-clock-")) / "activities"
    args = ["--address", address, "--task-queue", task_queue, "--activity-clock", str(clock), *extra]
    popen = subprocess.Popen(
        [sys.executable, "-m", "bench.worker_proc", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    proc = Proc(popen, clock)
    try:
        assert popen.stdout is not None
        line = await asyncio.to_thread(popen.stdout.readline)
        if line.strip() != "ready":
            raise RuntimeError(f"the benchmark worker did not start: {line!r}")
        yield proc
    finally:
        proc.stop()
        shutil.rmtree(clock.parent, ignore_errors=True)


async def run_driver(address: str, task_queue: str, args: list[str], watch: list[Proc]) -> dict[str, Any]:
    """Run one batch in a driver process of its own. The CPU of ``watch`` (worker, server) is sampled when the driver
    says it starts its batch (after its imports and connection) and when it reports the batch done; the driver
    reports its own CPU over the same span. Returns the driver's report with ``watched_cpu`` by process, and
    ``watched_activity_cpu``: of that, what the activities' own bodies spent (``Proc.activity_cpu``)."""
    popen = subprocess.Popen(
        [sys.executable, "-m", "bench.driver_proc", "--address", address, "--task-queue", task_queue, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert popen.stdin is not None and popen.stdout is not None
    try:
        line = await asyncio.to_thread(popen.stdout.readline)
        if line.strip() != "ready":
            raise RuntimeError(f"the benchmark driver did not start: {line!r}")
        before = [p.cpu() for p in watch]
        before_activities = [p.activity_cpu() for p in watch]
        t0 = time.perf_counter()
        popen.stdin.write("go\n")
        popen.stdin.flush()
        line = await asyncio.to_thread(popen.stdout.readline)
        wall = time.perf_counter() - t0
        after = [p.cpu() for p in watch]
        after_activities = [p.activity_cpu() for p in watch]
        if not line.strip():
            raise RuntimeError(f"the benchmark driver failed ({args})")
        report: dict[str, Any] = json.loads(line)
        report["wall"] = wall
        report["watched_cpu"] = [a - b for a, b in zip(after, before, strict=True)]
        report["watched_activity_cpu"] = [a - b for a, b in zip(after_activities, before_activities, strict=True)]
        return report
    finally:
        popen.stdin.close()
        if popen.wait(60) != 0:
            raise RuntimeError(f"the benchmark driver exited with {popen.returncode} ({args})")
