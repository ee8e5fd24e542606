"""Starting a case of any procedure and sending it events: shared by ``starter.py`` and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from infra.settings import settings
from workflows import search_attributes as sa
from workflows.registry import ProcedureSpec

__all__ = ["PendingCall", "pending_calls", "start_case"]


async def start_case(
    client: Client, spec: ProcedureSpec, inp: BaseModel, *, task_queue: str | None = None
) -> tuple[WorkflowHandle[Any, Any], bool]:
    """Start ``spec``'s workflow for ``inp`` under its deterministic case id.

    Returns the handle and whether a new case was created: the same application submitted twice (even
    after its case closed) gives the existing case, never a second one.
    """
    case_id = spec.case_id(inp)
    try:
        handle = await client.start_workflow(
            spec.run,
            inp,
            id=case_id,
            task_queue=task_queue or settings().task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.PROCEDURE, spec.key),
                    SearchAttributePair(sa.STATUS, "received"),
                ]
            ),
        )
        return handle, True
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(case_id), False


class PendingCall(BaseModel):
    """A call to an outside system the case is waiting on: how long, how many attempts, the last error."""

    activity: str
    state: str
    attempt: int
    since: datetime | None = None
    last_error: str | None = None
    next_attempt_at: datetime | None = None


async def pending_calls(client: Client, case_id: str) -> list[PendingCall]:
    """The outside-system calls the case is waiting on now (from Temporal, not the workflow's state);
    the last error is decrypted with the client's codec."""
    desc = await client.get_workflow_handle(case_id).describe()
    calls = []
    for p in desc.raw_description.pending_activities:
        last_error = None
        if p.HasField("last_failure"):
            last_error = str(await client.data_converter.decode_failure(p.last_failure)) or None
        calls.append(
            PendingCall(
                activity=p.activity_type.name,
                state=PendingActivityState.Name(p.state).removeprefix("PENDING_ACTIVITY_STATE_").lower(),
                attempt=p.attempt,
                since=p.scheduled_time.ToDatetime().replace(tzinfo=UTC) if p.HasField("scheduled_time") else None,
                last_error=last_error,
                next_attempt_at=p.next_attempt_schedule_time.ToDatetime().replace(tzinfo=UTC)
                if p.HasField("next_attempt_schedule_time")
                else None,
            )
        )
    return calls
