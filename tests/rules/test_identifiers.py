"""IIN/BIN check digits worked by hand, phone numbers and the EDS password policy; on any generated input the
checks either validate or say why."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from models.base import Model
from models.types import BIN, IIN, EdsPassword, KzMobile
from rules.identifiers import bin_check, check_digit, eds_password_check, iin_birth_date, iin_check, kz_mobile

# 9·1+0·2+0·3+1·4+0·5+1·6+3·7+0·8+0·9+1·10+2·11 = 72; 72 mod 11 = 6
IIN_FIRST_PASS = "900101300126"
# first pass: 109 mod 11 = 10; second pass (weights 3..11,1,2): 130 mod 11 = 9
IIN_SECOND_PASS = "850412400309"
# both passes give 10: no 12th digit can make it valid
IIN_IMPOSSIBLE = "850412400360"
# 0·1+5·2+0+1·4+4·5+0+0+0+1·9+2·10+3·11 = 96; 96 mod 11 = 8
BIN_VALID = "050140001238"


def test_check_digit_by_hand() -> None:
    assert check_digit(IIN_FIRST_PASS[:11]) == 6
    assert check_digit(IIN_SECOND_PASS[:11]) == 9
    assert check_digit(IIN_IMPOSSIBLE[:11]) is None


@pytest.mark.parametrize("iin", [IIN_FIRST_PASS, IIN_SECOND_PASS, " 900101300126 "])
def test_valid_iins(iin: str) -> None:
    assert iin_check(iin) == iin.strip()


def test_birth_date_and_century() -> None:
    assert iin_birth_date(IIN_FIRST_PASS) == date(1990, 1, 1)
    assert iin_birth_date(IIN_SECOND_PASS) == date(1985, 4, 12)


@pytest.mark.parametrize(
    ("iin", "message"),
    [
        ("90010130012", "exactly 12 digits"),
        ("9001013001266", "exactly 12 digits"),
        ("90010130012a", "exactly 12 digits"),
        ("900101300127", "check digit is wrong"),
        (IIN_IMPOSSIBLE, "cannot exist"),
        ("901301300129", "real birth date"),  # month 13 (check digit valid)
        ("900101700121", "century"),  # 7th digit 7
    ],
)
def test_invalid_iins(iin: str, message: str) -> None:
    if message in ("real birth date", "century"):  # make the check digit right so the date rule is what fails
        iin = iin[:11] + str(check_digit(iin[:11]))
    with pytest.raises(ValueError, match=message):
        iin_check(iin)


def test_future_birth_date_rejected_when_today_is_given() -> None:
    iin = "300101500" + "12"
    iin += str(check_digit(iin))
    assert iin_check(iin) == iin
    with pytest.raises(ValueError, match="future"):
        iin_check(iin, today=date(2026, 11, 22))


def test_valid_bin() -> None:
    assert bin_check(BIN_VALID) == BIN_VALID


@pytest.mark.parametrize(
    ("prefix", "message"),
    [("05134000123", "month"), ("05017000123", "entity type"), ("05014900123", "unit type")],
)
def test_invalid_bins(prefix: str, message: str) -> None:
    digit = check_digit(prefix)
    assert digit is not None
    with pytest.raises(ValueError, match=message):
        bin_check(prefix + str(digit))
    with pytest.raises(ValueError, match="check digit"):
        bin_check(BIN_VALID[:11] + "9")


@pytest.mark.parametrize("raw", ["87011234567", "+7 (701) 123-45-67", "7011234567", "+77011234567", "8 701 123 45 67"])
def test_mobile_numbers_normalised(raw: str) -> None:
    assert kz_mobile(raw) == "+77011234567"


@pytest.mark.parametrize("raw", ["+77271234567", "+79161234567", "12345", "hello", ""])
def test_not_kazakh_mobiles(raw: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        kz_mobile(raw)


@pytest.mark.parametrize(
    ("pw", "missing"),
    [("abcdef", "a digit"), ("123456", "a letter"), ("abc123", "special"), ("@@@@", "a letter, a digit")],
)
def test_eds_password_policy(pw: str, missing: str) -> None:
    with pytest.raises(ValueError, match=missing) as exc:
        eds_password_check(pw)
    assert pw not in str(exc.value)
    assert eds_password_check("Qazaq2026!") == "Qazaq2026!"


class Person(Model):
    iin: IIN
    bin: BIN | None = None
    phone: KzMobile
    password: EdsPassword | None = None


def test_pydantic_types_name_the_field_and_the_problem() -> None:
    p = Person(iin=IIN_FIRST_PASS, bin=BIN_VALID, phone="8 701 123 45 67", password="Qazaq2026!")
    assert p.phone == "+77011234567"
    assert "Qazaq" not in repr(p)
    with pytest.raises(ValidationError) as exc:
        Person(iin="900101300127", phone="+79161234567", password="weakpass")
    errors = {e["loc"][0]: e["msg"] for e in exc.value.errors()}
    assert "check digit" in errors["iin"]
    assert "mobile" in errors["phone"]
    assert "digit" in errors["password"]
    assert "weakpass" not in str(exc.value)


@given(st.text(max_size=20))
def test_identifiers_either_validate_or_say_why(value: str) -> None:
    for check in (iin_check, bin_check, kz_mobile, eds_password_check):
        try:
            check(value)
        except ValueError as exc:
            assert str(exc)  # a message, never an empty error


@given(st.from_regex(r"[0-9]{11}", fullmatch=True))
def test_every_eleven_digits_get_a_check_digit_or_none(prefix: str) -> None:
    digit = check_digit(prefix)
    if digit is None:
        with pytest.raises(ValueError, match="cannot exist"):
            iin_check(prefix + "0")
    else:
        assert 0 <= digit <= 9


def test_an_iin_born_in_the_future_is_invalid_in_every_model() -> None:
    """14 item 16: the pydantic IIN type refuses a birth date after today, whatever the caller passes."""
    future = date.today().replace(year=date.today().year + 1)
    base = f"{future:%y%m%d}5"  # 7th digit 5: born in the 2000s
    for serial in range(1000, 1100):
        digit = check_digit(base + str(serial))
        if digit is not None:
            iin = base + str(serial) + str(digit)
            break
    with pytest.raises(ValidationError, match="in the future"):
        Person(iin=iin, phone="+77011234567")
    born_today = f"{date.today():%y%m%d}5"
    for serial in range(1000, 1100):
        digit = check_digit(born_today + str(serial))
        if digit is not None:
            Person(iin=born_today + str(serial) + str(digit), phone="+77011234567")
            break


@pytest.mark.parametrize("pw", ["Qazaq²!", "Qazaq٣!", "Qazaq①!"])
def test_only_ascii_digits_count_as_digits_in_the_eds_password(pw: str) -> None:
    """14 item 16: a superscript "²" (or an Arabic-Indic digit) is not a digit of the EDS password policy."""
    assert pw[5].isdigit()  # Python counts it as a digit; the policy does not
    with pytest.raises(ValueError, match=r"a digit \(0-9\)"):
        eds_password_check(pw)


def test_a_number_as_a_whole_is_read_however_written_and_never_inside_an_opaque_id() -> None:
    """``personal_number_whole`` (a biometric session id): a UUID whose digit groups read as a phone number
    (``7770-4585-85``) was refused one time in 1,200 by ``personal_number_in``, and the provider cannot change it."""
    from rules.identifiers import personal_number_in, personal_number_whole

    assert personal_number_whole(IIN_FIRST_PASS) == "an IIN"
    assert personal_number_whole("+7 (701) 123-45-67") == personal_number_whole("87011234567") == "a phone number"
    opaque = "49035f8b-7770-4585-85d8-f75c0c9af542"
    assert personal_number_in(opaque) == "a phone number" and personal_number_whole(opaque) is None
    assert personal_number_whole("bio-7000000001") is None and personal_number_whole("123456") is None


ZEROS = {"Arabic-Indic": "٠", "fullwidth": "０", "Persian": "۰"}
"""Other scripts' digit zero: Python's ``\\d``, ``int()`` and pydantic's patterns read their digits as 0–9."""


