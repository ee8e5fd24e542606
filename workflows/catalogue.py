"""The procedure catalogue: every procedure the engine runs, listed once.

The worker registers these workflows and their activities, the API and the console generate their routes
and forms, and the command line its ``case`` commands, all from this tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from models.procedure import ProcedureSpec, Role
from workflows import (
    complaint,
    contract_eds_signing,
    egov_number_connection,
    electronic_mailbox,
    fraud_check,
    individual_numbers,
    mvno_permit,
)
from workflows.case import CASE_ACTIVITIES

__all__ = [
    "ACTIVITIES",
    "PROCEDURES",
    "WORKFLOWS",
    "by_key",
    "operator_roles",
    "roles_checking_one_another",
    "spec_of_workflow",
]

PROCEDURES: tuple[ProcedureSpec, ...] = (
    mvno_permit.SPEC,
    fraud_check.SPEC,
    complaint.SPEC,
    egov_number_connection.SPEC,
    individual_numbers.SPEC,
    contract_eds_signing.SPEC,
    electronic_mailbox.SPEC,
)

WORKFLOWS: list[type] = [spec.workflow for spec in PROCEDURES]


def _unique(activities: list[Callable[..., Any]]) -> list[Callable[..., Any]]:
    seen: dict[int, Callable[..., Any]] = {}
    for fn in activities:
        seen.setdefault(id(fn), fn)
    return list(seen.values())


ACTIVITIES: list[Callable[..., Any]] = _unique([*CASE_ACTIVITIES, *(a for s in PROCEDURES for a in s.activities)])
"""Every activity the catalogue's workflows call: those of every case, then each procedure's own."""


def by_key() -> dict[str, ProcedureSpec]:
    """The catalogue keyed by procedure key (the API's and the command line's view of it)."""
    return {s.key: s for s in PROCEDURES}


def spec_of_workflow(workflow_type: str) -> ProcedureSpec | None:
    """The procedure whose workflow type is ``workflow_type`` (as Temporal names it)."""
    for s in PROCEDURES:
        definition = getattr(s.workflow, "__temporal_workflow_definition", None)
        if getattr(definition, "name", s.workflow.__name__) == workflow_type:
            return s
    return None


def operator_roles() -> frozenset[str]:
    """The operator systems' roles some procedure of the catalogue takes a start or an event from
    (``operator:egov_portal`` …): an operator key with any other role could act on nothing."""
    return frozenset(r for s in PROCEDURES for r in _operator_roles_of(s))


def _operator_roles_of(spec: ProcedureSpec) -> set[str]:
    roles = {*spec.start_roles, *(r for e in spec.events for r in e.roles)}
    return {r for r in roles if Role.is_operator(r)}


def roles_checking_one_another(roles: Iterable[str]) -> tuple[str, str] | None:
    """Two of ``roles`` that one key may not hold, or ``None``: a procedure's checker (``ProcedureSpec.checkers``, the
    biometric provider) and another operator role it takes a start or an event from (the e-gov portal)."""
    held = set(roles)
    for spec in PROCEDURES:
        for checker in sorted(spec.checkers & held):
            if checked := sorted((_operator_roles_of(spec) - spec.checkers) & held):
                return checker, checked[0]
    return None
