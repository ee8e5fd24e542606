"""Messages to the National Bank antifraud centre (171 p.118, p.120): the operator's own detection with the
subscriber's data and numbers, the suspension, the not-confirmed outcome and the restoration, each sent until
the centre acknowledges it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.antifraud import AntifraudActivities
    from activities.subscriber_registry import SubscriberRegisterActivities
    from models.fraud_check import (
        CentreMessage,
        CentreNotice,
        InternalDetection,
        NoticeKind,
        SubscriberLookup,
        SubscriberRecord,
    )
    from rules.law import cite
    from workflows.outside import OUTSIDE_TIMEOUT

from workflows.fraud_check.base import FraudCase

__all__ = [
    "DETECTION_NOTICE_NAMES_NO_REF",
    "NOTICES_CARRY_THE_SUBSCRIBER",
    "NOTICES_RETRIED_BY_ACTIVITY",
    "NOTICE_FIRST_RETRY",
    "NOTICE_MAX_RETRY",
    "CentreNotices",
]

NOTICES_CARRY_THE_SUBSCRIBER = "fraud-notices-carry-the-subscriber"
"""``workflow.patched`` id: every message to the centre carries what p.118 names (surname, name, patronymic, IIN
and all numbers registered to the subscriber), looked up once per check. Cases begun before it sent them with
the operator's own detection only."""

DETECTION_NOTICE_NAMES_NO_REF = "fraud-detection-notice-names-no-ref"
"""``workflow.patched`` id, asked when a detection is told to the centre (p.118): the message's id, which is its
activity's id and kept in clear by Temporal, ends with the report's place in the case (``report-<n>``), not with the
sender's ref, which may hold what its sender wrote (an adversarial run, 2026-12-04); cases told before it keep it."""

NOTICES_RETRIED_BY_ACTIVITY = "fraud-notices-retried-by-activity"
"""``workflow.patched`` id: a message to the centre is one activity retried by its own retry policy (attempts
in Temporal's pending-activity info). Cases begun before it retry in workflow code, one activity per attempt."""
# Cases begun before NOTICES_RETRIED_BY_ACTIVITY: one attempt per activity, the back-off slept in the
# workflow (30 s, 1 min, 2 min … at most 10 min apart), 11 history events per attempt.
NOTICE_FIRST_RETRY = timedelta(seconds=30)
NOTICE_MAX_RETRY = timedelta(minutes=10)
_ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)


class CentreNotices(FraudCase):
    """171 p.118, p.120: what the antifraud centre is told, and how it is delivered."""

    async def _inform_of_detection(self, report: InternalDetection) -> None:
        """p.118: the centre learns of the operator's own detection with the subscriber's data and numbers."""
        suffix = report.ref
        if workflow.patched(DETECTION_NOTICE_NAMES_NO_REF):
            suffix = f"report-{next(i for i, r in enumerate(self.reports) if r.report is report)}"
        notice = self._notice(NoticeKind.DETECTION, cite("171", "p.118"), suffix=suffix)
        if self._notices_carry_subscriber:
            subscriber = await self._the_subscriber()
        else:  # cases begun before: looked up for each detection
            subscriber = self.subscriber = await self._look_up_subscriber()
        await self._deliver(notice, self._message(notice, subscriber=subscriber, reason=report.description))

    async def _look_up_subscriber(self) -> SubscriberRecord:
        return await self.outside(
            SubscriberRegisterActivities.lookup_subscriber,
            SubscriberLookup(number=self.number),
            what="subscriber_register",
        )

    async def _the_subscriber(self) -> SubscriberRecord:
        """The subscriber as p.118 names them, looked up once per check (concurrent notices wait for one lookup)."""
        if self._subscriber_lookup is None:
            self._subscriber_lookup = asyncio.ensure_future(self._look_up_subscriber())
        self.subscriber = await self._subscriber_lookup
        return self.subscriber

    async def _subscriber_for_notice(self) -> SubscriberRecord | None:
        """What a notice of p.120 carries of the subscriber: p.118's data (cases begun before the patch: none)."""
        return await self._the_subscriber() if self._notices_carry_subscriber else None

    def _notice(self, kind: NoticeKind, cite: str, suffix: str = "") -> CentreNotice:
        message_id = f"{workflow.info().workflow_id}:{self.cycle}:{kind.value}" + (f":{suffix}" if suffix else "")
        notice = CentreNotice(message_id=message_id, kind=kind, cite=cite, pending_since=workflow.now())
        self.notices.append(notice)
        return notice

    def _message(
        self,
        notice: CentreNotice,
        *,
        subscriber: SubscriberRecord | None = None,
        evidence: list[str] | None = None,
        reason: str = "",
    ) -> CentreMessage:
        return CentreMessage(
            message_id=notice.message_id,
            case_id=workflow.info().workflow_id,
            kind=notice.kind,
            number=self.number,
            cite=notice.cite,
            subscriber=subscriber,
            evidence=list(evidence or []),
            reason=reason,
        )

    async def _send(self, notice: CentreNotice, *, evidence: list[str] | None = None, reason: str = "") -> None:
        """A notice of p.120: with the subscriber's data p.118 names, then delivered."""
        subscriber = await self._subscriber_for_notice()
        await self._deliver(notice, self._message(notice, subscriber=subscriber, evidence=evidence, reason=reason))

    async def _deliver(self, notice: CentreNotice, message: CentreMessage) -> None:
        """Send until the centre acknowledges: the activity's retry policy keeps trying through an outage.

        While it does, Temporal's pending-activity info under the notice's ``call_id`` (its message id) shows
        the attempts, the last error and the next attempt; the case keeps when the notice became pending.
        A permanent refusal blocks the case visibly until staff resume it.
        """
        if not self._notices_by_activity:
            await self._deliver_retrying_in_workflow(notice, message)
            return
        notice.call_id = notice.message_id
        receipt = await self.outside(
            AntifraudActivities.inform_antifraud_centre, message, what="antifraud_centre", call_id=notice.call_id
        )
        notice.attempts = receipt.attempt
        notice.delivered_at = receipt.received_at

    async def _deliver_retrying_in_workflow(self, notice: CentreNotice, message: CentreMessage) -> None:
        """Cases begun before ``NOTICES_RETRIED_BY_ACTIVITY``: one activity per attempt, back-off slept here."""
        delay = NOTICE_FIRST_RETRY
        while True:
            notice.attempts += 1
            notice.next_attempt_at = None
            try:
                receipt = await workflow.execute_activity_method(
                    AntifraudActivities.inform_antifraud_centre,
                    message,
                    start_to_close_timeout=OUTSIDE_TIMEOUT,
                    retry_policy=_ONE_ATTEMPT,
                )
            except ActivityError as exc:
                cause = exc.cause
                notice.last_error = str(getattr(cause, "message", None) or cause or exc)
                notice.next_attempt_at = workflow.now() + delay
                await workflow.sleep(delay)
                delay = min(delay * 2, NOTICE_MAX_RETRY)
                continue
            notice.delivered_at = receipt.received_at
            return
