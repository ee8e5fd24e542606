"""Identifiers of the law: IIN and BIN (Law "On national registers of identification numbers"),
Kazakhstan mobile numbers, and the EDS password policy (almatel-eds step 8).

Every validator returns the normalised value or raises ``ValueError`` with a message saying what is
wrong, so pydantic types in ``models`` can use them directly. A message names the rule, never the value or a
part of it (IINs, phone numbers and birth dates are personal data; answers and logs must not repeat them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

import phonenumbers

from rules.text import Sentence

__all__ = [
    "bin_check",
    "check_digit",
    "eds_password_check",
    "iin_birth_date",
    "iin_check",
    "kz_mobile",
    "masked_number",
    "personal_number_in",
    "personal_number_whole",
]

_WEIGHTS_1 = tuple(range(1, 12))
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

# IIN 7th digit: century of birth and sex (odd = male, even = female).
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}
# BIN 5th digit: type of entity (4 resident legal entity, 5 non-resident, 6 individual entrepreneur
# in joint venture form); 6th digit: head office, branch, representative office, peasant farm...
_BIN_TYPES = {4, 5, 6}
_BIN_SUBTYPES = {0, 1, 2, 3, 4}


def check_digit(first_eleven: str) -> int | None:
    """The 12th digit of an IIN/BIN by the two-pass weighted mod-11 rule; ``None`` if none exists."""
    digits = [int(c) for c in first_eleven]
    r = sum(d * w for d, w in zip(digits, _WEIGHTS_1, strict=True)) % 11
    if r == 10:
        r = sum(d * w for d, w in zip(digits, _WEIGHTS_2, strict=True)) % 11
        if r == 10:
            return None
    return r


def _twelve_digits(value: str, name: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"[0-9]{12}", value):  # not ``\d``: it takes every script's digits ("٩", "９")
        if len(value) == 12 and value.isdecimal():
            raise ValueError(f"{name} must be written in the digits 0–9 only")
        raise ValueError(f"{name} must be exactly 12 digits")
    expected = check_digit(value[:11])
    if expected is None:
        raise ValueError(f"{name} cannot exist: no check digit is valid for its first 11 digits")
    if expected != int(value[11]):
        raise ValueError(f"{name} check digit is wrong: the 12th digit does not match the first 11")
    return value


def iin_birth_date(iin: str) -> date:
    """The birth date encoded in an IIN (digits 1–6 and the century digit 7)."""
    century_digit = int(iin[6])
    if century_digit not in _CENTURY:
        raise ValueError("IIN 7th digit (century and sex) must be 1–6")
    year = _CENTURY[century_digit] + int(iin[0:2])
    try:
        return date(year, int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        raise ValueError("IIN does not start with a real birth date (YYMMDD)") from None


def iin_check(value: str, *, today: date | None = None) -> str:
    """Validate an individual identification number; returns it stripped.

    Digits 0–9 only: another script's digits (``٩``, ``９``) are refused, not read as 0–9, so one IIN has one form."""
    iin = _twelve_digits(value, "IIN")
    born = iin_birth_date(iin)
    if today is not None and born > today:
        raise ValueError("IIN birth date (its first 6 digits) is in the future")
    return iin


def bin_check(value: str) -> str:
    """Validate a business identification number; returns it stripped.

    Digits 0–9 only: another script's digits (``٩``, ``９``) are refused, not read as 0–9, so one BIN has one form."""
    bin_ = _twelve_digits(value, "BIN")
    month = int(bin_[2:4])
    if not 1 <= month <= 12:
        raise ValueError("BIN 3rd–4th digits must be the month of registration (01–12)")
    if int(bin_[4]) not in _BIN_TYPES:
        raise ValueError("BIN 5th digit must be the entity type (4 resident, 5 non-resident, 6 joint venture)")
    if int(bin_[5]) not in _BIN_SUBTYPES:
        raise ValueError("BIN 6th digit must be the unit type (0 head office … 4)")
    return bin_


def masked_number(number: str) -> str:
    """A phone number as staff see it: the operator's prefix and the last two digits (``+7701•••••67``)."""
    if len(number) < 8:
        return "•" * len(number)
    return number[:5] + "•" * (len(number) - 7) + number[-2:]


