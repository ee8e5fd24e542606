"""The base of our pydantic models: unknown fields refused, and inputs never echoed in errors
(they carry IINs, names, phone numbers and passwords)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["BinaryModel", "Model"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class BinaryModel(Model):
    """A model with binary fields (DER signatures, sealed secrets): base64 in JSON payloads."""

    model_config = ConfigDict(
        extra="forbid", hide_input_in_errors=True, ser_json_bytes="base64", val_json_bytes="base64"
    )