def in_script(number: str, zero: str) -> str:
    return "".join(chr(ord(zero) + int(d)) for d in number)


@pytest.mark.parametrize("zero", ZEROS.values(), ids=ZEROS.keys())
def test_an_iin_or_bin_in_another_scripts_digits_is_refused(zero: str) -> None:
    """``٩٠٠١٠١٣٠٠١٢٦`` passed as a valid IIN and was stored as given, so one applicant's IIN had four forms: four
    cases for one application, and registry lookups that found no one (an adversarial run, 2026-12-04)."""
    iin = in_script(IIN_FIRST_PASS, zero)
    with pytest.raises(ValueError, match="IIN must be written in the digits 0–9 only"):
        iin_check(iin)
    with pytest.raises(ValueError, match="IIN must be written in the digits 0–9 only"):
        iin_check(IIN_FIRST_PASS[:11] + iin[11])  # one such digit is enough
    with pytest.raises(ValueError, match="BIN must be written in the digits 0–9 only"):
        bin_check(in_script(BIN_VALID, zero))
    with pytest.raises(ValidationError, match="digits 0–9 only"):
        Person(iin=iin, phone="+77011234567")


@pytest.mark.parametrize("zero", ZEROS.values(), ids=ZEROS.keys())
def test_the_models_patterns_of_numbers_take_digits_0_9_only(zero: str) -> None:
    """A registry lookup's IIN or BIN and a permit's bank account (KZ IBAN) had ``\\d`` patterns, which pydantic
    reads as any script's digits."""
    from pydantic import TypeAdapter

    from models.identification import IdentityCheckRequest
    from models.mvno_permit.application import Iban

    now = datetime(2026, 12, 4, tzinfo=UTC)
    assert IdentityCheckRequest(id_number=IIN_FIRST_PASS, at=now).id_number == IIN_FIRST_PASS
    with pytest.raises(ValidationError):
        IdentityCheckRequest(id_number=in_script(IIN_FIRST_PASS, zero), at=now)
    iban = TypeAdapter(Iban)
    assert iban.validate_python("KZ86125KZT5004100100") == "KZ86125KZT5004100100"
    with pytest.raises(ValidationError):
        iban.validate_python(f"KZ{in_script('86', zero)}125KZT5004100100")


@given(st.text(alphabet=st.characters(categories=["Nd"]), min_size=12, max_size=12))
def test_an_identifier_that_validates_is_written_in_digits_0_9(value: str) -> None:
    for check in (iin_check, bin_check):
        try:
            valid = check(value)
        except ValueError as exc:
            assert value.isascii() or "digits 0–9 only" in str(exc)
        else:
            assert valid == value and valid.isascii()


@pytest.mark.parametrize("zero", ZEROS.values(), ids=ZEROS.keys())
def test_a_personal_number_in_another_scripts_digits_is_still_found(zero: str) -> None:
    """``personal_number_in`` reads every script's digits as the numbers they show: a reference holding an IIN in
    Arabic-Indic digits is refused as one, though ``iin_check`` refuses that form of it."""
    from rules.identifiers import personal_number_in, personal_number_whole

    iin = in_script(IIN_FIRST_PASS, zero)
    assert personal_number_in(f"ref-{iin}") == personal_number_whole(iin) == "an IIN"
