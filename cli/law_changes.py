"""Changes of the calendar or of the law, told to running cases deliberately: first a dry run that lists, per
case, every due instant that would move (old and new), then the fan-out of the Update to the cases that move.

A calendar correction is sent only to cases whose due instants it moves, with Update id
``calendar:<version>:<sending>``; a law migration only to cases of the act, with Update id
``law:<version>:<sending>`` (``sending_id``). The fan-out goes on past a case that fails and reports each.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from activities.deadlines import compute
from infra.cases import CaseError, case_view, check_text
from models import search_attributes as sa
from models.case import CaseView, LawMigration, LawMigrationRecord
from models.deadlines import CalendarCorrection, CorrectionResult, DeadlineRequest, DeadlineStatus
from models.mvno_permit import PermitCaseView
from rules import law
from rules.calendar import WorkingCalendar, almaty_text

__all__ = [
    "CaseMoves",
    "Move",
    "Outcome",
    "calendar_dry_run",
    "calendar_moves",
    "check_may_migrate_to",
    "law_dry_run",
    "law_moves",
    "running_cases",
    "send_calendar_correction",
    "send_law_migration",
]


@dataclass(frozen=True)
class Move:
    """One due instant that would move."""

    key: str
    old_due: datetime
    new_due: datetime
    cite: str


@dataclass
class CaseMoves:
    """What a change would do to one running case."""

    case_id: str
    procedure: str
    moves: list[Move] = field(default_factory=list)
    problem: str = ""
    warnings: list[str] = field(default_factory=list)
    """What the change leaves for a person to act on (a hearing the new calendar puts on a day off)."""


@dataclass
class Outcome:
    """What sending the Update did to one case."""

    case_id: str
    moved: int = 0
    error: str = ""


async def running_cases(client: Client) -> AsyncIterator[CaseView]:
    """Every running case of ours (visibility), with its view."""
    query = f"{sa.PROCEDURE.name} IS NOT NULL AND ExecutionStatus = 'Running'"
    async for wf in client.list_workflows(query):
        try:
            yield await case_view(client, wf.id)
        except (ValueError, RPCError):  # gone meanwhile, or not answering queries now: nothing to move
            continue


def _moves(view: CaseView, recompute: Callable[[DeadlineRequest], datetime | None]) -> list[Move]:
    out = []
    for state in view.deadlines:
        if state.status is not DeadlineStatus.OPEN:
            continue
        new_due = recompute(state.computed_from())
        if new_due is not None and new_due != state.due:
            out.append(Move(state.key, state.due, new_due, state.deadline.cite))
    return out


def calendar_moves(view: CaseView, calendar: WorkingCalendar) -> CaseMoves:
    """The due instants of ``view``'s case that the calendar ``calendar`` would move (under the law it keeps)."""
    moves = CaseMoves(view.case_id, view.procedure, _moves(view, lambda req: compute(calendar, req).due))
    if view.procedure == "mvno_permit" and (at := _permit(view).hearing_on_a_day_off(calendar)) is not None:
        moves.warnings.append(
            f"the hearing set for {almaty_text(at)} falls on a day off under this calendar "
            f"({law.cite('665/NK', 'Annex 1 item 8')}); its notice names that day and nothing moves it"
        )
    return moves


def _permit(view: CaseView) -> PermitCaseView:
    return PermitCaseView.model_validate(view.details)


def law_moves(view: CaseView, calendar: WorkingCalendar, act: str, version: str) -> CaseMoves | None:
    """The due instants of ``view``'s case that ``version``'s term values would move; ``None`` when the case is
    not under ``act`` or is under ``version`` already. A draft (``expected``) version may be tried."""
    reg = view.registration
    if reg is None or reg.act_key != act or reg.act_version_id == version:
        return None
    terms = law.terms_at_version(act, version)
    if problem := law.terms_missing(act, version, reg.terms):
        return CaseMoves(view.case_id, view.procedure, problem=f"would refuse it: {problem}")

    def recompute(req: DeadlineRequest) -> datetime | None:
        value = terms.get(req.term_key)
        if value is None or value == req.term:
            return None
        return compute(calendar, req.model_copy(update={"term": value})).due

    return CaseMoves(view.case_id, view.procedure, _moves(view, recompute))


