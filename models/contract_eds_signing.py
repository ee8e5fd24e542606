"""Inputs, events and results of signing the application to join the public contract with an EDS and
biometrics (almatel-eds steps 1–8).

The EDS password travels sealed to the issuer (``activities.eds.seal_eds_password``), never in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from models.base import BinaryModel, Model
from models.case import DocumentRef
from models.types import IIN, AwareDatetime, EdsPassword, KzMobile, NonEmptyStr

__all__ = [
    "Consent",
    "ContractApplication",
    "PasswordEntry",
    "SealedPassword",
    "SigningResult",
    "SigningView",
    "StepAnswer",
    "TechnicianCodeReceived",
]


class ContractApplication(Model):
    """The application to join the public contract, after the service was connected at the address."""

    order_ref: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")
    iin: IIN
    full_name: NonEmptyStr
    phone: KzMobile = Field(description="the number registered in the Mobile Citizens Database")
    address: NonEmptyStr
    services: list[NonEmptyStr] = Field(min_length=1)
    tariff: NonEmptyStr
    equipment_serials: list[NonEmptyStr] = Field(default_factory=list)
    received_at: AwareDatetime


class TechnicianCodeReceived(Model):
    """Step 1: the technician confirms the subscriber gave the 1414 code (the code itself is entered at step 5)."""

    technician_id: str = Field(min_length=2, max_length=64)


class Consent(Model):
    """Steps 4 and 7: the subscriber accepts (or declines) after reading the policy or rules."""

    accepted: bool


class PasswordEntry(Model):
    """Step 8 as the signing page sends it to the API: the chosen password, checked against the policy."""

    password: EdsPassword


class SealedPassword(BinaryModel):
    """Step 8: the EDS password sealed to the issuer at the edge (never in clear in the history)."""

    sealed: bytes = Field(min_length=64, max_length=4096)


class StepAnswer(BaseModel):
    """The answer to a signing step: accepted, or why not (and attempts left for a code)."""

    accepted: bool
    message: str
    attempts_left: int | None = None


class SigningView(BaseModel):
    """Where the signing stands: the step awaited, the ids of the code and link, the outcome."""

    step: int
    step_name: str
    otp_id: str | None = None
    link_id: str | None = None
    attempts_left: int | None = None
    zip_doc_id: str | None = None
    last_message: str | None = None


class SigningResult(BaseModel):
    """Signed (the ZIP is downloadable), refused, or abandoned at a step."""

    outcome: Literal["signed", "refused", "abandoned"]
    step: int
    reason: str | None = None
    zip: DocumentRef | None = None
    certificate_serial: str | None = None
    decided_at: datetime
