"""README.md's commands that need the dev server: listing cases through visibility (``cases list``, ``permit
list``, ``cases calendar-correction``) and the auditors' ``audit …`` commands, in the README's order, after
the README's ``starter.py demo`` has made a case of each procedure. The rest of the README runs on the
time-skipping server in ``tests/test_readme.py``; the conventions are in ``tests/readme.py``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client

from tests.e2e.procs import DevServer, WorkerProcess
from tests.readme import Shell, commands, environment, excluded, run_readme, workdir

pytestmark = pytest.mark.e2e


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[Shell, Client]]:
    server = DevServer(tmp_path / "temporal.db")
    client = await server.start()
    extra = {
        "TEMPORAL_ADDRESS": server.target,
        "KZ_DATA_DIR": str(tmp_path / "data"),
        "KZ_TASK_QUEUE": f"readme-{uuid.uuid4().hex[:6]}",
        "HOME": str(tmp_path / "home"),
    }
    worker = WorkerProcess(server.target, extra["KZ_TASK_QUEUE"], tmp_path / "worker.log")
    worker.env.update(extra)
    worker.start()
    try:
        yield Shell(workdir(tmp_path), environment(**extra)), client
    finally:
        worker.stop()
        server.stop()


async def test_readme_commands_that_need_the_dev_server(stack: tuple[Shell, Client]) -> None:
    shell, client = stack
    todo = [c for c in commands() if c.is_("demo") or c.program == "audit" or excluded(c)]
    assert [c for c in todo if c.is_("demo")] and len([c for c in todo if c.program == "audit"]) >= 10
    await run_readme(shell, client, todo)
