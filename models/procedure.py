"""The procedure catalogue's vocabulary: what a procedure is, the events its cases take, who may send them.

Each procedure module declares one ``ProcedureSpec``; ``workflows.catalogue.PROCEDURES`` lists them. The
API's routes and OpenAPI bodies, the console's forms, the command line's ``case`` commands, the worker's
registration and the one start path (``infra.cases.start_case``) are all generated from these specs, so a
procedure is described once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from models.case import LawMigration, ResumeRequest
from models.deadlines import CalendarCorrection

__all__ = [
    "ACTOR_FIELDS",
    "ALWAYS_OPEN_EVENTS",
    "COMMON_EVENTS",
    "COMMON_STATUSES",
    "Caller",
    "EdgeConversion",
    "EventSpec",
    "Governs",
    "ProcedureSpec",
    "Role",
    "SenderError",
    "StartConversion",
    "StartPolicy",
    "ViewSpec",
]

EdgeConversion = Callable[[Client, str, Any], Awaitable[BaseModel]]
"""Turns what a caller sends into the Update's argument: ``(client, case id, edge body) -> argument``."""

StartConversion = Callable[[Client, Any], Awaitable[BaseModel]]
"""Completes or refuses a start's input at the edge: ``(client, input) -> input``; ``CaseError("refused")``."""


class Role:
    """Roles of API keys and console users. Operator systems are ``operator:<system>``."""

    STAFF = "staff"
    AUDITOR = "auditor"
    SUPERVISOR = "supervisor"

    @staticmethod
    def operator(system: str) -> str:
        """The role of an operator system, e.g. ``operator:egov_portal``."""
        return f"operator:{system}"

    @staticmethod
    def is_operator(role: str) -> bool:
        """Whether ``role`` is an operator system's (a key bound to an organisation's BIN)."""
        return role.startswith("operator:")


class SenderError(ValueError):
    """A validator's refusal that names only what the sender sent (never the case's data: other parties' contract
    numbers, statuses, pending events). Its message reaches an operator system as it is; other refusals reach
    operator systems as a generic text (``api.cases``)."""


@dataclass(frozen=True)
class Caller:
    """Who starts a case or sends an event at the edge: the key's id, the organisation (BIN) it is bound to, its
    roles. Back-office callers (staff, supervisor) are not checked against a case's parties; operator systems are.
    """

    key_id: str
    bin: str | None
    roles: frozenset[str]

    def may(self, allowed: frozenset[str]) -> bool:
        """Whether the caller holds one of the ``allowed`` roles."""
        return bool(self.roles & allowed)

    def acts_as_operator(self, allowed: frozenset[str]) -> bool:
        """True when the caller may do this only through operator-system roles: the case's parties decide."""
        usable = self.roles & allowed
        return bool(usable) and all(Role.is_operator(r) for r in usable)

    def is_party(
        self, parties: Mapping[str, Sequence[str]], allowed: frozenset[str], designated: frozenset[str] = frozenset()
    ) -> bool:
        """Whether the caller acts in the case: always for the back office; for an operator system, when one of
        its roles in ``allowed`` is ``designated`` (held by one body for the whole installation) or lists the
        caller's organisation among the case's ``parties``. A key bound to no organisation acts on nothing."""
        if not self.acts_as_operator(allowed):
            return True
        if not self.bin:
            return False
        usable = self.roles & allowed
        return bool(usable & designated) or any(self.bin in parties.get(role, ()) for role in usable)


