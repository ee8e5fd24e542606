"""Annotated pydantic types for the law's identifiers; bad values fail with a message saying what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr
from pydantic_core import PydanticCustomError

from rules.calendar import ALMATY, date_alone
from rules.identifiers import bin_check, eds_password_check, iin_check, kz_mobile
from rules.text import EDS_PASSWORD_POLICY

__all__ = ["BIN", "IIN", "RUN_ID_PATTERN", "AlmatyDatetime", "AwareDatetime", "EdsPassword", "KzMobile", "NonEmptyStr"]


def _strip_iin(v: object) -> object:
    # A birth date in the future makes an IIN invalid (14 item 16). "Today" is the latest calendar day anywhere
    # (UTC+14), so a child born today in Almaty passes; the answer can only turn from invalid to valid as time
    # passes, never back, so a payload validated once validates again when a history is replayed later.
    latest_today = (datetime.now(UTC) + timedelta(hours=14)).date()
    return iin_check(v, today=latest_today) if isinstance(v, str) else v


def _strip_bin(v: object) -> object:
    return bin_check(v) if isinstance(v, str) else v


def _require_aware(v: datetime) -> datetime:
    if v.tzinfo is None or v.utcoffset() is None:
        raise ValueError("datetime needs a timezone (e.g. 2026-03-19T17:00:00+05:00)")
    return v


def _not_a_bare_date(v: object) -> object:
    # A day alone reads as its midnight: a receipt typed as "2026-12-03" was registered that day though it may have
    # come after 18:30 (an adversarial run, 2026-12-04). An instant is asked for whole.
    if isinstance(v, str) and date_alone(v) is not None:
        raise ValueError("a date without a time of day: give the instant (e.g. 2026-03-19T17:00:00+05:00)")
    return v


def _in_almaty(v: datetime) -> datetime:
    # A time without a zone is Asia/Almaty wall-clock time (the zone of every office in Kazakhstan since
    # 1 March 2024); a time with one is the same instant, read in Asia/Almaty.
    return v.replace(tzinfo=ALMATY) if v.tzinfo is None or v.utcoffset() is None else v.astimezone(ALMATY)


def _password(v: SecretStr) -> SecretStr:
    try:
        eds_password_check(v.get_secret_value())
    except ValueError as exc:  # the policy's words only: the message never holds the password
        raise PydanticCustomError(EDS_PASSWORD_POLICY, str(exc)) from None
    return v


IIN = Annotated[str, BeforeValidator(_strip_iin), Field(description="individual identification number, 12 digits")]
BIN = Annotated[str, BeforeValidator(_strip_bin), Field(description="business identification number, 12 digits")]
KzMobile = Annotated[
    str, AfterValidator(kz_mobile), Field(description="Kazakhstan mobile number, normalised to +77XXXXXXXXX")
]
AwareDatetime = Annotated[datetime, BeforeValidator(_not_a_bare_date), AfterValidator(_require_aware)]
AlmatyDatetime = Annotated[datetime, BeforeValidator(_not_a_bare_date), AfterValidator(_in_almaty)]
"""An instant kept and shown in Asia/Almaty: an input without a zone is read as Asia/Almaty time."""
RUN_ID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
"""A Temporal run id (a UUID): the run that names a case where its id names several."""

NonEmptyStr = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]
EdsPassword = Annotated[SecretStr, AfterValidator(_password)]
