"""The operator's SMS gateway over HTTP: the production ``SmsGateway`` (``activities.sms``).

The contract (a minimal JSON one; the settings name the URL and the token):

``POST {KZ_SMS_GATEWAY_URL}`` with ``Authorization: Bearer {KZ_SMS_GATEWAY_TOKEN}``,
``Idempotency-Key: {message_id}`` and the body ``{"message_id", "to", "sender", "text"}`` (``to`` in E.164).

* ``200``/``201``/``202``: accepted; the body may give ``accepted_at`` (ISO 8601) and ``duplicate`` (the id was
  accepted before, nothing is sent again).
* ``409``: the message id was accepted before (a duplicate); the body may give the first ``accepted_at``.
* ``408``, ``425``, ``429``, ``5xx``, no connection or no answer in time: retryable (``SmsGatewayUnavailable``).
* any other ``4xx`` (credentials refused, a number the gateway will not serve): ``SmsGatewayRefused``,
  non-retryable, so the case is blocked visibly until staff resume it.

The gateway de-duplicates on the message id, so an activity retried after the request went out never sends
a second SMS.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.http import client, transport_failure, unwanted_answer
from models.sms import SmsReceipt, SmsRequest

__all__ = ["SYSTEM", "HttpSmsGateway"]

SYSTEM = "sms_gateway"


def _instant(value: Any, default: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return default
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return default


class HttpSmsGateway:
    """Sends through the operator's gateway (the contract above)."""

    def __init__(self, url: str, token: str, *, timeout: float = 20.0, http: httpx.Client | None = None) -> None:
        self.url = url
        self.http = http or client(timeout=timeout, token=token)

    def send(self, req: SmsRequest) -> SmsReceipt:
        body = {"message_id": req.message_id, "to": req.to, "sender": req.sender, "text": req.text}
        try:
            response = self.http.post(self.url, json=body, headers={"Idempotency-Key": req.message_id})
        except httpx.TransportError as exc:
            raise transport_failure(SYSTEM, exc) from None
        now = datetime.now(UTC)
        if response.status_code in (200, 201, 202, 409):
            answer = _json(response)
            return SmsReceipt(
                message_id=req.message_id,
                accepted_at=_instant(answer.get("accepted_at"), now),
                duplicate=response.status_code == 409 or bool(answer.get("duplicate", False)),
            )
        raise unwanted_answer(SYSTEM, response)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
