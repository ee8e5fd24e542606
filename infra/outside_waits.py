"""Which cases wait on an outside system now, for the console's work queue without asking Temporal about each case.

Temporal keeps a retried activity's attempts in its pending-activity info, which only a per-case ``describe`` shows
(``infra.cases.pending_calls``, the case page). The worker's interceptor (``OutsideWaits``, installed by
``worker.make_worker``) writes a row to ``outside_waits`` when an attempt fails and Temporal will retry it, and
removes it when a later attempt succeeds or the failure is permanent (the case then shows ``blocked``). Only the
error's class is kept, never its message. Writing the row never changes what the activity does: a database error
there is logged and forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from infra.db import session
from models.tables import OutsideWait

__all__ = ["OutsideWaits", "forget", "record", "waiting"]

log = logging.getLogger(__name__)


class OutsideWaits(Interceptor):
    """Records the activities being retried after a failed attempt (``outside_waits``)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next)


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        case_id = info.workflow_id or ""
        try:
            result = await super().execute_activity(input)
        except Exception as exc:
            if isinstance(exc, ApplicationError) and exc.non_retryable:
                await _quietly(forget, case_id, info.activity_id)
            else:
                error = exc.type if isinstance(exc, ApplicationError) and exc.type else exc.__class__.__name__
                await _quietly(record, case_id, info.activity_id, info.activity_type, info.attempt, error)
            raise
        if info.attempt > 1:  # a first attempt that succeeds had nothing recorded
            await _quietly(forget, case_id, info.activity_id)
        return result


async def _quietly(fn: Callable[..., None], *args: Any) -> None:
    try:
        await asyncio.to_thread(fn, *args)
    except SQLAlchemyError as exc:
        log.warning("outside wait of case %s not recorded: %s", args[0], exc.__class__.__name__)


def record(case_id: str, activity_id: str, activity_type: str, attempt: int, error_type: str) -> None:
    """The attempt ``attempt`` of the case's activity failed and will be retried."""
    now = datetime.now(UTC)
    for _ in range(2):  # another worker may write the first row at the same time
        try:
            with session() as s:
                row = s.get(OutsideWait, (case_id, activity_id))
                if row is None:
                    row = OutsideWait(case_id=case_id, activity_id=activity_id, activity=activity_type, attempt=0)
                    row.since = now
                row.attempt = max(row.attempt, attempt)
                row.error_type = error_type[:200]
                row.last_failed_at = now
                s.add(row)
            return
        except IntegrityError:
            continue


def forget(case_id: str, activity_id: str) -> None:
    """The case's activity succeeded or failed for good: it waits no more."""
    with session() as s:
        row = s.get(OutsideWait, (case_id, activity_id))
        if row is not None:
            s.delete(row)


def waiting(case_ids: list[str] | None = None) -> dict[str, list[OutsideWait]]:
    """The activities each case waits on (of ``case_ids``, or of every case), longest-waiting first."""
    out: dict[str, list[OutsideWait]] = {}
    with session() as s:
        q = select(OutsideWait).order_by(col(OutsideWait.since))
        if case_ids is not None:
            q = q.where(col(OutsideWait.case_id).in_(case_ids))
        for row in s.exec(q):
            out.setdefault(row.case_id, []).append(row)
    return out
