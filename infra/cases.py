"""Starting a case of any procedure and sending it events: shared by ``starter.py`` and the API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from infra.settings import settings
from workflows import search_attributes as sa
from workflows.registry import ProcedureSpec

__all__ = ["start_case"]


async def start_case(client: Client, spec: ProcedureSpec, inp: BaseModel, *,
                     task_queue: str | None = None) -> tuple[WorkflowHandle[Any, Any], bool]:
    """Start ``spec``'s workflow for ``inp`` under its deterministic case id.

    Returns the handle and whether a new case was created: the same application submitted twice (even
    after its case closed) gives the existing case, never a second one.
    """
    case_id = spec.case_id(inp)
    try:
        handle = await client.start_workflow(
            spec.run, inp, id=case_id, task_queue=task_queue or settings().task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(sa.PROCEDURE, spec.key), SearchAttributePair(sa.STATUS, "received"),
            ]),
        )
        return handle, True
    except WorkflowAlreadyStartedError:
        return client.get_workflow_handle(case_id), False
