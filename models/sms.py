"""Inputs and results of the SMS gateway activity."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from models.base import Model
from models.types import KzMobile

__all__ = ["SMS_FROM_TEMPLATES", "SmsReceipt", "SmsRequest"]

SMS_FROM_TEMPLATES = "sms-worded-in-kk-and-ru"
"""The patch under which a case's SMS to a citizen names a template and its parameters (worded in Kazakh and Russian
by the SMS activity) instead of an English text; cases begun before it replay their texts."""


class SmsRequest(Model):
    """One SMS. ``message_id`` is chosen by the workflow (e.g. ``<case id>/otp-1``): a retry never sends twice."""

    message_id: str = Field(min_length=3, max_length=200)
    case_id: str
    to: KzMobile
    sender: str = Field(description="short number or name shown to the subscriber, e.g. 1414, 3344, EGOV")
    text: str = Field(default="", max_length=1000)
    """The text as given (cases begun before SMS were worded from templates); empty when ``template`` words it."""
    template: str | None = Field(default=None, pattern=r"^[a-z_]+$", max_length=64)
    """A text of ``activities/templates/sms/`` (``<template>.txt.j2``): the SMS activity words the message in Kazakh
    and then Russian from ``params`` (rendering in the activity keeps the workflow free of wording)."""
    params: dict[str, str] = Field(default_factory=dict)
    masked_text: str | None = Field(default=None, max_length=1000)
    """The text as a log or a screen may show it, when ``text`` holds a secret (a one-time code or a signing
    link replaced by ``•``); the gateway's outbox keeps this one. The sender of a secret sets it."""

    @model_validator(mode="after")
    def _worded(self) -> SmsRequest:
        if not self.text and not self.template:
            raise ValueError("an SMS needs a text or a template")
        return self


class SmsReceipt(BaseModel):
    """The gateway's acceptance of an SMS."""

    message_id: str
    accepted_at: datetime
    duplicate: bool = False