def kz_mobile(value: str) -> str:
    """A Kazakhstan mobile number in E.164 (+77XXXXXXXXX); accepts 8 7XX…, +7 (7XX)…, 7XX… forms."""
    raw = value.strip()
    digits = re.sub(r"[\s()\-.]", "", raw)
    if re.fullmatch(r"87\d{9}", digits):  # domestic trunk prefix 8
        digits = "+7" + digits[1:]
    elif re.fullmatch(r"7\d{9}", digits):  # national number without prefix
        digits = "+7" + digits
    try:
        parsed = phonenumbers.parse(digits, "KZ")
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.region_code_for_number(parsed) != "KZ"
        or phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE
    ):
        raise ValueError("not a Kazakhstan mobile number (+7 7XX XXX XX XX)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


_PASSWORD_SPECIALS = "@$!%*#?&"
_ASCII_DIGITS = frozenset("0123456789")


def eds_password_check(value: str) -> str:
    """The EDS password policy (almatel-eds step 8): at least one letter, one digit, one special character.

    The message never repeats the password.
    """
    missing = []
    if not any(c.isalpha() for c in value):
        missing.append("a letter")
    if not any(c in _ASCII_DIGITS for c in value):  # "²" or "٣" are digits to Python, not to the policy
        missing.append("a digit (0-9)")
    if not any(c in _PASSWORD_SPECIALS for c in value):
        missing.append(f"a special character ({_PASSWORD_SPECIALS})")
    if missing:
        raise ValueError("EDS password must contain " + ", ".join(missing) + " (almatel-eds step 8)")
    return value


_WRITTEN_RUN = re.compile(r"\+?\d(?:[\s()\-.]*\d)*")
"""Digits as a phone number is written: perhaps grouped by spaces, brackets, dashes or dots."""
_SMALL_GROUPS = re.compile(r"(?<!\d)\d{1,4}(?:[\s()\-._:/]+\d{1,4})+(?!\d)")
"""Digits in groups of at most four, by any separator a reference allows (``8:701:000:01:02``)."""


def personal_number_in(text: str) -> str | None:
    """What personal number ``text`` holds, if any: ``"a phone number"`` (a Kazakhstan mobile number however
    written) or ``"an IIN"`` (twelve digits with a valid check digit and birth date); ``None`` otherwise. Read are the
    runs of digits as numbers are written, each group of such a run alone (so digits joined to a number do not hide
    it: ``rs-87010000102-1``), and digits split into small groups by any separator. A reference that must carry no
    personal data (a fraud report's ``ref``, an Update id stored in clear) is refused with it; twelve-digit
    timestamps and ten-digit numbers that read as either by chance too (the sender numbers them otherwise)."""
    for run in _WRITTEN_RUN.finditer(text):
        groups = re.findall(r"\d+", run.group())
        for digits in {"".join(groups), *groups}:
            if kind := _personal(digits):
                return kind
    for run in _SMALL_GROUPS.finditer(text):
        if kind := _personal(re.sub(r"\D", "", run.group())):
            return kind
    return None


def personal_number_whole(text: str) -> str | None:
    """What personal number ``text`` is as a whole, if any (``"a phone number"``, ``"an IIN"``): its digits, however
    written, and nothing else. For an opaque id another system makes (a biometric session's), where a number
    read inside it would refuse one random id in a thousand (a UUID's ``7770-4585-85``) the sender cannot change."""
    if not re.fullmatch(r"[\d\s()\-.+_:/]+", text):
        return None
    return _personal(re.sub(r"\D", "", text))


def _personal(digits: str) -> str | None:
    digits = "".join(str(unicodedata.decimal(c)) for c in digits)  # "٩٠٠…" is read as the IIN it shows
    if 10 <= len(digits) <= 11 and _passes(kz_mobile, digits):
        return Sentence("a phone number")
    if len(digits) == 12 and _passes(iin_check, digits):
        return Sentence("an IIN")
    return None


def _passes(check: Callable[[str], str], value: str) -> bool:
    try:
        check(value)
    except ValueError:
        return False
    return True
