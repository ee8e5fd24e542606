"""The workflow sandboxes of the worker, the replayer and the audit tool (one definition for all three).

``SANDBOX``, the strict one: only data pass through, ``models`` and ``rules`` (pure, deterministic to import, no I/O
that workflow code could observe) and the one library they validate with. Everything else of ours (``workflows``,
``activities``, ``infra``, ``audit``, ``adapters``, ``api``) and the libraries that do I/O, read settings or compute
the calendar (``sqlalchemy``, ``pydantic_settings``, ``jinja2``, ``cryptography``, ``holidays``) is re-imported
inside the sandbox for every case, under its restrictions: workflow code that reaches for them fails there
(``tests/infra/test_sandbox.py``) instead of running unnoticed. Workflow modules import activity definitions for
typed references inside ``workflow.unsafe.imports_passed_through()``; ``tests/workflows/test_purity.py`` allows
nothing else from above. ``audit replay`` before a deploy always uses it, and so does the first golden history of
each procedure in the test suite (the rest replay in the worker's sandbox, as cases run).

``SHARED_SANDBOX``, the worker's by default (``KZ_WORKFLOW_SANDBOX``): ``workflows`` passes through as well, so a
worker imports the procedures once and every case runs the same modules instead of re-importing them (issue 18:
per open case a permit held 313 KiB against its floor's 86, and every case paid the import's CPU). The price: a
workflow module's own imports are no longer checked by the sandbox when a worker registers it (what a case calls as
it runs still meets the sandbox's restrictions); the strict replays above check them, before the code reaches a
worker.

Both are ``LeanSandbox``: they compile the sandbox's few lines of glue once. The SDK's sandbox enters a case
through ``exec`` of a source string — each activation, and twice more for every payload a case reads or writes
(its serialization and storage contexts) — and ``exec`` of a string compiles it every time: some hundred compiles
per case, 15% of the CPU of replaying the golden histories (issue 18). The same strings, compiled once, run the
same code under the same restrictions. A payload's contexts are then read from the case's object directly instead of
entering the sandbox for each (another 14% of a replay's CPU): what the SDK runs there only reads the case's info and
pending commands.
"""

from __future__ import annotations

from functools import lru_cache
from types import CodeType
from typing import Any, cast

from temporalio.converter import SerializationContext
from temporalio.converter._extstore import StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.worker.workflow_sandbox._runner import _Instance

__all__ = ["SANDBOX", "SHARED_SANDBOX", "LeanSandbox", "sandbox_code", "worker_sandbox"]


@lru_cache(maxsize=256)
def sandbox_code(source: str) -> CodeType:
    """``source`` compiled as ``exec`` compiles a string (a handful of constant snippets, one import per workflow
    class)."""
    return compile(source, "<string>", "exec")


class _LeanInstance(_Instance):
    def _run_code(self, code: str, **extra_globals: Any) -> None:
        # exec runs a code object as it runs the string it was compiled from
        super()._run_code(sandbox_code(code), **extra_globals)  # type: ignore[arg-type]

    # A payload's contexts are read from the case's own object, not through exec and the sandbox's import hook: the
    # SDK's methods there read the case's info and pending commands, import nothing and call nothing restricted.
    def get_serialization_context(self, command_info: CommandInfo | None) -> SerializationContext | None:
        return cast(SerializationContext | None, self._in_sandbox.get_serialization_context(command_info))

    def get_external_store_context(self, command_info: CommandInfo | None) -> StorageDriverStoreContext:
        return cast(StorageDriverStoreContext, self._in_sandbox.get_external_store_context(command_info))

    @property
    def _in_sandbox(self) -> Any:
        return self.globals_and_locals["__temporal_in_sandbox"]


class LeanSandbox(SandboxedWorkflowRunner):
    """The SDK's sandbox, entered only to run a case: its glue compiled once per process instead of once per use, and
    a payload's contexts read from the case's object instead of entering the sandbox for each."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        """Implements :py:meth:`WorkflowRunner.create_instance`."""
        return _LeanInstance(det, self.runner_class, self.restrictions)


SANDBOX = LeanSandbox(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "models",
        "rules",
        "phonenumbers",  # the phone-number validators of models.types: pure functions over bundled metadata
    )
)
SHARED_SANDBOX = LeanSandbox(restrictions=SANDBOX.restrictions.with_passthrough_modules("workflows"))


def worker_sandbox() -> SandboxedWorkflowRunner:
    """The sandbox ``KZ_WORKFLOW_SANDBOX`` chooses for a worker (``shared`` by default)."""
    from infra.settings import settings

    return SANDBOX if settings().workflow_sandbox == "strict" else SHARED_SANDBOX
