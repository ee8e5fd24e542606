"""Ending a test's case safely on the time-skipping test server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.workflowservice.v1 import ListOpenWorkflowExecutionsRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

__all__ = ["ending_leftovers", "stop"]


QUIET_WITHIN = 120.0
"""Seconds ``stop`` waits for a case to be quiet. It waited 20, which on shared, loaded cores a case's activity (a
fraud case's lookups, an e-gov case's SMS) can outlast: the case was then terminated under it, which leaves the test
server's clock locked for the module's later tests. (Three full runs of 2026-12-04 had a module's server stop
skipping time, each in the complaint tests; that this was their cause is likely, not shown.)"""


async def stop(handle: WorkflowHandle[Any, Any]) -> None:
    """End a test's case once no activity or workflow task is in flight (a case terminated mid-activity, or
    before its first workflow task was taken, leaves the time-skipping server's clock locked for every later
    test). An activity waiting out its retry's backoff is not in flight: after ``QUIET_WITHIN`` seconds one such
    (an outage a test left) no longer holds the case up. A case already closed is left as it is."""
    quiet, patient = 0, time.monotonic() + QUIET_WITHIN
    while time.monotonic() < patient + QUIET_WITHIN:  # then terminated as it is: the test fails elsewhere anyway
        desc = await handle.describe()
        if desc.status is not WorkflowExecutionStatus.RUNNING:
            return
        d = desc.raw_description
        running = [a for a in d.pending_activities if a.state != PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED]
        waiting = d.pending_activities if time.monotonic() < patient else running
        quiet = quiet + 1 if not waiting and not d.HasField("pending_workflow_task") else 0
        if quiet >= 3:
            break
        await asyncio.sleep(0.05)
    try:
        await handle.terminate("test done")
    except RPCError as exc:  # it completed since it was last asked
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise


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
