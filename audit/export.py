"""Export case histories from Temporal to JSON files, chosen by a visibility query or by case ids.

Files keep their payloads encrypted (they can be copied to an auditor's machine; reading them needs
the keys). One file per case: ``<out>/<case id>.json``. A case id can name more than one case: a fraud case is
keyed by its number, and a report about a number whose case has closed opens a new case under the same id (a new
run). Every one of them is a case here; the newest keeps ``<case id>.json``, the others are
``<case id>.<run id>.json``. The runs a case continued as new from are its own past, not cases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from audit.history import save_history
from models import search_attributes as sa
from models.case import ENDED_CASE_MEMO

__all__ = [
    "EXECUTION_STATUSES",
    "CaseRun",
    "build_query",
    "cases_named",
    "export_histories",
    "fetch_histories",
    "list_cases",
]

EXECUTION_STATUSES = ("Running", "Completed", "Failed", "Canceled", "Terminated", "TimedOut", "ContinuedAsNew")


def _quote(value: str) -> str:
    if "'" in value or "\\" in value:
        raise ValueError(f"quotes and backslashes are not allowed in query values: {value!r}")
    return f"'{value}'"


def _instant(dt: datetime, name: str) -> str:
    if dt.tzinfo is None:
        raise ValueError(f"{name} needs a timezone, e.g. 2027-03-01T00:00:00+05:00")
    return _quote(dt.isoformat())


def build_query(
    *,
    procedure: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
    case_status: str | None = None,
) -> str:
    """A visibility query over our cases: procedure, start time in [since, until), execution/case status."""
    parts = [f"{sa.PROCEDURE.name} = {_quote(procedure)}" if procedure else f"{sa.PROCEDURE.name} IS NOT NULL"]
    if since:
        parts.append(f"StartTime >= {_instant(since, '--since')}")
    if until:
        parts.append(f"StartTime < {_instant(until, '--until')}")
    if status:
        if status not in EXECUTION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(EXECUTION_STATUSES)}")
        parts.append(f"ExecutionStatus = {_quote(status)}")
    if case_status:
        parts.append(f"{sa.STATUS.name} = {_quote(case_status)}")
    return " AND ".join(parts)


@dataclass(frozen=True)
class CaseRun:
    """One case: its id and the run that holds its history (``None``: the id's latest run)."""

    case_id: str
    run_id: str | None = None
    started_at: datetime | None = None
    status: str | None = None


def _cases(executions: list[WorkflowExecution], ended: set[str]) -> list[CaseRun]:
    """The cases among executions listed newest first, oldest first: each run that ended a case or still runs. A run
    a case continued as new from stands for its id's latest run (as it always did), unless it ended a case of its own
    (its run id in ``ended``) or a case of that id is listed anyway."""
    listed = {e.id for e in executions if e.status != WorkflowExecutionStatus.CONTINUED_AS_NEW}
    cases: list[CaseRun] = []
    for e in reversed(executions):
        status = e.status.name.title().replace("_", "") if e.status else None
        if e.status != WorkflowExecutionStatus.CONTINUED_AS_NEW or e.run_id in ended:
            cases.append(CaseRun(e.id, e.run_id, e.start_time, status))
        elif e.id not in listed:
            cases.append(CaseRun(e.id))
    return list(dict.fromkeys(cases))


async def list_cases(client: Client, query: str) -> list[CaseRun]:
    """The cases the query selects (oldest first), every run of an id that holds a case of its own."""
    executions = [wf async for wf in client.list_workflows(query)]
    ended = {
        e.run_id
        for e in executions
        if e.status == WorkflowExecutionStatus.CONTINUED_AS_NEW and await e.memo_value(ENDED_CASE_MEMO, None)
    }
    return _cases(executions, ended)


async def cases_named(client: Client, case_ids: list[str]) -> list[CaseRun]:
    """Every case each id names, oldest first (an id visibility does not know yet: its latest run)."""
    found: list[CaseRun] = []
    for case_id in dict.fromkeys(case_ids):  # an id given twice is one id: its cases once
        found += await list_cases(client, f"WorkflowId = {_quote(case_id)}") or [CaseRun(case_id)]
    return found


async def fetch_histories(client: Client, cases: list[CaseRun]) -> AsyncIterator[WorkflowHistory]:
    """The history of each case, in the order given."""
    for case in cases:
        yield await client.get_workflow_handle(case.case_id, run_id=case.run_id).fetch_history()


def file_names(cases: list[CaseRun], latest: dict[str, str]) -> list[str]:
    """Each case's file name: the case in its id's latest run (``latest``: id → run id) ``<case id>.json``, an
    older one ``<case id>.<run id>.json``, whatever the selection holds (it held the newest case the filter chose,
    so that ``CASE_ID.json`` could be either of two cases)."""
    return [
        f"{c.case_id}.json" if c.run_id is None or latest.get(c.case_id) == c.run_id else f"{c.case_id}.{c.run_id}.json"
        for c in cases
    ]


async def latest_runs(client: Client, case_ids: list[str]) -> dict[str, str]:
    """The latest run of each id (an id Temporal no longer knows is left out)."""
    found: dict[str, str] = {}
    for case_id in dict.fromkeys(case_ids):
        try:
            found[case_id] = (await client.get_workflow_handle(case_id).describe()).run_id or ""
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
    return found


async def export_histories(
    client: Client, cases: list[CaseRun], out_dir: Path, advance: Callable[[str], None] | None = None
) -> list[Path]:
    """Write each case's history to ``out_dir`` (``file_names``); ``advance`` is called after each case."""
    paths: list[Path] = []
    names = iter(file_names(cases, await latest_runs(client, [c.case_id for c in cases])))
    async for history in fetch_histories(client, cases):
        paths.append(save_history(history, out_dir / next(names)))
        if advance:
            advance(history.workflow_id)
    return paths
