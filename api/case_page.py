"""What the console's case page says beyond the case's own fields: the next step (who acts, by when, with which form,
what the law forbids yet), forms pre-filled with what the case knows, and the procedure's own partial template.

Everything comes from the catalogue (``EventSpec.roles``, ``EventSpec.terms``, ``EventSpec.actor_field``) and from
what the case recorded (its deadlines, its procedure's own view): the console counts no law itself.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.service import RPCError

from api.auth import Principal
from api.forms import Form, build_form
from api.i18n import N_, say_data
from infra.cases import CaseWork, wait_until_settled
from models import search_attributes as sa
from models.case import ActNotBefore, CaseView
from models.deadlines import DeadlineState, DeadlineStatus
from models.mvno_permit import PermitCaseView
from models.mvno_permit.views import Proposal
from models.procedure import EventSpec, ProcedureSpec
from rules.calendar import ALMATY, almaty_text

__all__ = [
    "SETTLE_SECONDS",
    "NextStep",
    "event_forms",
    "event_title",
    "findings",
    "fixed",
    "live",
    "next_steps",
    "own_view",
    "partial",
    "prefill",
    "settle",
    "shown",
]

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class NextStep:
    """One step the case waits for: possible now (``pending``), or coming but forbidden yet (``not_before``)."""

    event: EventSpec
    pending: bool
    may: bool
    """The signed-in user may take it: its form is on the page."""
    roles: list[str]
    deadlines: list[DeadlineState] = field(default_factory=list)
    not_before: list[ActNotBefore] = field(default_factory=list)


def live(state: DeadlineState) -> bool:
    """An open term, or one breached and still not done."""
    return state.status is DeadlineStatus.OPEN or (state.status is DeadlineStatus.BREACHED and state.met_at is None)


def _governing(view: CaseView, event: EventSpec) -> list[DeadlineState]:
    """The open deadlines of the terms the event is due by (``EventSpec.terms``); for an event that names none, the
    case's next deadline."""
    if event.elective:
        return []
    states = sorted((s for s in view.deadlines if live(s)), key=lambda s: s.due)
    if event.terms:
        return [s for s in states if s.deadline.term_key in event.terms]
    return states[:1]


def next_steps(spec: ProcedureSpec, view: CaseView, own: BaseModel | None, may: set[str]) -> list[NextStep]:
    """The steps the case waits for, in the order the case lists them, then the coming ones the law forbids yet
    (a procedure's view lists those as ``not_before``), then the ones it takes without waiting for them
    (``EventSpec.elective``); ``may`` are the events the signed-in user may send."""
    if view.closed:
        return []
    forbidden: list[ActNotBefore] = list(getattr(own, "not_before", []) or [])
    steps: list[NextStep] = []
    names = list(view.pending_events) + [n.event for n in forbidden if n.event not in view.pending_events]
    for name in dict.fromkeys(names):
        try:
            event = spec.event(name)
        except KeyError:
            continue
        steps.append(
            NextStep(
                event=event,
                pending=name in view.pending_events,
                may=name in may,
                roles=sorted(event.roles),
                deadlines=_governing(view, event),
                not_before=[n for n in forbidden if n.event == name],
            )
        )
    return sorted(steps, key=lambda step: step.event.elective)  # a stable sort: the case's order otherwise


def partial(procedure: str) -> str | None:
    """The procedure's own partial template (``procedures/<key>.html``: its headline and its facts), if any."""
    name = f"procedures/{procedure}.html"
    return name if (TEMPLATES / name).exists() else None


def _local_input(moment: datetime) -> str:
    """An instant as a ``datetime-local`` input's value: Asia/Almaty wall-clock time."""
    return moment.astimezone(ALMATY).strftime("%Y-%m-%dT%H:%M")


