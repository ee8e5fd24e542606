"""The API as its own process for end-to-end tests: ``uvicorn api.app:app`` as ``scripts/up.py`` runs it, against
a dev server and a task queue, with the tests' data directory (so the same keys and tables), startable, stoppable
and killable like ``tests.e2e.procs.WorkerProcess``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.procs import ROOT, free_port, wait_until_answering

__all__ = ["ApiProcess"]


class ApiProcess:
    """``python -m uvicorn api.app:app`` on a free local port; ``env`` adds settings (``KZ_…``) of its own."""

    def __init__(self, target: str, task_queue: str, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.env = {**os.environ, "TEMPORAL_ADDRESS": target, "KZ_TASK_QUEUE": task_queue, **(env or {})}
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log, "ab"),  # noqa: SIM115 (kept open for the child's lifetime)
            stderr=subprocess.STDOUT,
        )
        wait_until_answering(self.proc, self.url, self.log)

    def kill(self) -> None:
        """SIGKILL: the process dies wherever it is, as in a crash or an OOM kill."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
