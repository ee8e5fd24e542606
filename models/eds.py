"""Inputs and results of the EDS activities: signing, verifying, issuing a subscriber's EDS, the signed ZIP."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.base import BinaryModel, Model

__all__ = [
    "IssueCertificateRequest",
    "IssuedCertificate",
    "SignDocumentRequest",
    "SignatureCheck",
    "SignatureInvalid",
    "SignedZipRequest",
    "VerifiedSignature",
    "VerifySignatureRequest",
]


class SignDocumentRequest(BaseModel):
    """Sign a stored document with the provider's EDS (``provider_head`` or ``authorised_person``), or with the EDS
    of the body considering a complaint (``complaint_body``)."""

    doc_id: str
    role: str = Field(default="provider_head", pattern="^(provider_head|authorised_person|complaint_body)$")


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


class SignatureInvalid(ValueError):
    """A CMS signature that does not hold (tampered, foreign CA, expired certificate, not a CMS), with the reason."""


class VerifiedSignature(BaseModel):
    """Who signed a CMS signature that holds, as the signer's certificate says."""

    subject: str
    """The certificate's subject (RFC 4514 distinguished name)."""
    iin: str | None = None
    """The holder's IIN (subject ``serialNumber = IIN…``), as Kazakhstan's NCA writes it."""
    bin: str | None = None
    """The organisation's BIN (subject ``OU = BIN…``) for an official's certificate."""
    serial: str
    """The certificate's serial number."""
    signing_time: datetime | None = None
    """The signing time among the signed attributes, when the signer put one."""