def prefill(view: CaseView, own: BaseModel | None, lang: str = "en") -> dict[str, dict[str, str]]:
    """Form values the case knows, per event and form name (a fresh form shows them; the person may change them),
    the system's findings in the page's language ``lang``."""
    if isinstance(own, PermitCaseView):
        return _permit(own, lang)
    return {}


BETWEEN_CASES = {
    "complaint_notice": N_("a complaint about this case (registered or concluded)"),
    "complaint_instruction": N_("an instruction from the decision on a complaint"),
}
"""Updates one case sends another (no one's form): how the timeline names them."""


def event_title(spec: ProcedureSpec, name: str) -> str:
    """What the timeline calls the event ``name`` of a case of ``spec`` (a msgid): the event's title, else the name
    of an Update between cases, else the name as recorded."""
    titles = {e.name: e.title for e in spec.events}
    return titles.get(name) or BETWEEN_CASES.get(name, name)


def findings(p: Proposal, lang: str) -> list[str]:
    """A pre-check's findings in ``lang`` (as given, in English, for a case that did not give their sentences)."""
    said = p.findings_said if len(p.findings_said) == len(p.findings) else [None] * len(p.findings)
    return [say_data(lang, d, f) for d, f in zip(said, p.findings, strict=True)]


def _permit(v: PermitCaseView, lang: str) -> dict[str, dict[str, str]]:
    """The system's pre-checks as the proposed decision (665/NK p.6, p.7); the hearing at its notified time."""
    out: dict[str, dict[str, str]] = {}
    c = v.completeness_proposal
    if c is not None:
        out["completeness_decision"] = (
            {"complete": "true"} if c.passes else {"complete": "", "reasons": "\n".join(findings(c, lang))}
        )
    q = v.qualification_proposal
    if q is not None:
        grounds = ",".join(g.value for g in q.grounds)
        out["qualification_decision"] = (
            {"compliant": "true"}
            if q.passes
            else {"compliant": "", "grounds": grounds, "findings": "; ".join(findings(q, lang))}
        )
    if v.hearing is not None and v.hearing_record is None:
        out["record_hearing"] = {"held_at": _local_input(v.hearing.at)}
    return out