async def calendar_dry_run(client: Client, calendar: WorkingCalendar) -> list[CaseMoves]:
    """For each running case, the due instants the calendar ``calendar`` would move (with the law each case keeps)."""
    return [calendar_moves(view, calendar) async for view in running_cases(client)]


async def law_dry_run(client: Client, calendar: WorkingCalendar, act: str, version: str) -> tuple[list[CaseMoves], int]:
    """For each running case under ``act`` and another version, the due instants ``version``'s term values would
    move; also how many running cases were looked at."""
    law.terms_at_version(act, version)  # an unknown act or version is refused before anything is listed
    result, seen = [], 0
    async for view in running_cases(client):
        seen += 1
        if (moves := law_moves(view, calendar, act, version)) is not None:
            result.append(moves)
    return result, seen


async def _send(client: Client, case_id: str, update: str, arg: Any, update_id: str, result_type: type) -> Any:
    return await client.get_workflow_handle(case_id).execute_update(update, arg, id=update_id, result_type=result_type)


def check_may_migrate_to(act: str, version: str) -> None:
    """Refuse, before anything is sent, a migration to an announced version (``expected``): not law yet, a case
    may not move onto it (each would refuse it); a dry run may show what it would move."""
    try:
        draft = law.act(act).version(version).expected
    except (KeyError, LookupError):
        return  # an unknown act or version: the dry run names it
    if draft:
        raise ValueError(
            f"{version} is an announced version, not law yet: --dry-run shows what it would move; nothing sent"
        )


def sending_id() -> str:
    """One sending of a calendar correction or a law migration: its part of the Update ids. Temporal answers an
    Update id it has seen with the outcome it recorded, so the client's own retries of a sending are taken once; a
    later sending is asked afresh, and a refusal (a worker behind on its law or calendar files) does not stick to
    the case for good (it did with ids of the version alone: an adversarial run, 2026-12-03). A correction taken
    twice moves nothing the second time; a migration to the version the case is under is refused."""
    return uuid.uuid4().hex[:12]


def _edge_checked(arg: BaseModel) -> None:
    """The edge's check of what staff typed (``infra.cases.check_text``), before anything is sent to any case."""
    try:
        check_text(arg)
    except CaseError as exc:
        raise ValueError(f"{exc.message}; nothing sent") from None


def _error(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    return str(getattr(cause, "message", None) or getattr(exc, "message", None) or exc)


async def send_calendar_correction(
    client: Client, case_ids: list[str], correction: CalendarCorrection, advance: Callable[[], None] = lambda: None
) -> list[Outcome]:
    """Send ``correction`` to each case (Update id ``calendar:<version>:<sending>``, ``sending_id``), going on past a
    case that fails."""
    _edge_checked(correction)
    sending = sending_id()
    outcomes = []
    for case_id in case_ids:
        outcome = Outcome(case_id)
        try:
            r: CorrectionResult = await _send(
                client,
                case_id,
                "apply_calendar_correction",
                correction,
                f"calendar:{correction.calendar_version}:{sending}",
                CorrectionResult,
            )
            outcome.moved, outcome.error = len(r.changed), r.refused
        except (WorkflowUpdateFailedError, RPCError) as exc:
            outcome.error = _error(exc)
        outcomes.append(outcome)
        advance()
    return outcomes


async def send_law_migration(
    client: Client, case_ids: list[str], migration: LawMigration, advance: Callable[[], None] = lambda: None
) -> list[Outcome]:
    """Send ``migration`` to each case (Update id ``law:<version>:<sending>``, ``sending_id``), going on past a case
    that fails. A case already under the version refuses it (its validator): a migration is taken once."""
    _edge_checked(migration)
    sending = sending_id()
    outcomes = []
    for case_id in case_ids:
        outcome = Outcome(case_id)
        try:
            r: LawMigrationRecord = await _send(
                client, case_id, "migrate_law", migration, f"law:{migration.to_version}:{sending}", LawMigrationRecord
            )
            outcome.moved, outcome.error = len(r.changed), r.refused
        except (WorkflowUpdateFailedError, RPCError) as exc:
            outcome.error = _error(exc)
        outcomes.append(outcome)
        advance()
    return outcomes
