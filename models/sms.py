"""Inputs and results of the SMS gateway activity."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.base import Model
from models.types import KzMobile

__all__ = ["SmsReceipt", "SmsRequest"]


class SmsRequest(Model):
    """One SMS. ``message_id`` is chosen by the workflow (e.g. ``<case id>/otp-1``): a retry never sends twice."""

    message_id: str = Field(min_length=3, max_length=200)
    case_id: str
    to: KzMobile
    sender: str = Field(description="short number or name shown to the subscriber, e.g. 1414, 3344, EGOV")
    text: str = Field(min_length=1, max_length=1000)
    masked_text: str | None = Field(default=None, max_length=1000)
    """The text as a log or a screen may show it, when ``text`` holds a secret (a one-time code or a signing
    link replaced by ``•``); the gateway's outbox keeps this one. The sender of a secret sets it."""


class SmsReceipt(BaseModel):
    """The gateway's acceptance of an SMS."""

    message_id: str
    accepted_at: datetime
    duplicate: bool = False
