"""Every command of README.md runs in a test: here, in the README's order, against a fresh time-skipping test server
and a ``worker.py`` process, as a reader pasting the blocks would (the conventions — placeholders, prompts, expected
refusals — are in ``tests/readme.py``); what needs visibility or the API runs against ``scripts/up.py``'s stack in
``tests/e2e/test_readme_on_dev_server.py``; ``tests.readme.NOT_RUN`` names the few that run nowhere and why.

Before each command the cases started so far settle (their activities done, or waiting out an outage): a
reader pauses between commands too.
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
from tests.conftest import SERVER_STARTUP, binary
from tests.e2e.procs import WorkerProcess
from tests.readme import EXCLUDED, NOT_RUN, Shell, commands, environment, excluded, run_readme, runs_where, workdir


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[Shell, Client]]:
    """A fresh time-skipping server (its clock is the wall clock, as the README's `date` calls assume), a
    worker process, and a shell whose commands use their own data directory."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_startup_timeout=SERVER_STARTUP,
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=data_converter(),
    )
    await search_attributes.add_to_namespace(env.client)
    target = env.client.service_client.config.target_host
    work = workdir(tmp_path)
    extra = {
        "TEMPORAL_ADDRESS": target,
        "KZ_DATA_DIR": str(work / "data"),  # the README's `data/…` paths (the test CA) are the reader's own
        "KZ_TASK_QUEUE": f"readme-{uuid.uuid4().hex[:6]}",
        "HOME": str(tmp_path / "home"),  # `kz-starter --install-completion` writes the reader's shell files
    }
    worker = WorkerProcess(target, extra["KZ_TASK_QUEUE"], tmp_path / "worker.log")
    worker.env.update(extra)
    try:
        with env.auto_time_skipping_disabled():
            worker.start()
            yield Shell(work, environment(**extra)), env.client
    finally:
        worker.stop()
        await env.shutdown()


def test_the_readme_has_the_examples_this_test_expects() -> None:
    todo = commands()
    starters = [c for c in todo if c.program == "starter"]
    assert len(starters) > 60 and all(c.words for c in starters)
    assert sum(c.refused for c in todo) >= 7
    assert [c for c in starters if excluded(c)] and len(EXCLUDED) <= 4


def test_every_command_of_the_readme_runs_in_a_test_or_says_why_not() -> None:
    todo = commands()
    where = {c.line: runs_where(c, todo) for c in todo}
    not_run = sorted({w for w in where.values() if w.startswith("not run")})
    assert len(not_run) <= len(NOT_RUN) == 5, (
        not_run
    )  # each with its reason; the two worker commands run in tests/e2e/test_operations.py
    assert list(where.values()).count("stack") == 1  # `python3 scripts/up.py`: the dev-server test's stack
    assert sum(w == "dev-server" for w in where.values()) >= 30
    assert sum(c.text.startswith("curl ") for c in todo if where[c.line] == "dev-server") >= 9
    shell = [c for c in todo if where[c.line] == "time-skipping" and c.program == "shell"]
    assert len(shell) >= 4  # the here-documents and the OpenSSL checks of the signed documents
    assert not any("uuidgen" in c.text for c in todo)  # not on every machine


async def test_readme_commands_run_in_order(stack: tuple[Shell, Client]) -> None:
    shell, client = stack
    todo = commands()
    await run_readme(shell, client, [c for c in todo if runs_where(c, todo) == "time-skipping"])
