"""Export case histories from Temporal to JSON files, chosen by a visibility query or by case ids.

Files keep their payloads encrypted (they can be copied to an auditor's machine; reading them needs
the keys). One file per case: ``<out>/<case id>.json``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

from audit.history import save_history
from models import search_attributes as sa

__all__ = ["EXECUTION_STATUSES", "build_query", "export_histories", "fetch_histories", "list_case_ids"]

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


async def list_case_ids(client: Client, query: str) -> list[str]:
    """The ids of the cases the query selects (oldest first)."""
    ids = [wf.id async for wf in client.list_workflows(query)]
    return list(dict.fromkeys(reversed(ids)))


async def fetch_histories(client: Client, case_ids: list[str]) -> AsyncIterator[WorkflowHistory]:
    """The history of each case (its latest run), in the order given."""
    for case_id in case_ids:
        yield await client.get_workflow_handle(case_id).fetch_history()


async def export_histories(
    client: Client, case_ids: list[str], out_dir: Path, advance: Callable[[str], None] | None = None
) -> list[Path]:
    """Write each case's history to ``out_dir/<case id>.json``; ``advance`` is called after each case."""
    paths: list[Path] = []
    async for history in fetch_histories(client, case_ids):
        paths.append(save_history(history, out_dir / f"{history.workflow_id}.json"))
        if advance:
            advance(history.workflow_id)
    return paths
