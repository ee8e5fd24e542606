"""The workflow sandbox of the worker, the replayer and the audit tool (one definition for all three).

Only data pass through: ``models`` and ``rules`` (pure, deterministic to import, no I/O that workflow code could
observe) and the one library they validate with. Everything else of ours (``activities``, ``infra``, ``audit``,
``adapters``, ``api``) and the libraries that do I/O, read settings or compute the calendar (``sqlalchemy``,
``pydantic_settings``, ``jinja2``, ``cryptography``, ``holidays``) is re-imported inside the sandbox, under its
restrictions: workflow code that reaches for them fails there (``tests/infra/test_sandbox.py``) instead of
running unnoticed. Workflow modules import activity definitions for typed references inside
``workflow.unsafe.imports_passed_through()``; ``tests/workflows/test_purity.py`` allows nothing else from above.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

__all__ = ["SANDBOX"]

SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "models",
        "rules",
        "phonenumbers",  # the phone-number validators of models.types: pure functions over bundled metadata
    )
)
