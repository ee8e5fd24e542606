"""The SMS gateway. Locally every message goes to the ``sms_outbox`` table (the console shows it), so a
demo can be followed end to end; in production the same activity posts to the operator's gateway.

Idempotent on ``message_id``: a retried activity never sends a second SMS. The number and the text are
never logged (personal data; the text may hold a one-time code).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from temporalio import activity

from infra.outages import raise_if_down
from infra.store import record_sms
from models.sms import SmsReceipt, SmsRequest

__all__ = ["send_sms"]

log = logging.getLogger(__name__)


@activity.defn
async def send_sms(req: SmsRequest) -> SmsReceipt:
    """Send one SMS through the gateway (locally: the outbox table)."""
    raise_if_down("sms_gateway")
    accepted_at, created = record_sms(req, datetime.now(UTC))
    log.info("sms %s from %s accepted%s", req.message_id, req.sender, "" if created else " (already sent)")
    return SmsReceipt(message_id=req.message_id, accepted_at=accepted_at, duplicate=not created)
