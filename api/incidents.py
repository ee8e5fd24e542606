"""Incidents: cases whose execution failed, was terminated, timed out or was cancelled (the case did not close
itself), and running cases blocked by an outside system's refusal, each with its reason. They are listed here and
never as ordinary closed cases.

The reason of a blocked case is its ``case`` query's blocked step; of an ended execution, its closing history event
(a failure decrypted through the client's data converter, a termination's reason as the operator gave it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistoryEventFilterType
from temporalio.service import RPCError

from api.listing import INCIDENT_EXECUTIONS, MAX_ROWS, CaseRow, fetch, procedures_clause
from infra import cases
from models import search_attributes as sa
from models.procedure import ProcedureSpec

__all__ = ["INCIDENTS_PAGE", "Incident", "incidents", "incidents_query"]

INCIDENTS_PAGE = 50


@dataclass
class Incident:
    row: CaseRow
    kind: str
    """``blocked``, ``failed``, ``terminated``, ``timed_out`` or ``canceled``."""
    since: datetime | None
    reason: str
    step: str = ""
    """For a blocked case: the outside system whose refusal holds the step."""


def incidents_query(procedures: Mapping[str, ProcedureSpec]) -> str:
    ended = ", ".join(f"'{e}'" for e in INCIDENT_EXECUTIONS)
    return (
        f"{procedures_clause(procedures)} AND (ExecutionStatus IN ({ended}) OR "
        f"(ExecutionStatus = 'Running' AND {sa.STATUS.name} = 'blocked'))"
    )


async def incidents(
    client: Client, procedures: Mapping[str, ProcedureSpec], page: int = 1
) -> tuple[list[Incident], int, bool]:
    """One page of incidents, newest first, the number of incidents, and whether there were more than one list
    reads."""
    rows, truncated = await fetch(client, incidents_query(procedures), MAX_ROWS)
    old = datetime.min.replace(tzinfo=UTC)
    rows.sort(key=lambda r: r.closed_at or r.started_at or old, reverse=True)
    chunk = rows[(page - 1) * INCIDENTS_PAGE : page * INCIDENTS_PAGE]
    limit = asyncio.Semaphore(8)

    async def one(row: CaseRow) -> Incident:
        async with limit:
            return await _incident(client, row)

    return list(await asyncio.gather(*(one(r) for r in chunk))), len(rows), truncated


async def _incident(client: Client, row: CaseRow) -> Incident:
    kind = row.incident or row.execution
    if kind == "blocked":
        try:
            view = await cases.case_view(client, row.case_id)
        except (cases.CaseError, RPCError):
            return Incident(row, kind, None, "")
        step = view.blocked
        if step is None:  # resumed since the list was read
            return Incident(row, kind, None, "")
        return Incident(row, kind, step.since, step.error, step.what)
    return Incident(row, kind, row.closed_at, await _close_reason(client, row.case_id, row.run_id))


async def _close_reason(client: Client, case_id: str, run_id: str | None) -> str:
    """Why the execution ended, from its closing event (of its run: a case may since be open again under its id)."""
    handle = client.get_workflow_handle(case_id, run_id=run_id)
    try:
        async for ev in handle.fetch_history_events(event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT):
            if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
                failure = ev.workflow_execution_failed_event_attributes.failure
                return _messages(await client.data_converter.decode_failure(failure))
            if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
                return ev.workflow_execution_terminated_event_attributes.reason or "terminated"
            if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
                return "the execution's time-out passed"
            if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
                return "cancelled"
    except RPCError:
        return ""
    return ""


def _messages(exc: BaseException) -> str:
    """The failure's message and those of its causes."""
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(parts) < 4:
        text = str(getattr(current, "message", "") or current).strip()
        if text and text not in parts:
            parts.append(text)
        current = current.__cause__
    return ": ".join(parts)
