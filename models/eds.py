"""Inputs and results of the EDS activities."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from models.base import Model

__all__ = ["SignDocumentRequest", "SignatureCheck", "VerifySignatureRequest"]


class SignDocumentRequest(BaseModel):
    """Sign a stored document with the provider's EDS (``provider_head`` or ``authorised_person``)."""

    doc_id: str
    role: str = Field(default="provider_head", pattern="^(provider_head|authorised_person)$")


class VerifySignatureRequest(Model):
    """A subscriber's detached CMS signature over ``data`` to verify."""

    # Binary DER travels as base64 in JSON payloads (raw bytes are not valid UTF-8).
    model_config = ConfigDict(
        extra="forbid", hide_input_in_errors=True, ser_json_bytes="base64", val_json_bytes="base64"
    )

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
