"""Every ``python starter.py …`` / ``kz-starter …`` example of README.md runs, in the README's order, against
a fresh time-skipping test server and a ``worker.py`` process, as a reader pasting the blocks would (the
conventions — placeholders, prompts, expected refusals — are in ``tests/readme.py``).

Before each command the cases started so far settle (their activities done, or waiting out an outage): a
reader pauses between commands too. What does not run here is in ``tests.readme.EXCLUDED`` with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from infra.client import data_converter
from models import search_attributes
from tests.conftest import binary
from tests.e2e.procs import WorkerProcess
from tests.readme import EXCLUDED, Shell, commands, environment, excluded, run_readme, workdir


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[Shell, Client]]:
    """A fresh time-skipping server (its clock is the wall clock, as the README's `date` calls assume), a
    worker process, and a shell whose commands use their own data directory."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=data_converter()
    )
    await search_attributes.add_to_namespace(env.client)
    target = env.client.service_client.config.target_host
    extra = {
        "TEMPORAL_ADDRESS": target,
        "KZ_DATA_DIR": str(tmp_path / "data"),
        "KZ_TASK_QUEUE": f"readme-{uuid.uuid4().hex[:6]}",
        "HOME": str(tmp_path / "home"),  # `kz-starter --install-completion` writes the reader's shell files
    }
    worker = WorkerProcess(target, extra["KZ_TASK_QUEUE"], tmp_path / "worker.log")
    worker.env.update(extra)
    try:
        with env.auto_time_skipping_disabled():
            worker.start()
            yield Shell(workdir(tmp_path), environment(**extra)), env.client
    finally:
        worker.stop()
        await env.shutdown()


def test_the_readme_has_the_examples_this_test_expects() -> None:
    todo = commands()
    starters = [c for c in todo if c.program == "starter"]
    assert len(starters) > 60 and all(c.words for c in starters)
    assert sum(c.refused for c in todo) >= 7
    assert [c for c in starters if excluded(c)] and len(EXCLUDED) <= 4


async def test_readme_commands_run_in_order(stack: tuple[Shell, Client]) -> None:
    shell, client = stack
    todo = [c for c in commands() if c.program in ("starter", "shell") and not excluded(c)]
    await run_readme(shell, client, todo)