@dataclass(frozen=True)
class EventSpec:
    """An event or decision a case accepts: a workflow Update with its validator."""

    name: str
    """The Update's name on the workflow."""
    model: type[BaseModel] | None
    """The Update's argument; ``None`` for an Update that takes none."""
    roles: frozenset[str]
    """Who may send it."""
    title: str
    """Shown on the console's form and in the command line's help."""
    cite: str = ""
    """The paragraph the event executes."""
    edge_model: type[BaseModel] | None = None
    """What a caller sends when it differs from ``model`` (e.g. a typed one-time code)."""
    to_update: EdgeConversion | None = None
    """How the edge turns ``edge_model`` into ``model`` (e.g. the code into its keyed digest)."""
    result_model: type[BaseModel] | None = None
    """The Update's answer, when the caller reads it as a model (e.g. a report's ``IntakeAck``)."""
    sender_errors: frozenset[str] = frozenset()
    """Failure types of the Update's handler whose messages name only what the sender sent (e.g. a biometric
    session reused from another case): they reach an operator system as they are, like a validator's
    ``SenderError``; other refusals reach it as a generic text."""
    sender_bin: str | None = None
    """A field of ``model`` that the edge fills with the calling operator system's BIN (whatever it sent), so the
    case's validator can check the event against what that organisation is a party of (e.g. its own contract)."""
    terms: tuple[str, ...] = ()
    """The legal terms (term keys, e.g. ``mvno.completeness_check``) by which the event is due while the case waits
    for it: the console's "next step" shows the case's open deadlines of these terms as "by when"."""
    elective: bool = False
    """An event the case takes but does not wait for (a complainant's withdrawal): no term makes it due, and the
    console lists it after the steps the case waits for, with no "by when"."""
    actor: str | None = None
    """The field that names the person who decides or records the event (``decided_by``…): the console fills it
    from the signed-in user and ignores what a form sends. ``None``: the first of ``ACTOR_FIELDS`` the model has;
    ``""``: no such field."""
    answer: Callable[[Any, bool], Any] | None = None
    """What the API answers of the Update's result (given its JSON, and whether the caller is an operator system),
    minimised as the case view is: e.g. a fraud decision answers where the case stands with the number masked, not
    the subscriber's record. ``None``: the result as it is."""
    taken: Callable[[str, Any, Any], None] | None = None
    """Called at the edge once the case took the event (its id, the payload sent, the Update's result): e.g. the
    start ledger records a report's ref taken in through the events route, as the start route does."""

    @property
    def body_model(self) -> type[BaseModel] | None:
        """The model a caller of the API or the command line fills in."""
        return self.edge_model or self.model

    @property
    def actor_field(self) -> str | None:
        """The field the console fills from the signed-in user (see ``actor``), if the event has one."""
        if self.actor is not None:
            return self.actor or None
        fields = self.body_model.model_fields if self.body_model is not None else {}
        return next((name for name in ACTOR_FIELDS if name in fields), None)


ACTOR_FIELDS = ("decided_by", "recorded_by", "reported_by", "forwarded_by", "analyst", "reviewer", "by")
"""Names of the fields in which an event records who decided or recorded it (the console fills them from the
signed-in user)."""


@dataclass(frozen=True)
class StartPolicy:
    """What starting a case means when its id is taken (Temporal's id conflict and reuse policies)."""

    id_conflict: WorkflowIDConflictPolicy = WorkflowIDConflictPolicy.USE_EXISTING
    """A start for a running case: ``USE_EXISTING`` answers with that case, ``FAIL`` refuses."""
    id_reuse: WorkflowIDReusePolicy = WorkflowIDReusePolicy.REJECT_DUPLICATE
    """A start for a closed case: ``REJECT_DUPLICATE`` answers with the closed case (one case per
    application, ever), ``ALLOW_DUPLICATE`` opens a new run under the same id."""
    with_update: Callable[[Any], tuple[str, BaseModel, str]] | None = None
    """Update-with-start: from the input, the Update that goes with the start, its argument and the message's own
    reference, whose keyed hash is the Update id (``infra.cases.message_id``). The same Update joins a running
    case or opens one (e.g. a fraud report, 171 p.119)."""


@dataclass(frozen=True)
class Governs:
    """What a start executes: the act, its paragraphs, and when the input was received. The paragraphs must be
    in force on the governing day (the registration day where the act rolls after-hours receipts, else the
    day of receipt), or the start is refused at the edge and no case starts."""

    act: str
    paragraphs: tuple[str, ...]
    received_at: datetime


@dataclass(frozen=True)
class ViewSpec:
    """The procedure's own query, beside the ``case`` query every case answers."""

    query: str
    model: type[BaseModel]


