"""Run ``starter.py`` as a user does, in a process of its own pointed at the test server (Temporal envconfig), forked
from the tests' pre-imported one (``tests/forkserver.py``)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from infra.settings import settings
from tests.forkserver import enabled, forkserver
from worker import make_worker

ROOT = Path(__file__).resolve().parents[2]
Starter = Callable[..., Awaitable[tuple[int, str]]]


@pytest.fixture
async def starter(env: WorkflowEnvironment) -> AsyncIterator[Starter]:
    """``await starter("complaint", "show", case_id)`` → (exit code, output); a worker serves the task queue."""
    target = env.client.service_client.config.target_host

    async def run(*args: str) -> tuple[int, str]:
        env = {**os.environ, "TEMPORAL_ADDRESS": target, "COLUMNS": "200", "NO_COLOR": "1"}
        if enabled():
            code, out, _ = await forkserver().run([str(ROOT / "starter.py"), *args], env, ROOT, merge_stderr=True)
            return code, out.decode()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "starter.py"),
            *args,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    async with make_worker(env.client, task_queue=settings().task_queue):
        yield run
