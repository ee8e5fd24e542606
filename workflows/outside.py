"""How workflow code calls the world: the one retry policy and one timeout per kind of system.

Outside systems may be down for hours: temporary failures are retried by the activity's own retry policy
(attempts show as the case's pending activities, not as history events), never given up silently; a
permanent refusal blocks the case visibly (``CaseWorkflow.outside``). A timeout bounds one attempt, not the
call: the next attempt follows under the retry policy.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

__all__ = ["ACTIVITY_RETRY", "CASE_FILE_TIMEOUT", "DOCUMENT_TIMEOUT", "LOCAL_TIMEOUT", "OUTSIDE_TIMEOUT"]

ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=5)
)
"""1 s doubling to at most 5 minutes between attempts, with no limit on their number."""
LOCAL_TIMEOUT = timedelta(seconds=30)
"""One attempt at our own tables and computations (deadlines, registration, codes, the supervisor's inbox)."""
OUTSIDE_TIMEOUT = timedelta(seconds=60)
"""One attempt at an outside system (SMS gateway, EDS verification, registries, antifraud centre, network …)."""
DOCUMENT_TIMEOUT = timedelta(seconds=60)
"""One attempt at building a document: rendering, signing, issuing an EDS and packing the signed ZIP (each
takes well under a second; a worker that dies mid-attempt is noticed after this long)."""
CASE_FILE_TIMEOUT = timedelta(minutes=5)
"""One attempt at building the administrative case from a case's whole history and its documents."""
