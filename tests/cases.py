"""Ending a test's case safely on the time-skipping test server."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle

__all__ = ["stop"]


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
