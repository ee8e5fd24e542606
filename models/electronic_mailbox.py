"""Inputs, events and results of the electronic subscriber mailbox (act 71, abolished by 305/NK), and the
requests to the mailbox system."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from models.base import Model
from models.types import BIN, IIN, AwareDatetime
from rules.law import cite

__all__ = [
    "CreateMailboxRequest",
    "MailboxApplicationInput",
    "MailboxResult",
    "MailboxStepRequest",
]


class MailboxApplicationInput(Model):
    """An application for an electronic subscriber mailbox (71 p.6): by an individual (IIN) or entity (BIN)."""

    iin: IIN | None = None
    bin: BIN | None = None
    login: str = Field(pattern=r"^[a-z][a-z0-9._-]{2,31}$", description="chosen by the user, unique (p.11)")
    channel: Literal["postal_facility", "online"]
    received_at: AwareDatetime
    official_correspondence: bool = Field(
        default=False,
        description="the mailbox receives official correspondence: the personal-account data are then confirmed "
        "with an EDS (p.12)",
    )

    @model_validator(mode="after")
    def _one_identifier(self) -> MailboxApplicationInput:
        if (self.iin is None) == (self.bin is None):
            raise ValueError(f"give exactly one of iin (individual) or bin (legal entity) ({cite('71', 'p.13')})")
        return self

    @property
    def holder_id(self) -> str:
        return self.iin or self.bin or ""


class CreateMailboxRequest(Model):
    case_id: str
    login: str
    holder_id: str


class MailboxStepRequest(Model):
    case_id: str
    step: Literal["confirmed", "included"]


class MailboxResult(BaseModel):
    """Included in the single database, or refused (e.g. the act was abolished by 305/NK)."""

    outcome: Literal["included", "refused", "abandoned"]
    reason: str | None = None
    cite: str = ""
    decided_at: datetime
