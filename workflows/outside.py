"""How workflow code calls the world: the retry policy and the one timeout of each kind of call.

Outside systems may be down for hours: temporary failures are retried by the activity's own retry policy
(attempts show as the case's pending activities, not as history events), never given up silently.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

__all__ = ["ACTIVITY_RETRY", "LOCAL_TIMEOUT", "OUTSIDE_TIMEOUT"]

ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5)
)
LOCAL_TIMEOUT = timedelta(seconds=30)
"""Our own computations and tables (deadlines, registration, the supervisor's inbox)."""
OUTSIDE_TIMEOUT = timedelta(seconds=60)
"""One attempt at an outside system."""