def shown(value: Any) -> str:
    """A recorded value as a person reads it: instants (also ISO texts with a time) in Asia/Almaty with the offset,
    to the minute; objects and lists flattened."""
    if isinstance(value, datetime):
        return almaty_text(value if value.tzinfo else value.replace(tzinfo=UTC))  # SQLite gives back naive UTC
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        try:
            return shown(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {shown(x)}" for k, x in value.items() if x not in (None, "", [], {}))
    if isinstance(value, list):
        return "; ".join(shown(x) for x in value)
    if isinstance(value, bool):
        return "✓" if value else "—"
    return "" if value is None else str(value)


# --- forms, and the case's own work after an action ------------------------------------------------------------


def fixed(event: EventSpec, principal: Principal) -> dict[str, str]:
    """What the server sets in the event's form whatever is posted: who decides is the signed-in user."""
    actor = event.actor_field
    return {actor: principal.name} if actor else {}


Posted = tuple[str, dict[str, str], ValidationError | None, list[str]]
"""A form sent back with its problems: the event, the values, the model's error, other messages."""


def event_forms(
    spec: ProcedureSpec,
    pending: list[str],
    principal: Principal,
    posted: Posted | None = None,
    known: dict[str, dict[str, str]] | None = None,
    lang: str = "en",
) -> list[tuple[EventSpec, Form | None]]:
    """The forms of the events possible now that the user may send, pre-filled with what the case knows, their
    messages in ``lang``."""
    forms: list[tuple[EventSpec, Form | None]] = []
    for name in pending:
        try:
            event = spec.event(name)
        except KeyError:
            continue
        if not principal.may(event.roles):
            continue
        values, error, extra = ({}, None, [])
        if posted and posted[0] == name:
            values, error, extra = posted[1], posted[2], posted[3]
        form = None
        if event.model is not None:
            form = build_form(
                event.model,
                values,
                error,
                extra,
                prefill=(known or {}).get(name),
                fixed=fixed(event, principal),
                lang=lang,
            )
        if form is None and extra:
            form = Form(items=[], errors=extra)
        forms.append((event, form))
    return forms


SETTLE_SECONDS = 8.0
"""How long an action waits for the case's own work after the Update before the page is shown ("processing")."""


async def settle(client: Client, case_id: str) -> None:
    """Wait for the case's own work after an event or a start, so the page shown next is its new state (at most
    ``SETTLE_SECONDS``: an outside system still retrying is shown as "processing")."""
    with suppress(RPCError):
        await wait_until_settled(client, case_id, timeout=SETTLE_SECONDS)


async def own_view(client: Client, spec: ProcedureSpec, case_id: str, run_id: str | None = None) -> BaseModel | None:
    """The procedure's own view (its ``ViewSpec`` query) of run ``run_id`` (default the latest), when it has one and
    the case answers it."""
    if spec.view is None:
        return None
    try:
        handle = client.get_workflow_handle(case_id, run_id=run_id)
        view: BaseModel = await handle.query(spec.view.query, result_type=spec.view.model)
    except (RPCError, WorkflowQueryFailedError):
        return None
    return view


@dataclass(frozen=True)
class Span:
    """The instants between which the case a page shows did its work: an id can name several cases (a fraud case
    closed and a new report opened another; a check ended and the next began in the same chain), and what is kept by
    the id (the SMS outbox, the assignment) is the case's only within them."""

    start: datetime | None
    end: datetime | None
    latest: bool
    """The case is the id's latest: its assignment is the id's."""

    def holds(self, at: datetime) -> bool:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives back naive UTC
        return (self.start is None or self.start <= at) and (self.end is None or at <= self.end)


async def span(client: Client, view: CaseView, work: CaseWork, run_id: str | None) -> Span:
    """The span of the case ``view`` (its run ``run_id``, else the id's latest): from its chain's first start, or the
    close of the check it began after, to its close. Unbounded for the one case of its id: the instants are the
    server's, the SMS's the gateway's, and an id of one case has nothing to tell apart."""
    latest = run_id is None
    if not latest:
        with suppress(RPCError):
            latest = (await client.get_workflow_handle(view.case_id).describe()).run_id == run_id
    if latest and not view.begun_after_run and not await _cases_of_the_id(client, view.case_id) > 1:
        return Span(start=None, end=None, latest=True)
    start = None
    with suppress(RPCError):
        if view.begun_after_run:
            start = (await client.get_workflow_handle(view.case_id, run_id=view.begun_after_run).describe()).close_time
        elif view.first_run_id:
            start = (await client.get_workflow_handle(view.case_id, run_id=view.first_run_id).describe()).start_time
    return Span(start=start, end=work.closed_at, latest=latest)


async def _cases_of_the_id(client: Client, case_id: str) -> int:
    """How many chains of runs the id names (a run that continued as new is its chain's), as visibility counts them;
    1 where it cannot say."""
    if "'" in case_id or "\\" in case_id:
        return 1
    with suppress(RPCError):
        query = f"WorkflowId = '{case_id}' AND ExecutionStatus != 'ContinuedAsNew'"
        return (await client.count_workflows(query)).count
    return 1


async def concluded_since(client: Client, view: CaseView) -> dict[str, str]:
    """The complaints a closed case still lists as pending that have ended since, with their status: a closed case
    takes no notice of their conclusion, and its page read "pending" for good (an adversarial run, 2026-12-05)."""
    if not view.closed:
        return {}
    ended = {}
    for c in view.complaints:
        if not c.pending:
            continue
        with suppress(RPCError):
            desc = await client.get_workflow_handle(c.complaint_id).describe()
            if desc.status is not WorkflowExecutionStatus.RUNNING:
                ended[c.complaint_id] = desc.typed_search_attributes.get(sa.STATUS) or "closed"
    return ended
