"""The workflow sandbox of the worker, the replayer and the audit tool (one definition for all three)."""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

__all__ = ["SANDBOX"]

# Our leaf packages and their libraries are deterministic to import (no clock, no I/O at import time
# that workflow code could observe) and are passed through the sandbox rather than re-imported.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "rules",
        "models",
        "activities",
        "infra",
        "audit",
        "holidays",
        "phonenumbers",
        "sqlalchemy",
        "sqlmodel",
        "pydantic_settings",
        "jinja2",
        "cryptography",
        "asn1crypto",
    )
)
