"""The workflow sandbox enforces the design: only data (``models``, ``rules``) and safe libraries pass through,
so workflow code that reaches for settings, the calendar in force or I/O fails in the sandbox instead of
running unnoticed (DESIGN, "Known pitfalls"). Each refusal is shown against the pass-through list as it was
before issue 16 (``activities``, ``infra``, ``audit`` passed through), under which the same code runs."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHistory
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError, SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance

from audit.replay import Replay
from infra.client import data_converter
from infra.sandbox import SANDBOX, SHARED_SANDBOX, sandbox_code, worker_sandbox
from infra.settings import settings
from tests.golden_tools import GOLDEN
from tests.infra.sandbox_calendar_probe import CalendarInWorkflow
from tests.infra.sandbox_probes import EdgeCallInWorkflow
from workflows.catalogue import WORKFLOWS
from workflows.fraud_check import fraud_case_id

BEFORE = SandboxedWorkflowRunner(
    restrictions=SANDBOX.restrictions.with_passthrough_modules("activities", "infra", "audit", "holidays")
)
"""The sandbox as it was: our packages with I/O passed through."""


def _passed_through(module: str) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:i]) in SANDBOX.restrictions.passthrough_modules for i in range(1, len(parts) + 1))


def test_only_data_modules_of_ours_pass_through() -> None:
    ours = ("activities", "infra", "audit", "adapters", "api", "cli", "worker", "starter", "workflows")
    assert [m for m in ours if _passed_through(m)] == []
    assert _passed_through("models.case") and _passed_through("rules.law")
    # libraries doing I/O, settings or calendar computation are re-imported, under the sandbox's restrictions
    libraries = ("holidays", "sqlalchemy", "sqlmodel", "pydantic_settings", "jinja2", "httpx", "cryptography")
    assert [m for m in libraries if _passed_through(m)] == []


async def test_a_workflow_importing_the_calendar_in_force_is_refused_at_registration() -> None:
    defn = workflow._Definition.must_from_class(CalendarInWorkflow)
    # infra.settings, re-imported in the sandbox, resolves the project's path on import: refused
    with pytest.raises(RestrictedWorkflowAccessError, match=r"pathlib\.Path\.resolve"):
        SANDBOX.prepare_workflow(defn)
    BEFORE.prepare_workflow(defn)  # the old list let it register and compute deadlines in workflow code


async def _run(env: WorkflowEnvironment, runner: SandboxedWorkflowRunner, number: str) -> str:
    task_queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[EdgeCallInWorkflow],
        workflow_runner=runner,
        workflow_failure_exception_types=[Exception],  # fail the probe at once instead of retrying its task
    ):
        return await env.client.execute_workflow(
            EdgeCallInWorkflow.run, number, id=f"probe-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )


async def test_workflow_code_calling_an_edge_function_fails_in_the_sandbox(env: WorkflowEnvironment) -> None:
    number = "+77011234567"
    with pytest.raises(WorkflowFailureError) as failed:
        await _run(env, SANDBOX, number)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "RestrictedWorkflowAccessError", cause
    assert "from inside a workflow" in str(cause)
    # under the old list the keyed hash (settings, HMAC) ran inside the workflow unnoticed
    assert await _run(env, BEFORE, number) == fraud_case_id(number)


def test_the_worker_shares_the_workflow_modules_and_the_replayer_stays_strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's sandbox by default passes ``workflows`` through too, and nothing else more; ``strict`` turns
    that off; ``audit replay`` uses the strict one whatever the worker does (the goldens:
    ``tests/replay/test_golden.py``)."""
    extra = SHARED_SANDBOX.restrictions.passthrough_modules - SANDBOX.restrictions.passthrough_modules
    assert extra == {"workflows"}
    assert worker_sandbox() is SHARED_SANDBOX
    monkeypatch.setenv("KZ_WORKFLOW_SANDBOX", "strict")
    settings.cache_clear()
    try:
        assert worker_sandbox() is SANDBOX
    finally:
        monkeypatch.delenv("KZ_WORKFLOW_SANDBOX")
        settings.cache_clear()
    assert Replay([EdgeCallInWorkflow])._replayer.config()["workflow_runner"] is SANDBOX


