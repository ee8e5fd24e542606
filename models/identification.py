"""How the subscriber procedures identify a person: one-time codes and signing links (SMS from 1414 and
3344), the biometric provider's verdicts, the state registries' identity check (58 Annex items 8–9) and
an EDS signature over a request.

Codes and links never travel in clear: the edge (CLI/API) sends their keyed digest
(``activities.otp.secret_digest``), so no code enters a workflow history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from models.base import BinaryModel, Model
from models.types import KzMobile

__all__ = [
    "SESSION_REUSED",
    "BiometricCheck",
    "BiometricRecordRequest",
    "BiometricReport",
    "CodeEntry",
    "EdsSignatureEvent",
    "IdentityCheck",
    "IdentityCheckRequest",
    "IssueSecretRequest",
    "IssuedSecret",
    "PersonRef",
    "SecretCheck",
    "SecretEntry",
    "VerifySecretRequest",
]

_DIGEST = r"^[0-9a-f]{64}$"


class IssueSecretRequest(Model):
    """Generate a one-time code (``otp``) or signing link (``link``), store its hash, send it by SMS."""

    secret_id: str = Field(min_length=3, max_length=200)
    case_id: str
    kind: Literal["otp", "link"]
    to: KzMobile
    sender: str  # 1414 (EGOV) or 3344 (operator)
    expires_at: datetime
    max_attempts: int = Field(ge=1, le=10)
    purpose: str = Field(max_length=200)  # shown in the SMS


class IssuedSecret(BaseModel):
    """What the workflow records about an issued code: never the code."""

    secret_id: str
    expires_at: datetime
    max_attempts: int
    sms_message_id: str


class CodeEntry(Model):
    """A code or link as the subscriber typed it, sent to the API; the API turns it into a ``SecretEntry``."""

    code: SecretStr = Field(description="the one-time code (or the 3344 link) exactly as received")


class SecretEntry(Model):
    """A code or link entered by the subscriber, as its keyed digest (``activities.otp.secret_digest``)."""

    digest: str = Field(pattern=_DIGEST, description="HMAC-SHA256 hex digest computed at the edge")


class VerifySecretRequest(Model):
    """Compare an entered digest with the stored hash, at the case's own instant ``at``."""

    secret_id: str
    digest: str = Field(pattern=_DIGEST)
    at: datetime


class SecretCheck(BaseModel):
    """The verdict on an entered code: correct, or why not and how many attempts are left."""

    correct: bool
    attempts_left: int
    expired: bool = False
    message: str


SESSION_REUSED = "BiometricSessionReused"
"""The failure type of a biometric report whose session is another case's, or was recorded with another verdict
(``activities.biometrics``): the report counts for nothing and the case keeps waiting for its own verdict."""


class BiometricReport(Model):
    """The biometric provider's ("Biometric ID") verdict on one identification session of one case."""

    session_id: str = Field(min_length=3, max_length=200)
    passed: bool
    reason: str | None = Field(default=None, max_length=500)


class BiometricRecordRequest(Model):
    """Record a provider's verdict for a case."""

    case_id: str
    report: BiometricReport


class BiometricCheck(BaseModel):
    """The verdict recorded for the session of this case: the one reported now."""

    session_id: str
    passed: bool
    reason: str | None = None
    checked_at: datetime


class IdentityCheckRequest(Model):
    """Check a person (IIN) or legal entity (BIN) against the state registries via the gateway."""

    id_number: str = Field(pattern=r"^[0-9]{12}$")  # not ``\d``: pydantic's takes every script's digits
    at: datetime


class IdentityCheck(BaseModel):
    """The registry's answer; ``refusal`` names the ground of 58 Annex item 9 when one applies."""

    found: bool
    applicant_ref: str  # pseudonym, for delivery to the personal account
    full_name: str | None = None
    refusal: str | None = None
    cite: str = ""


class PersonRef(Model):
    """A person by IIN (activity input)."""

    iin: str


class EdsSignatureEvent(BinaryModel):
    """A detached CMS signature (DER) over the case's signing payload, made with the subscriber's EDS."""

    signature: bytes = Field(min_length=16, max_length=64_000)
