"""Inputs, events and results of connecting a number to the e-government account (act 58): the channels
and the factors each needs (58 p.5–8), the Mobile Citizens Database entry, the result (Annex item 5)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from models.base import Model
from models.case import DocumentRef
from models.types import IIN, AwareDatetime, KzMobile
from rules import law

__all__ = [
    "CHANNEL_CITE",
    "FACTORS",
    "Channel",
    "ConnectNumberRequest",
    "EgovConnectionInput",
    "EgovConnectionResult",
    "EgovView",
]


class Channel(StrEnum):
    """The ways a number is connected (58 p.5–8)."""

    PORTAL = "portal"  # p.5: OTP + EDS
    MOBILE_APP = "mobile_app"  # p.6: EDS certificate + OTP + biometrics
    BANK_APP = "bank_app"  # p.7: biometrics + OTP
    CHANGE_OF_NUMBER = "change_of_number"  # p.8: new number + OTP + EDS


def _factors(channel: Channel) -> tuple[str, ...]:
    factors = law.item("58", f"channel.{channel.value}").value
    if not isinstance(factors, list):
        raise TypeError(f"58 channel.{channel.value}: its value must list the factors")
    return tuple(factors)


FACTORS: dict[Channel, tuple[str, ...]] = {c: _factors(c) for c in Channel}
"""The factors each channel needs, in order (the ``channel`` items of ``rules/data/law/58.toml``)."""
CHANNEL_CITE: dict[Channel, str] = {c: law.item("58", f"channel.{c.value}").reference for c in Channel}
"""The paragraph of each channel (58 p.5 to p.8)."""
_CHANGE_CITE = CHANNEL_CITE[Channel.CHANGE_OF_NUMBER]


class EgovConnectionInput(Model):
    """A request to connect ``phone`` to the e-government account of the individual ``iin`` (58 p.3)."""

    iin: IIN
    phone: KzMobile
    channel: Channel
    received_at: AwareDatetime
    previous_phone: KzMobile | None = Field(default=None, description="the number replaced (change of number)")

    @model_validator(mode="after")
    def _change_needs_previous(self) -> EgovConnectionInput:
        if self.channel is Channel.CHANGE_OF_NUMBER:
            if self.previous_phone is None:
                raise ValueError(f"a change of number ({_CHANGE_CITE}) needs previous_phone")
            if self.previous_phone == self.phone:
                raise ValueError("the new number is the same as the previous one")
        elif self.previous_phone is not None:
            raise ValueError(f"previous_phone is only for a change of number ({_CHANGE_CITE})")
        return self


class ConnectNumberRequest(Model):
    """Enter the number in the Mobile Citizens Database (the applicant's account shows it)."""

    case_id: str
    iin: str
    phone: str
    channel: str
    replaces: str | None = None


class EgovView(BaseModel):
    """What the portal/app needs to drive the request: factors done, the OTP's id, what to sign."""

    channel: Channel
    factors_required: list[str]
    factors_done: list[str]
    otp_id: str | None = None
    otp_expires_at: datetime | None = None
    attempts_left: int | None = None
    signing_payload: str | None = None


class EgovConnectionResult(BaseModel):
    """Connected, already connected, or a reasoned refusal (58 Annex item 5)."""

    outcome: Literal["connected", "already_connected", "refused"]
    reason: str | None = None
    cite: str = ""
    decided_at: datetime
    document: DocumentRef | None = None
