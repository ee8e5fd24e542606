"""The durations a case lives by that are not law: one attempt's timeout per kind of call, the complaint's
auto-forward margin, the permit's yearly checkpoint, the clock skew a report may have.

They are configuration (``KZ_TIMINGS__<FIELD>``, e.g. ``KZ_TIMINGS__AUTO_FORWARD_MARGIN=PT45M``), and like the
law a case keeps the values of the day it was registered: ``register_case`` records them in the case's
``Registration``, so a deploy with other values cannot change them silently for a running case (issue 16 item
11). Cases registered before they were recorded use these defaults.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, field_validator
from pydantic_core import PydanticCustomError

__all__ = ["CaseTimings"]

_SECONDS = re.compile(r"[+-]?\d+(\.\d+)?")


class CaseTimings(BaseModel):
    """The non-legal durations of one case, recorded at its registration."""

    model_config = ConfigDict(frozen=True)

    local_timeout: timedelta = Field(default=timedelta(seconds=30), gt=timedelta(0))
    """One attempt at our own tables and computations (deadlines, registration, codes, the supervisor's inbox)."""
    outside_timeout: timedelta = Field(default=timedelta(seconds=60), gt=timedelta(0))
    """One attempt at an outside system (SMS gateway, EDS verification, registries, antifraud centre, network …)."""
    outside_retry_ceiling: timedelta = Field(
        default=timedelta(minutes=5), ge=timedelta(seconds=1), le=timedelta(days=1)
    )
    """The longest wait between two attempts at an outside system that is down (1 s, doubling up to this): a
    six-day outage costs a case 1,700 attempts at 5 minutes, 150 at an hour. At most a day: a system back up
    must not wait longer than the shortest legal term to be tried again."""
    document_timeout: timedelta = Field(default=timedelta(seconds=60), gt=timedelta(0))
    """One attempt at building a document: rendering, signing, issuing an EDS and packing the signed ZIP (each
    takes well under a second; a worker that dies mid-attempt is noticed after this long)."""
    case_file_timeout: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    """One attempt at building the administrative case from a case's whole history and its documents."""
    auto_forward_margin: timedelta = Field(default=timedelta(minutes=30), ge=timedelta(0))
    """How long before the provider's 3-working-day term ends a complaint is forwarded to the quality body."""
    permit_checkpoint: timedelta = Field(default=timedelta(days=365), gt=timedelta(0))
    """How often an issued permit's long-lived case continues as new (its history starts afresh)."""
    report_future_tolerance: timedelta = Field(default=timedelta(minutes=5), ge=timedelta(0))
    """How far a fraud report's receipt may lie after the case's now (clock skew) before the case refuses it."""

    @field_validator("*", mode="wrap")
    @classmethod
    def _duration(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        """A number of seconds as text (``KZ_TIMINGS__OUTSIDE_TIMEOUT=90``, ``-5``) is a duration, as ISO 8601 text
        is; text that is neither is refused saying what a duration is (pydantic's own words were about a "day
        identifier" the operator never wrote)."""
        if isinstance(value, str) and _SECONDS.fullmatch(value.strip()):
            value = float(value)
        try:
            return handler(value)
        except ValidationError as exc:
            if any(e["type"].startswith("time_delta") for e in exc.errors()):
                raise PydanticCustomError(
                    "duration", "not a duration: write ISO 8601 (PT45M, P1D) or seconds (90)"
                ) from None
            raise
