"""Ending a test's case safely on the time-skipping test server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from temporalio.api.workflowservice.v1 import ListOpenWorkflowExecutionsRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

__all__ = ["ending_leftovers", "stop"]


async def stop(handle: WorkflowHandle[Any, Any]) -> None:
    """End a test's case once no activity or workflow task is in flight (a case terminated mid-activity, or
    before its first workflow task was taken, leaves the time-skipping server's clock locked for every later
    test). A case already closed is left as it is."""
    quiet = 0
    for _ in range(400):
        desc = await handle.describe()
        if desc.status is not WorkflowExecutionStatus.RUNNING:
            return
        d = desc.raw_description
        quiet = quiet + 1 if not d.pending_activities and not d.HasField("pending_workflow_task") else 0
        if quiet >= 3:
            break
        await asyncio.sleep(0.05)
    await handle.terminate("test done")


async def _open(client: Client) -> set[tuple[str, str]]:
    """(workflow id, run id) of the open executions (the time-skipping server lists them this way only)."""
    found: set[tuple[str, str]] = set()
    token = b""
    while True:
        page = await client.workflow_service.list_open_workflow_executions(
            ListOpenWorkflowExecutionsRequest(namespace=client.namespace, maximum_page_size=200, next_page_token=token)
        )
        found |= {(e.execution.workflow_id, e.execution.run_id) for e in page.executions}
        token = page.next_page_token
        if not token:
            return found


@asynccontextmanager
async def ending_leftovers(client: Client) -> AsyncIterator[None]:
    """Around one test, inside its worker: the cases it leaves open (a failed assertion skips its own clean-up) are
    ended with ``stop`` while the worker still serves them, so a failure does not lock the server's clock for the
    module's later tests."""
    before = await _open(client)
    try:
        yield
    finally:
        for workflow_id, run_id in sorted(await _open(client) - before):
            await stop(client.get_workflow_handle(workflow_id, run_id=run_id))
