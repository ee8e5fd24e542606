"""The benchmark's worker (``bench/worker_proc.py``) runs the floor in the sandbox production runs ours in: the floor's
workflow module imported once per worker, as ours are, not again for every case."""

from __future__ import annotations

import importlib.machinery
import uuid
from types import ModuleType
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from bench.worker_proc import _undo, bench_sandbox
from bench.workflows import BareTimer
from infra.sandbox import SHARED_SANDBOX


async def _modules_executed_for_cases(
    env: WorkflowEnvironment, runner: SandboxedWorkflowRunner, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """The modules of ours executed while two floor cases run (a fresh import in a case's sandbox executes its
    module's code again)."""
    executed: list[str] = []
    loader = importlib.machinery.SourceFileLoader
    original = loader.exec_module

    def exec_module(self: Any, module: ModuleType) -> None:
        executed.append(module.__name__)
        original(self, module)

    monkeypatch.setattr(loader, "exec_module", exec_module)
    tq = f"bench-sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=tq, workflows=[BareTimer], workflow_runner=runner):
        for _ in range(2):
            due = await env.get_current_time()
            await env.client.execute_workflow(BareTimer.run, due, id=f"bare-{uuid.uuid4().hex}", task_queue=tq)
    monkeypatch.undo()
    return [m for m in executed if m.startswith(("bench", "workflows", "models", "rules"))]


async def test_the_floors_module_is_imported_once_as_ours_are(
    env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await _modules_executed_for_cases(env, bench_sandbox(), monkeypatch) == []
    # production's sandbox alone imports the floor's module afresh for each case, and once as the worker registers
    # it (what the floor paid before)
    assert (await _modules_executed_for_cases(env, SHARED_SANDBOX, monkeypatch)).count("bench.workflows") == 3


def test_undoing_the_shared_converters_builds_them_for_each_converter_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--before converters-shared`` measures the change undone: each converter made builds its own parts again."""
    from infra.payloads import TolerantJSONPayloadConverter, TolerantPayloadConverter

    monkeypatch.setattr(TolerantPayloadConverter, "__init__", TolerantPayloadConverter.__init__)  # put back after
    assert TolerantPayloadConverter().converters is TolerantPayloadConverter().converters
    _undo("converters-shared")
    first, second = TolerantPayloadConverter(), TolerantPayloadConverter()
    assert first.converters is not second.converters
    assert isinstance(first.converters[b"json/plain"], TolerantJSONPayloadConverter)
