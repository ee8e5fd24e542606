"""How workflow code calls the world: the one retry policy and one timeout per kind of system.

Outside systems may be down for hours: temporary failures are retried by the activity's own retry policy
(attempts show as the case's pending activities, not as history events), never given up silently; a
permanent refusal blocks the case visibly (``CaseWorkflow.outside``). A timeout bounds one attempt, not the
call: the next attempt follows under the retry policy. The timeouts are the case's own (``models.timings``).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from models.timings import CaseTimings

__all__ = [
    "ACTIVITY_RETRY",
    "CASE_FILE_HEARTBEAT",
    "CASE_FILE_TIMEOUT",
    "DEFAULT_TIMINGS",
    "DOCUMENT_TIMEOUT",
    "LOCAL_TIMEOUT",
    "OUTSIDE_TIMEOUT",
    "outside_retry",
]

DEFAULT_TIMINGS = CaseTimings()
"""The timings before a case is registered (its registration itself) and of cases registered before they were
recorded; a registered case uses its own (``CaseWorkflow.timings``)."""
LOCAL_TIMEOUT = DEFAULT_TIMINGS.local_timeout
OUTSIDE_TIMEOUT = DEFAULT_TIMINGS.outside_timeout
DOCUMENT_TIMEOUT = DEFAULT_TIMINGS.document_timeout
CASE_FILE_TIMEOUT = DEFAULT_TIMINGS.case_file_timeout


def outside_retry(timings: CaseTimings) -> RetryPolicy:
    """1 s doubling to at most the case's ``outside_retry_ceiling`` between attempts, with no limit on their number.
    Not compared on replay (only an activity's type and id are): a case keeps the ceiling of its registration."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timings.outside_retry_ceiling
    )


ACTIVITY_RETRY = outside_retry(DEFAULT_TIMINGS)
"""1 s doubling to at most 5 minutes: our own tables and computations, and cases registered before the ceiling was
recorded."""
CASE_FILE_HEARTBEAT = timedelta(seconds=30)
"""The administrative case heartbeats while it builds (``activities.complaints``): a worker that dies mid-attempt
is noticed after this long, not after the case file's timeout. Not compared on replay (only the activity's type
and id are), so a running case that scheduled it without one replays unchanged."""
