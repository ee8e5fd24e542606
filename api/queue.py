"""The work queue, the console's landing page: the running cases that need someone now, mine and the team's.

Groups (a case is in every group that fits it): ``overdue`` (a term breached and still waiting, or the next deadline
passed), ``due_today`` and ``due_soon`` (the next deadline later today, or within the next 5 working days by
the calendar in force, Asia/Almaty: the law counts in working days, and a calendar week showed nothing on a Friday
evening of the terms due on Tuesday), ``waiting`` (an activity is being retried after a failed attempt:
``infra.outside_waits``) and ``blocked`` (an outside system refused a step; staff resume it). "Mine" are the cases
assigned to the signed-in key (``infra.assignments``) and those it started or recorded a decision in
(``infra.case_index.cases_of``); "team" is every case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlmodel import col, select
from temporalio.client import Client

from api.listing import MAX_ROWS, CaseRow, fetch, ids_clause, instant, procedures_clause
from infra import assignments, case_index, outside_waits
from infra.calendar import current_calendar
from infra.db import session
from models import search_attributes as sa
from models.procedure import ProcedureSpec
from models.tables import OutsideWait, SupervisorNotification
from rules.calendar import ALMATY

__all__ = ["GROUPS", "QueueEntry", "WorkQueue", "work_queue"]

GROUPS: tuple[tuple[str, str], ...] = (
    ("overdue", "Overdue"),
    ("due_today", "Due today"),
    ("due_soon", "Due within 5 working days"),
    ("waiting", "Waiting on an outside system"),
    ("blocked", "Blocked"),
)
"""The groups in the order the page shows them, with their headings."""


@dataclass
class QueueEntry:
    """A case in the queue, with what it waits on or why it is blocked."""

    row: CaseRow
    mine: bool
    waits: list[OutsideWait] = field(default_factory=list)
    blocked_detail: str = ""


@dataclass
class WorkQueue:
    """The groups of one scope, and the counts of both scopes."""

    scope: str
    groups: dict[str, list[QueueEntry]]
    counts: dict[str, dict[str, int]]
    """``counts[group]["mine" | "team"]``."""
    truncated: bool = False


SOON_WORKING_DAYS = 5
"""How far ahead "due soon" looks: the working days after today (a working week, whatever day it is now)."""


def _bounds(now: datetime) -> tuple[datetime, datetime]:
    """The end of today and the end of the ``SOON_WORKING_DAYS``-th working day after it, Asia/Almaty."""
    today = now.astimezone(ALMATY).date()
    end_today = datetime.combine(today + timedelta(days=1), time(0), tzinfo=ALMATY)
    last = current_calendar().add_working_days(today, SOON_WORKING_DAYS)
    return end_today, datetime.combine(last + timedelta(days=1), time(0), tzinfo=ALMATY)


def groups_of(row: CaseRow, waits: bool, now: datetime) -> list[str]:
    """The queue groups a running case is in."""
    end_today, end_soon = _bounds(now)
    nxt = row.next_deadline
    out = []
    if row.overdue or (nxt is not None and nxt < now):
        out.append("overdue")
    elif nxt is not None and nxt < end_today:
        out.append("due_today")
    elif nxt is not None and nxt < end_soon:
        out.append("due_soon")
    if row.status == "blocked":
        out.append("blocked")
    elif waits:
        out.append("waiting")
    return out


async def work_queue(
    client: Client, procedures: Mapping[str, ProcedureSpec], key_id: str, scope: str, now: datetime | None = None
) -> WorkQueue:
    """The queue of ``scope`` (``mine`` or ``team``) for the key ``key_id``."""
    now = now or datetime.now(UTC)
    _, end_soon = _bounds(now)
    running = f"{procedures_clause(procedures)} AND ExecutionStatus = 'Running'"
    due = (
        f"{running} AND ({sa.OVERDUE.name} = true OR {sa.NEXT_DEADLINE.name} < {instant(end_soon)} "
        f"OR {sa.STATUS.name} = 'blocked')"
    )
    rows, truncated = await fetch(client, due)
    waits = await asyncio.to_thread(outside_waits.waiting)
    seen = {r.case_id for r in rows}
    missing = [c for c in waits if c not in seen]
    for i in range(0, len(missing), 200):
        more, cut = await fetch(client, f"{running} AND {ids_clause(missing[i : i + 200])}", MAX_ROWS)
        rows += more
        truncated = truncated or cut
    mine = await asyncio.to_thread(case_index.cases_of, key_id) | await asyncio.to_thread(
        assignments.assigned_to, key_id
    )
    blocked = await asyncio.to_thread(_blocked_details, [r.case_id for r in rows if r.status == "blocked"])
    counts = {g: {"mine": 0, "team": 0} for g, _ in GROUPS}
    groups: dict[str, list[QueueEntry]] = {g: [] for g, _ in GROUPS}
    for row in rows:
        entry = QueueEntry(row, row.case_id in mine, waits.get(row.case_id, []), blocked.get(row.case_id, ""))
        for g in groups_of(row, bool(entry.waits), now):
            counts[g]["team"] += 1
            counts[g]["mine"] += entry.mine
            if scope == "team" or entry.mine:
                groups[g].append(entry)
    far = datetime.max.replace(tzinfo=UTC)
    for entries in groups.values():
        entries.sort(key=lambda e: (e.row.next_deadline or far, e.row.case_id))
    return WorkQueue(scope=scope, groups=groups, counts=counts, truncated=truncated)


def _blocked_details(case_ids: list[str]) -> dict[str, str]:
    """Why each case is blocked, from the latest escalation of a blocked step (the system and its refusal)."""
    out: dict[str, str] = {}
    if not case_ids:
        return out
    with session() as s:
        q = (
            select(SupervisorNotification)
            .where(col(SupervisorNotification.case_id).in_(case_ids))
            .where(col(SupervisorNotification.deadline_key).startswith("blocked:"))
            .order_by(col(SupervisorNotification.breached_at))
        )
        for row in s.exec(q):
            out[row.case_id] = row.detail or row.deadline_key.split(":")[1]
    return out
