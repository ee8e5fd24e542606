"""A workflow that breaks the design on purpose (``tests/infra/test_sandbox.py``): it imports the calendar in
force (``infra.calendar``: settings, the operator's override file, ``holidays``) and computes a deadline in
workflow code, where a calendar correction would silently change a replayed case. The sandbox must refuse it."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from infra.calendar import current_calendar


@workflow.defn
class CalendarInWorkflow:
    @workflow.run
    async def run(self, received_at: datetime) -> datetime:
        return current_calendar().deadline(received_at, 2)
