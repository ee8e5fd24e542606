"""Every procedure module, imported once so that each registers its ``SPEC``; the worker's workflow list."""

from __future__ import annotations

# One import line per procedure module (each calls ``registry.register`` at import).
import workflows.complaint
import workflows.fraud
import workflows.mvno_permit  # noqa: F401  (665/NK MVNO permit)
from workflows import contract_signing, egov_connection, individual_numbers, mailbox  # noqa: F401  (issue 6)
from workflows.registry import PROCEDURES

__all__ = ["PROCEDURES", "WORKFLOWS"]

# Child workflows that are not procedures of their own are added here too.
EXTRA_WORKFLOWS: list[type] = []

WORKFLOWS: list[type] = [spec.workflow for spec in PROCEDURES.values()] + EXTRA_WORKFLOWS
