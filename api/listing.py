"""Cases as the console's lists read them from Temporal visibility: our search attributes (never personal data),
the execution status, start and close times.

Visibility on SQL (the dev server, a cluster without Elasticsearch) has no ``ORDER BY`` and no offset: a list is
fetched (at most ``MAX_ROWS`` cases) and sorted and paged here, and counted with ``count_workflows``. Runs that
continued as new are left out (the case is its latest run). A running case's next deadline is read from its
``deadlines`` memo (returned with the list), since ``KzNextDeadline`` keeps the last instant once no term is
outstanding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.service import RPCError

from api.cases import working_days_left
from api.temporal import problem_from_temporal
from models import search_attributes as sa
from models.deadlines import DeadlineState, DeadlineStatus, deadline_records

__all__ = [
    "INCIDENT_EXECUTIONS",
    "MAX_ROWS",
    "CaseRow",
    "count",
    "fetch",
    "ids_clause",
    "instant",
    "outstanding_due",
    "procedures_clause",
    "row_of",
]

MAX_ROWS = 2000
"""The most cases one list reads from visibility; a larger selection says so and asks for narrower filters."""
INCIDENT_EXECUTIONS = ("Failed", "Terminated", "TimedOut", "Canceled")
"""Executions that ended without the case closing itself: incidents, never shown as ordinary closed cases."""
_WORD = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


class CaseRow(BaseModel):
    """A case in a console list (from visibility and, for the application number, the search index)."""

    case_id: str
    procedure: str
    status: str
    execution: str
    """``running``, ``completed``, ``failed``, ``terminated``, ``timed_out`` or ``canceled``."""
    run_id: str | None = None
    """The run the row is: a closed case's page is opened by it, for an id can name several (a fraud case closed and
    opened again: both rows opened the running case, an adversarial run of 2026-12-04)."""
    overdue: bool = False
    next_deadline: datetime | None = None
    working_days_left: int | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    application_number: str | None = None

    @property
    def running(self) -> bool:
        return self.execution == "running"

    @property
    def page(self) -> str:
        """The console's page of this case: a closed one by its run."""
        run = f"?run={self.run_id}" if self.run_id and not self.running else ""
        return f"/console/cases/{self.case_id}{run}"

    @property
    def incident(self) -> str | None:
        """``blocked`` or how the execution ended without the case closing itself; None for an ordinary case."""
        if self.running:
            return "blocked" if self.status == "blocked" else None
        return None if self.execution == "completed" else self.execution


def _word(value: str) -> str:
    if not _WORD.match(value):
        raise ValueError(f"not a value a visibility query takes: {value!r}")
    return f"'{value}'"


def procedures_clause(keys: Iterable[str]) -> str:
    """``KzProcedure`` is one of ``keys`` (checked words)."""
    quoted = [_word(k) for k in sorted(keys)]
    if not quoted:
        return f"{sa.PROCEDURE.name} = '-none-'"
    return f"{sa.PROCEDURE.name} IN ({', '.join(quoted)})"


def ids_clause(case_ids: Iterable[str]) -> str:
    """``WorkflowId`` is one of ``case_ids`` (checked words)."""
    return f"WorkflowId IN ({', '.join(_word(c) for c in case_ids)})"


def instant(moment: datetime) -> str:
    """An instant as a visibility query compares it (RFC 3339, UTC)."""
    return "'" + moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + "'"


def row_of(wf: WorkflowExecution, now: datetime, outstanding: datetime | Literal[False] | None = False) -> CaseRow:
    """The row of ``wf``; ``outstanding`` is its earliest outstanding term's due instant read from its memo (None:
    no term outstanding; False: not read, the ``KzNextDeadline`` attribute stands)."""
    attrs = wf.typed_search_attributes
    execution = wf.status.name.lower() if wf.status is not None else "running"
    running = execution == "running"
    nxt = (attrs.get(sa.NEXT_DEADLINE) if outstanding is False else outstanding) if running else None
    return CaseRow(
        case_id=wf.id,
        procedure=attrs.get(sa.PROCEDURE) or "",
        status=attrs.get(sa.STATUS) or "received",
        execution=execution,
        overdue=running and bool(attrs.get(sa.OVERDUE)),
        next_deadline=nxt,
        working_days_left=working_days_left(nxt, now) if nxt else None,
        started_at=wf.start_time,
        closed_at=wf.close_time,
        run_id=wf.run_id,
    )


async def outstanding_due(wf: WorkflowExecution) -> datetime | Literal[False] | None:
    """The earliest due instant of the case's terms still outstanding (open, or breached and not done), from its
    memo (``models.deadlines.deadline_records``); False when the memo cannot be read.

    ``KzNextDeadline`` is never unset (the test server cannot describe an unset datetime), so a case whose last
    term was met keeps its old instant there: the memo says whether a term is outstanding at all.
    """
    try:
        raw = deadline_records(await wf.memo())  # the whole list of older cases, or one key per term
    except Exception:
        return False
    if not raw:
        return None
    due: list[datetime] = []
    for item in raw:
        try:
            state = DeadlineState.model_validate(item)
        except ValidationError:
            return False
        if state.status is DeadlineStatus.OPEN or (state.status is DeadlineStatus.BREACHED and state.met_at is None):
            due.append(state.due)
    return min(due) if due else None


async def fetch(client: Client, query: str, limit: int = MAX_ROWS) -> tuple[list[CaseRow], bool]:
    """The cases ``query`` selects (without continued-as-new runs), at most ``limit``; True when there were more.
    A running case's next deadline is its earliest outstanding term (``outstanding_due``)."""
    now = datetime.now(UTC)
    rows: list[CaseRow] = []
    full = f"({query}) AND ExecutionStatus != 'ContinuedAsNew'"
    try:
        async for wf in client.list_workflows(full, limit=limit + 1):
            running = wf.status is WorkflowExecutionStatus.RUNNING
            rows.append(row_of(wf, now, await outstanding_due(wf) if running else None))
    except RPCError as exc:
        raise problem_from_temporal(exc) from None
    return rows[:limit], len(rows) > limit


async def count(client: Client, query: str) -> int:
    """How many cases ``query`` selects (without continued-as-new runs)."""
    try:
        return (await client.count_workflows(f"({query}) AND ExecutionStatus != 'ContinuedAsNew'")).count
    except RPCError as exc:
        raise problem_from_temporal(exc) from None
