"""The procedures the engine runs, described once for the API, the console and the command line.

Each procedure module declares a ``SPEC``; ``PROCEDURES`` lists them. The API derives its routes,
role checks and OpenAPI schema from these specs, so a new procedure needs no API code of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

__all__ = ["PROCEDURES", "EventSpec", "ProcedureSpec", "Role", "register"]


class Role:
    """API roles. Operator systems are ``operator:<system>`` and may send only their own events."""

    STAFF = "staff"
    AUDITOR = "auditor"
    SUPERVISOR = "supervisor"

    @staticmethod
    def operator(system: str) -> str:
        return f"operator:{system}"


@dataclass(frozen=True)
class EventSpec:
    """An event or decision a case accepts: a workflow Update with a validator."""

    name: str  # the Update's name on the workflow
    model: type[BaseModel] | None  # its argument, None for an Update without one
    roles: frozenset[str]  # who may send it
    title: str  # shown on the console's form
    cite: str = ""
    # What a caller of the API sends when it differs from the Update's argument, and how the edge turns it
    # into that argument (e.g. a typed one-time code into its keyed digest, so the code never enters history).
    edge_model: type[BaseModel] | None = None
    to_update: Callable[[Any, str, Any], Awaitable[BaseModel]] | None = None  # (client, case id, edge body)


@dataclass(frozen=True)
class ProcedureSpec:
    """How to start and drive one procedure."""

    key: str  # e.g. "mvno_permit"; also the KzProcedure search attribute value
    title: str
    act_key: str
    workflow: type
    run: Callable[..., Any]  # the workflow's @workflow.run method
    input_model: type[BaseModel]
    case_id: Callable[[Any], str]  # deterministic id from the input: the same application, the same case
    start_roles: frozenset[str]
    events: tuple[EventSpec, ...] = ()
    result_model: type[BaseModel] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def event(self, name: str) -> EventSpec:
        for e in self.events:
            if e.name == name:
                return e
        raise KeyError(name)


PROCEDURES: dict[str, ProcedureSpec] = {}


def _common_events() -> tuple[EventSpec, ...]:
    """Events every case takes (``CaseWorkflow``): resuming a blocked step, a calendar correction."""
    from models.case import ResumeRequest
    from models.deadlines import CalendarCorrection

    staff = frozenset({Role.STAFF, Role.SUPERVISOR})
    return (
        EventSpec("resume_outside_step", ResumeRequest, staff, "Resume a step an outside system refused"),
        EventSpec(
            "apply_calendar_correction",
            CalendarCorrection,
            frozenset({Role.SUPERVISOR}),
            "Recompute open deadlines after a calendar correction",
        ),
    )


def register(spec: ProcedureSpec) -> ProcedureSpec:
    """Add a procedure (called by each procedure module at import), with the events every case takes."""
    names = {e.name for e in spec.events}
    extra = tuple(e for e in _common_events() if e.name not in names)
    if extra:
        spec = replace(spec, events=spec.events + extra)
    PROCEDURES[spec.key] = spec
    return spec
