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
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

__all__ = ["SANDBOX", "SHARED_SANDBOX", "worker_sandbox"]

SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "models",
        "rules",
        "phonenumbers",  # the phone-number validators of models.types: pure functions over bundled metadata
    )
)
SHARED_SANDBOX = SandboxedWorkflowRunner(restrictions=SANDBOX.restrictions.with_passthrough_modules("workflows"))


def worker_sandbox() -> SandboxedWorkflowRunner:
    """The sandbox ``KZ_WORKFLOW_SANDBOX`` chooses for a worker (``shared`` by default)."""
    from infra.settings import settings

    return SANDBOX if settings().workflow_sandbox == "strict" else SHARED_SANDBOX
