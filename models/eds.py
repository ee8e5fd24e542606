"""Inputs and results of the EDS activities: signing, verifying, issuing a subscriber's EDS, the signed ZIP."""

from __future__ import annotations

from pydantic import BaseModel, Field

from models.base import BinaryModel, Model

__all__ = [
    "IssueCertificateRequest",
    "IssuedCertificate",
    "SignDocumentRequest",
    "SignatureCheck",
    "SignedZipRequest",
    "VerifySignatureRequest",
]


class SignDocumentRequest(BaseModel):
    """Sign a stored document with the provider's EDS (``provider_head`` or ``authorised_person``)."""

    doc_id: str
    role: str = Field(default="provider_head", pattern="^(provider_head|authorised_person)$")


class VerifySignatureRequest(BinaryModel):
    """A subscriber's detached CMS signature over ``data`` to verify."""

    data: bytes
    signature: bytes
    expected_iin: str | None = None


class SignatureCheck(BaseModel):
    """The result of signing or verifying: who signed and whether it holds."""

    valid: bool
    reason: str | None = None
    subject: str | None = None
    iin: str | None = None
    bin: str | None = None
    serial: str | None = None
    sha256: str


class IssueCertificateRequest(BinaryModel):
    """Issue the subscriber's key pair and certificate and sign the application document with it."""

    case_id: str
    doc_id: str
    common_name: str
    iin: str
    sealed_password: bytes


class IssuedCertificate(BaseModel):
    serial: str
    subject: str
    signature_sha256: str


class SignedZipRequest(Model):
    case_id: str
    doc_id: str
    iin: str
