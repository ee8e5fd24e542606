"""The application for the MVNO permit as the portal hands it over (665/NK p.5, Annexes 2, 3 and 4).

Validated strictly at the edge: unknown fields are refused and inputs never echoed in errors (``models.base.Model``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from models.base import Model
from models.types import BIN, IIN, AwareDatetime, KzMobile, NonEmptyStr
from rules.calendar import ALMATY
from rules.law import cite

__all__ = [
    "Applicant",
    "BaseOperatorContract",
    "IndividualApplicant",
    "InformationForm",
    "LegalEntityApplicant",
    "PermitApplication",
    "QualificationDocuments",
    "ShortStr",
]

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
KZ_IBAN = r"^KZ[0-9]{2}[0-9A-Z]{16}$"  # not ``\d``: pydantic's takes every script's digits ("٩", "９")
Email = Annotated[str, Field(pattern=EMAIL, max_length=254, description="e-mail address")]
Iban = Annotated[str, Field(pattern=KZ_IBAN, description="bank account (IBAN, KZ + 18 characters)")]
ShortStr = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
_CONSENT = cite("665/NK", "Annex 2", "Annex 3", "Annex 1 item 10(6)")
"""The application forms that ask for the consent, and the ground of refusal without it."""


class _Contacts(Model):
    email: Email
    phones: list[KzMobile] = Field(min_length=1, max_length=5)
    bank_account: Iban
    activity_address: NonEmptyStr = Field(description="address where the MVNO activity is carried out")


class IndividualApplicant(_Contacts):
    """An individual applicant (665/NK Annex 2)."""

    kind: Literal["individual"] = "individual"
    full_name: ShortStr
    iin: IIN
    residence_address: NonEmptyStr

    @property
    def identifier(self) -> str:
        return self.iin

    @property
    def display_name(self) -> str:
        return self.full_name


class LegalEntityApplicant(_Contacts):
    """A legal entity, a foreign legal entity or its branch (665/NK Annex 3)."""

    kind: Literal["legal_entity"] = "legal_entity"
    form: Literal["resident", "foreign", "branch"] = "resident"
    name: ShortStr
    bin: BIN
    location: NonEmptyStr
    head_name: ShortStr

    @property
    def identifier(self) -> str:
        return self.bin

    @property
    def display_name(self) -> str:
        return self.name


Applicant = Annotated[IndividualApplicant | LegalEntityApplicant, Field(discriminator="kind")]


class BaseOperatorContract(Model):
    """A contract with a cellular (base) operator and what it provides (665/NK Annex 4 items 1–4)."""

    base_operator: ShortStr
    base_operator_bin: BIN | None = Field(
        default=None,
        description="the base operator's BIN: its systems report this contract's events (Annex 5); without it only "
        "staff can",
    )
    contract_number: ShortStr
    signed_on: date
    valid_until: date | None = None
    network_infrastructure: bool = Field(description="Annex 4 item 1: use of the network infrastructure")
    operational_search_means: bool = Field(
        description="Annex 4 item 2: means for operational-search measures and 2-year storage of service information"
    )
    traffic_accounting: bool = Field(description="Annex 4 item 3: registered traffic accounting with verification")
    interaction_scheme: bool = Field(description="Annex 4 item 4: interaction scheme of virtual and base operator")

    @model_validator(mode="after")
    def _dates(self) -> BaseOperatorContract:
        if self.valid_until is not None and self.valid_until < self.signed_on:
            raise ValueError("valid_until is before signed_on")
        return self


class InformationForm(Model):
    """The information form of Annex 4: verification, conformity and commissioning documents."""

    verification_certificate_number: ShortStr
    verification_certificate_date: date
    verification_certificate_valid_until: date | None = None
    conformity_certificate_number: ShortStr
    conformity_certificate_date: date
    conformity_certificate_valid_until: date | None = None
    commissioning_act_number: ShortStr
    commissioning_act_date: date


class QualificationDocuments(Model):
    """Annex 4: the contract(s) with the base operator(s) and the information form."""

    contracts: list[BaseOperatorContract] = Field(min_length=1, max_length=20)
    information_form: InformationForm

    @field_validator("contracts")
    @classmethod
    def _unique(cls, v: list[BaseOperatorContract]) -> list[BaseOperatorContract]:
        numbers = [c.contract_number for c in v]
        if len(set(numbers)) != len(numbers):
            raise ValueError("contract numbers must be unique")
        return v


class PermitApplication(Model):
    """An application for the MVNO permit as the portal hands it over (665/NK p.5, Annexes 2–4)."""

    application_number: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-/]{2,39}$", description="the portal's unique application number")
    ]
    applicant: Applicant
    qualification: QualificationDocuments
    personal_data_consent: bool = Field(description="consent to access restricted personal data (Annex 1 item 10(6))")
    received_at: AwareDatetime

    @field_validator("personal_data_consent")
    @classmethod
    def _consent(cls, v: bool) -> bool:
        if not v:
            raise ValueError(f"consent to collect and process personal data is required ({_CONSENT})")
        return v

    @property
    def receipt_day(self) -> date:
        """The day of the receipt in Asia/Almaty, whatever zone ``received_at`` was given in."""
        return self.received_at.astimezone(ALMATY).date()

    def dated_after_receipt(self) -> list[str]:
        """The fields of the application's documents (Annex 4) dated after the local day of its receipt: a document
        an application holds exists when it is received. Checked at the edge only (``intake_check``), never when a
        recorded history is read."""
        day = self.receipt_day
        late = [
            f"qualification.contracts[{i}].signed_on"
            for i, c in enumerate(self.qualification.contracts)
            if c.signed_on > day
        ]
        form = self.qualification.information_form
        dates = ("verification_certificate_date", "conformity_certificate_date", "commissioning_act_date")
        return late + [f"qualification.information_form.{name}" for name in dates if getattr(form, name) > day]