async def test_the_shared_sandbox_still_refuses_the_edge_call_as_a_case_runs(
    env: WorkflowEnvironment,
) -> None:
    """Sharing the workflow modules does not lift the sandbox's restrictions on what a case calls as it runs: the edge
    call reached through ``workflows.fraud_check`` is refused in a shared-sandbox worker too (the keyed hash's lock),
    as under the strict one; what sharing gives up is checking a workflow module's own imports as a worker registers
    it, which the strict replays check before a deploy."""
    number = "+77011234567"
    with pytest.raises(WorkflowFailureError) as failed:
        await _run(env, SHARED_SANDBOX, number)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "RestrictedWorkflowAccessError", cause
    assert await _run(env, BEFORE, number) == fraud_case_id(number)  # the control: the old list lets it run


async def _replay_golden(runner: SandboxedWorkflowRunner, name: str) -> int:
    """Replay one golden complaint history in ``runner``; its number of workflow tasks."""
    doc = json.loads((GOLDEN / "complaint" / name).read_text(encoding="utf-8"))
    history = WorkflowHistory.from_json(doc["workflow_id"], doc["history"])
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(), workflow_runner=runner)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    return sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED for e in history.events)


@pytest.mark.parametrize("runner", [SANDBOX, SHARED_SANDBOX], ids=["strict", "shared"])
async def test_the_sandboxes_compile_their_glue_once_per_process(runner: SandboxedWorkflowRunner) -> None:
    """Both sandboxes enter a case through the same few snippets of source, compiled once per process: a second
    history compiles nothing new and takes each snippet from the cache, at least once per workflow task (and per
    payload). The SDK's own runner, the control, compiles its strings at every use and never asks the cache."""
    await _replay_golden(runner, "auto_forwarded_upheld.json")
    before = sandbox_code.cache_info()
    tasks = await _replay_golden(runner, "rejected_signed_and_delivered.json")
    after = sandbox_code.cache_info()
    assert after.misses == before.misses
    assert after.hits - before.hits >= tasks
    sdk_own = SandboxedWorkflowRunner(restrictions=runner.restrictions)
    await _replay_golden(sdk_own, "rejected_signed_and_delivered.json")
    assert sandbox_code.cache_info() == after


async def test_a_case_enters_the_sandbox_once_per_activation_not_per_payload(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's runner enters the sandbox (exec under its import hook) for every activation and, to find a
    payload's serialization and storage contexts, twice more per payload; ours reads those contexts from the case's
    own object, so it enters only to create an instance (twice: the replayer validates each workflow class so too)
    and once per activation, and the history still reproduces."""
    counted = {"entries": 0, "creations": 0, "activations": 0}
    run_code, create, activate = _Instance._run_code, _Instance._create_instance, _Instance.activate

    def counted_run(self: _Instance, code: str, **extra: Any) -> None:
        counted["entries"] += 1
        run_code(self, code, **extra)

    def counted_create(self: _Instance) -> None:
        counted["creations"] += 1
        create(self)

    def counted_activate(self: _Instance, act: Any) -> Any:
        counted["activations"] += 1
        return activate(self, act)

    monkeypatch.setattr(_Instance, "_run_code", counted_run)
    monkeypatch.setattr(_Instance, "_create_instance", counted_create)
    monkeypatch.setattr(_Instance, "activate", counted_activate)
    counts = {}
    for name, runner in {
        "ours": SHARED_SANDBOX,
        "sdk": SandboxedWorkflowRunner(restrictions=SHARED_SANDBOX.restrictions),
    }.items():
        counted.update(entries=0, creations=0, activations=0)
        await _replay_golden(runner, "rejected_signed_and_delivered.json")
        counts[name] = dict(counted)
    ours, sdk = counts["ours"], counts["sdk"]
    assert ours["entries"] == 2 * ours["creations"] + ours["activations"], ours
    assert sdk["activations"] == ours["activations"] and sdk["creations"] == ours["creations"]
    assert sdk["entries"] - 2 * sdk["creations"] > 2 * sdk["activations"], sdk  # the payloads' entries
