"""Every ``python starter.py …`` / ``kz-starter …`` example of README.md runs, in the README's order, against
a fresh time-skipping test server and a ``worker.py`` process, as a reader pasting the blocks would (the
conventions — placeholders, prompts, expected refusals — are in ``tests/readme.py``).

Before each command the cases started so far settle (their activities done, or waiting out an outage): a
reader pauses between commands too. What does not run here is in ``EXCLUDED`` with the reason.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from infra import search_attributes
from infra.client import data_converter
from tests.conftest import binary
from tests.e2e.procs import WorkerProcess
from tests.readme import ROOT, Command, Shell, answer, check, commands, environment

VISIBILITY = (
    "lists cases through Temporal visibility, which the time-skipping test server does not implement; "
    "tests/e2e/test_readme_on_dev_server.py runs it against the dev server"
)
EXCLUDED: dict[tuple[str, ...], str] = {
    ("cases", "list"): VISIBILITY,
    ("permit", "list"): VISIBILITY,
    ("cases", "calendar-correction"): VISIBILITY,
}
"""Starter commands of the README that do not run here, by their first words, with the reason."""


def excluded(command: Command) -> str | None:
    return next((why for words, why in EXCLUDED.items() if command.is_(*words)), None)


async def settle(client: Client, case_ids: list[str], seconds: float = 20) -> None:
    """Wait until no case has an activity on its first attempt (retries wait out an outage) or a workflow task."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + seconds
    while loop.time() < give_up:
        busy = False
        for case_id in case_ids:
            with suppress(RPCError):
                desc = await client.get_workflow_handle(case_id).describe()
                raw = desc.raw_description
                if desc.status is WorkflowExecutionStatus.RUNNING and (
                    any(p.attempt < 2 for p in raw.pending_activities) or raw.HasField("pending_workflow_task")
                ):
                    busy = True
                    break
        if not busy:
            return
        await asyncio.sleep(0.1)


def workdir(tmp_path: Path) -> Path:
    """A reader's working directory: ``starter.py`` and ``demo/`` as in the repository, the rest their own."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "starter.py").symlink_to(ROOT / "starter.py")
    (work / "demo").symlink_to(ROOT / "demo")
    return work


async def run_readme(shell: Shell, client: Client, todo: list[Command]) -> None:
    """Run ``todo`` in order; fail with the transcript at the first command that breaks the conventions.

    ``KZ_README_TRANSCRIPT=FILE`` keeps the whole transcript (every command with its output) in FILE.
    """
    try:
        for command in todo:
            await settle(client, shell.case_ids)
            code, output = await shell.run(command, await answer(shell, command))
            problem = check(command, code, output)
            if problem:
                transcript = "\n".join(shell.transcript[-8:])
                pytest.fail(f"README.md line {command.line}: {problem}\n\n{transcript}", pytrace=False)
    finally:
        if keep := os.environ.get("KZ_README_TRANSCRIPT"):
            Path(keep).write_text("\n".join(shell.transcript), encoding="utf-8")


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
    assert [c for c in starters if excluded(c)] and len(EXCLUDED) <= 3


async def test_readme_commands_run_in_order(stack: tuple[Shell, Client]) -> None:
    shell, client = stack
    todo = [c for c in commands() if c.program in ("starter", "shell") and not excluded(c)]
    await run_readme(shell, client, todo)
