"""Inputs, events and results of registering subscriber numbers to an individual (171 p.55-1…55-6), and
the requests to the operator's register of numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from models.base import Model
from models.types import IIN, AwareDatetime, KzMobile, NonEmptyStr
from rules import law
from rules.law import cite

__all__ = [
    "LIMIT",
    "REGISTER_REFUSED",
    "ContractSignedRequest",
    "Device",
    "ExtraNumbersJustification",
    "NumbersApplicationInput",
    "NumbersDecisionRecord",
    "NumbersHeld",
    "NumbersHeldRequest",
    "NumbersResult",
    "NumbersReviewDecision",
    "PriorApplication",
    "PriorApplicationRequest",
    "RegisterNumbersRequest",
    "held_by_others",
    "over_the_limit",
]


LIMIT = law.number("171", "numbers.limit")
"""How many numbers in total an individual is registered on application alone (171 p.55-1); more need the
justification of p.55-2 and p.55-3 and an employee's review."""


class Device(Model):
    """A subscriber device the numbers are for (171 p.55-2): description and identification code."""

    description: NonEmptyStr
    identifier: str = Field(min_length=4, max_length=64, description="IMEI, ICCID, EID or another device code")
    machine_to_machine: bool = False


class ExtraNumbersJustification(Model):
    """What an application for more than ten numbers must give (171 p.55-2, 55-3)."""

    purposes: list[NonEmptyStr] = Field(min_length=1)
    justification: NonEmptyStr
    devices: list[Device] = Field(min_length=1)
    accuracy_confirmed: bool

    @model_validator(mode="after")
    def _confirmed(self) -> ExtraNumbersJustification:
        if not self.accuracy_confirmed:
            raise ValueError(f"the applicant must confirm that the data are accurate ({cite('171', 'p.55-3')})")
        return self


class NumbersApplicationInput(Model):
    """An individual's application to register subscriber numbers (171 p.55-1), on a signed contract (p.55-6)."""

    iin: IIN
    numbers: list[KzMobile] = Field(min_length=1, max_length=200)
    received_at: AwareDatetime
    contract_case_id: str = Field(min_length=3, description="the signing case of the public contract (p.55-6)")
    justification: ExtraNumbersJustification | None = None
    refers_to_case_id: str | None = Field(default=None, description="the refused application this one renews")
    phone: KzMobile | None = Field(default=None, description="the applicant's number: the answer goes there by SMS")

    @model_validator(mode="after")
    def _unique(self) -> NumbersApplicationInput:
        if len(set(self.numbers)) != len(self.numbers):
            raise ValueError("a number is listed twice")
        return self


class NumbersReviewDecision(Model):
    """The employee's decision on more than ten numbers (171 p.55-4): a refusal states its reason."""

    approve: bool
    reviewer: NonEmptyStr
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _reason(self) -> NumbersReviewDecision:
        if not self.approve and not (self.reason and self.reason.strip()):
            raise ValueError(f"a refusal must state its reason ({cite('171', 'p.55-4')})")
        return self


class NumbersHeldRequest(Model):
    iin: str
    numbers: list[str]


class NumbersHeld(BaseModel):
    """How many numbers the individual holds, and whether a requested number is someone else's."""

    count: int
    already_held: list[str]
    held_by_others: list[str]
    applicant_ref: str = ""
    """The applicant's pseudonym: the personal account the answer is delivered to (empty in older answers)."""


class RegisterNumbersRequest(Model):
    case_id: str
    iin: str
    numbers: list[str]
    contract_case_id: str
    limit: int | None = None
    """The most numbers the individual may hold once these are registered (``LIMIT`` for an application taken
    without review); ``None`` after an employee approved more (p.55-4), and in requests recorded before."""


def held_by_others(count: int) -> str:
    """Why numbers another subscriber holds are not registered (171 p.55-1)."""
    return f"{count} of the numbers are registered to another subscriber"


def over_the_limit(total: int, limit: int) -> str:
    """Why more than ``limit`` numbers are not registered on application alone (171 p.55-2, p.55-3)."""
    return (
        f"the individual would hold {total} numbers: more than {limit} need the purposes of use, the justification, "
        "the devices with their identification codes and a confirmation that the data are accurate"
    )


REGISTER_REFUSED = "NumbersRegisterRefused"
"""The error type of a registration the register refuses as it writes: since the case read it, another application
took one of the numbers, or the individual's numbers grew past the limit (two applications at once)."""


class ContractSignedRequest(Model):
    contract_case_id: str
    iin: str


class PriorApplicationRequest(Model):
    case_id: str
    iin: str


class PriorApplication(BaseModel):
    """A previous application as recorded; ``None`` outcome when there is none."""

    case_id: str
    outcome: str | None = None
    reason: str | None = None
    same_applicant: bool = False


class NumbersDecisionRecord(Model):
    case_id: str
    iin: str
    outcome: str
    reason: str | None = None
    refers_to_case_id: str | None = None


class NumbersResult(BaseModel):
    """Registered or refused with its reason (171 p.55-4)."""

    outcome: Literal["registered", "refused"]
    reason: str | None = None
    cite: str
    held_before: int
    registered: list[str] = []
    refers_to_case_id: str | None = None
    decided_at: datetime
