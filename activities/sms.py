"""The SMS gateway (1414 EGOV codes, 3344 signing links, notices to applicants and complainants).

The ``SmsGateway`` port sends one SMS and is idempotent on the message id: a retried activity never sends a
second SMS. Locally every message goes to the ``sms_outbox`` table (the console shows it) with its secret masked
(a one-time code, a signing link: ``SmsRequest.masked_text``), and as sent to the local stand-in for the phones
(``infra.handset``), so a demo can be followed end to end; in production the operator's gateway is called over
HTTP (``adapters.sms_gateway``), as settings choose. The number and the text are never logged (personal data;
the text may hold a one-time code).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import cache
from typing import Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined
from temporalio import activity

from infra.handset import deliver
from infra.outages import raise_if_down
from infra.store import record_sms
from models.sms import SmsReceipt, SmsRequest

__all__ = ["SYSTEM", "LocalSmsGateway", "SmsActivities", "SmsGateway", "render_sms", "worded"]

log = logging.getLogger(__name__)

SYSTEM = "sms_gateway"


@cache
def _texts() -> Environment:
    """The SMS texts: plain text (no HTML escaping), undefined parameters are errors."""
    return Environment(loader=PackageLoader("activities", "templates"), autoescape=False, undefined=StrictUndefined)


def render_sms(template: str, params: dict[str, str]) -> str:
    """The SMS ``template`` (``activities/templates/sms/<template>.txt.j2``) in Kazakh, then Russian, one line each:
    the applications carry no language of their own, and the state's notices to citizens are given in the state
    language and in Russian (docs/DESIGN-NOTES.md, "SMS to citizens"). Undefined parameters are errors."""
    text = _texts().get_template(f"sms/{template}.txt.j2").render(**params)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def worded(req: SmsRequest) -> SmsRequest:
    """``req`` with its text rendered from its template, when it has one (the gateways send ``text``)."""
    if req.template is None:
        return req
    return req.model_copy(update={"text": render_sms(req.template, req.params)})


class SmsGateway(Protocol):
    """Sends one SMS; a repeated ``message_id`` is acknowledged as a duplicate and never sent twice.

    A gateway that is down raises a retryable ``ApplicationError``; one that refuses the message for good
    (an unknown number, credentials refused) a non-retryable one, which blocks the case visibly.
    """

    def send(self, req: SmsRequest) -> SmsReceipt: ...


class LocalSmsGateway:
    """The outbox table ``sms_outbox`` (secrets masked) and the phones' stand-in (``infra.handset``); rehearsal
    outages of ``sms_gateway`` apply."""

    def send(self, req: SmsRequest) -> SmsReceipt:
        raise_if_down(SYSTEM)
        now = datetime.now(UTC)
        deliver(req, now)  # before the outbox: a retry after a crash delivers again rather than never
        accepted_at, created = record_sms(req, now)
        return SmsReceipt(message_id=req.message_id, accepted_at=accepted_at, duplicate=not created)


class SmsActivities:
    """The SMS activity, with the gateway it sends through."""

    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    @activity.defn(name="send_sms")
    def send_sms(self, req: SmsRequest) -> SmsReceipt:
        """Send one SMS through the gateway (idempotent on ``req.message_id``)."""
        receipt = self.gateway.send(worded(req))
        log.info(
            "sms %s from %s accepted%s", req.message_id, req.sender, " (already sent)" if receipt.duplicate else ""
        )
        return receipt