@dataclass(frozen=True)
class ProcedureSpec:
    """How to start and drive one procedure."""

    key: str
    """E.g. ``mvno_permit``; also the module name and the ``KzProcedure`` search attribute's value."""
    title: str
    act_key: str
    """The act in ``rules/data/acts.toml`` that governs the procedure."""
    workflow: type
    run: Callable[..., Any]
    """The workflow's ``@workflow.run`` method."""
    input_model: type[BaseModel]
    case_id: Callable[[Any], str]
    """The deterministic case id of an input: the same application is always the same case."""
    start_roles: frozenset[str]
    events: tuple[EventSpec, ...] = ()
    result_model: type[BaseModel] | None = None
    start: StartPolicy = field(default_factory=StartPolicy)
    governs: Callable[[Any], Governs] | None = None
    """The act and paragraphs a start executes (checked against the law in force on the governing day)."""
    start_at_the_edge: StartConversion | None = None
    """How the edge completes or refuses a start's input from what the engine knows of the cases it names (e.g. a
    complaint takes its act from the appealed case), after they are found to exist and before the law is checked."""
    intake_check: Callable[[Any], None] | None = None
    """Any further refusal of an input at the edge (``ValueError``) before a case exists."""
    view: ViewSpec | None = None
    designated: frozenset[str] = frozenset()
    """Operator-system roles held by one designated body for the whole installation (the antifraud centre, the
    biometric provider, the national postal operator, the operator's own systems): any key of such a role acts on
    every case of the procedure. Any other operator role acts only on the cases whose parties list its
    organisation: the workflow's ``parties()`` from the case's own data (e.g. a permit's base operators), and the
    organisation that started the case."""
    checkers: frozenset[str] = frozenset()
    """Operator roles whose events check what the procedure's other operator systems send (the biometric provider's
    verdict on a request the portal submitted, 58 p.6–p.7): no one key holds one of them beside another operator
    role of the procedure, or one system would vouch for itself (``workflows.catalogue.roles_checking_one_another``)."""
    activities: tuple[Callable[..., Any], ...] = ()
    """The activities only this procedure calls (the worker adds the ones every case uses): functions, or
    unbound methods of activity classes (``SmsActivities.send_sms``) that the worker binds to its one
    instance of the class (``worker.bind``)."""
    statuses: tuple[str, ...] = ()
    """Every status (``KzStatus``) a case of the procedure shows, for the console's status filter (each translated in
    ``api/locales``); the statuses every case may show (``COMMON_STATUSES``) are added."""

    def __post_init__(self) -> None:
        names = {e.name for e in self.events}
        common = tuple(e for e in COMMON_EVENTS if e.name not in names)
        object.__setattr__(self, "events", self.events + common)
        extra = tuple(s for s in COMMON_STATUSES if s not in self.statuses)
        object.__setattr__(self, "statuses", extra + self.statuses)

    def event(self, name: str) -> EventSpec:
        """The event called ``name``; ``KeyError`` when the procedure has none."""
        for e in self.events:
            if e.name == name:
                return e
        raise KeyError(name)


_STAFF = frozenset({Role.STAFF, Role.SUPERVISOR})


async def _law_migration_at_the_edge(client: Client, case_id: str, migration: LawMigration) -> LawMigration:
    """The edge's check of a law migration against its law files (``rules.law.migration_refusal``): a version the
    case would refuse — unknown, announced, or giving none of the terms it counts by — is refused here (422), before
    anything enters the case's history, where the API answered 200 with the refusal the case recorded (an adversarial
    run, 2026-12-03). The case checks again with its worker's files."""
    from infra.cases import case_view, refused  # at the edge only
    from rules import law

    reg = (await case_view(client, case_id)).registration
    if reg is not None and (why := law.migration_refusal(reg.act_key, migration.to_version, reg.terms)):
        raise refused("to_version: {why}", why=why)
    return migration


COMMON_EVENTS: tuple[EventSpec, ...] = (
    EventSpec("resume_outside_step", ResumeRequest, _STAFF, "Resume a step an outside system refused"),
    EventSpec(
        "apply_calendar_correction",
        CalendarCorrection,
        frozenset({Role.SUPERVISOR}),
        "Recompute open deadlines after a calendar correction",
    ),
    EventSpec(
        "migrate_law",
        LawMigration,
        frozenset({Role.SUPERVISOR}),
        "Move the case onto another version of its act (recorded law migration)",
        to_update=_law_migration_at_the_edge,
    ),
)
"""Events every case takes (``workflows.case.CaseWorkflow``)."""

COMMON_STATUSES = ("received", "registered", "blocked")
"""Statuses of every case: ``received`` from its start until its registration, ``registered`` before its first stage,
``blocked`` while an outside system's refusal holds a step (``workflows.case.CaseWorkflow``)."""

ALWAYS_OPEN_EVENTS = ("apply_calendar_correction", "migrate_law")
"""Events a running case takes whatever its state (only ``resume_outside_step`` waits for a blocked step)."""
