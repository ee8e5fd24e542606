"""The base of our pydantic models: unknown fields refused, and inputs never echoed in errors
(they carry IINs, names, phone numbers and passwords)."""

from __future__ import annotations

from typing import TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

__all__ = ["SHARED", "SHARED_VALUES_LIMIT", "BinaryModel", "Model", "one_per_value"]

_Frozen = TypeVar("_Frozen", bound=BaseModel)

SHARED_VALUES_LIMIT = 20_000
"""How many distinct values ``one_per_value`` keeps (an act's terms, a calendar's days off, a deployment's timings:
hundreds); past it a value is kept per case, as before."""
_SHARED: dict[BaseModel, BaseModel] = {}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class BinaryModel(Model):
    """A model with binary fields (DER signatures, sealed secrets): base64 in JSON payloads."""

    model_config = ConfigDict(
        extra="forbid", hide_input_in_errors=True, ser_json_bytes="base64", val_json_bytes="base64"
    )


def one_per_value(value: _Frozen) -> _Frozen:
    """``value``, or the equal value met first in this process (a frozen model: equal values are interchangeable).

    Every open case held its own copy of the law it counts by (its act's terms, its timings, the days off its
    deadlines skipped), the same values in all cases of an act version; shared, a fraud case holds 8 KiB less
    (issue 18: memory per open case). Nothing can change a shared value: ``value``'s model must be frozen.
    """
    if not value.model_config.get("frozen"):
        raise TypeError(f"{type(value).__name__} is not frozen: its values cannot be shared")
    kept = _SHARED.get(value)
    if kept is not None:
        return kept  # type: ignore[return-value]  # equal models are of the same type
    if len(_SHARED) < SHARED_VALUES_LIMIT:
        _SHARED[value] = value
    return value


SHARED = AfterValidator(one_per_value)
"""A field's frozen model validated as ``one_per_value``: ``Annotated[TermValue, SHARED]``."""
