"""pydantic's validation messages in the page's language (``api.validation``): by the error's type with the
constraint filled in, our validators' sentences from the catalogue, never the rejected value."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError
from pydantic_core.core_schema import ErrorType

from api.forms import build_form, parse_form
from api.i18n import catalogue, validator_messages
from api.validation import PATTERNS_SAID, TEMPLATES, message
from models.types import IIN, AwareDatetime, KzMobile

GOOD_IIN = "900101300128"


class Kind(StrEnum):
    individual = "individual"
    legal_entity = "legal_entity"


class Sample(BaseModel):
    name: str = Field(min_length=3, max_length=10)
    code: str = Field(pattern=r"^[A-Z]{2}-\d+$")
    kind: Kind
    mode: Literal["fast", "slow"]
    pages: int = Field(gt=0, le=100)
    share: float
    urgent: bool
    at: AwareDatetime
    iin: IIN
    phone: KzMobile
    tags: list[str] = Field(min_length=1)
    note: str


BAD = {
    "name": "ab",
    "code": "zz",
    "kind": "sole_trader",
    "mode": "never",
    "pages": "0",
    "share": "much",
    "urgent": "perhaps",
    "at": "yesterday",
    "iin": "900101300127",
    "phone": "+7 999 123 45 67",
    "tags": [],
}


def errors(data: Mapping[str, object]) -> dict[str, dict[str, str]]:
    """Each field's message in kk, ru and en."""
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(data)
    return {str(e["loc"][0]): {lang: message(e, lang) for lang in ("kk", "ru", "en")} for e in caught.value.errors()}


def test_messages_follow_the_error_type_with_the_constraint_filled_in() -> None:
    got = errors(BAD)
    assert got["name"]["ru"] == "не менее 3 символов" and got["name"]["kk"] == "кемінде 3 таңба"
    assert got["name"]["en"] == "at least 3 characters"
    assert got["code"]["ru"] == r"не соответствует требуемому виду (^[A-Z]{2}-\d+$)"
    assert got["kind"]["ru"] == "выберите одно из: физическое лицо, юридическое лицо"  # the choices as the form shows
    assert got["mode"]["kk"] == "біреуін таңдаңыз: fast, slow"
    assert got["pages"]["ru"] == "должно быть больше 0"
    assert got["share"]["kk"] == "сан емес" and got["urgent"]["ru"] == "должно быть да или нет"
    assert got["at"]["ru"] == "не дата и время"
    assert got["tags"]["ru"] == "не менее 1 элементов"
    assert got["note"] == {"kk": "міндетті өріс", "ru": "обязательное поле", "en": "required"}
    too_long = errors({**BAD, "name": "a" * 11, "pages": "101"})
    assert too_long["name"]["kk"] == "көп дегенде 10 таңба" and too_long["pages"]["ru"] == "должно быть не больше 100"


def test_our_validators_sentences_come_from_the_catalogue_and_never_echo_the_value() -> None:
    got = errors(BAD)
    assert got["iin"]["ru"] == "неверная контрольная цифра ИИН: 12-я цифра не соответствует первым 11"
    assert got["iin"]["kk"].startswith("ЖСН бақылау цифры қате")
    assert got["iin"]["en"] == "IIN check digit is wrong: the 12th digit does not match the first 11"
    assert got["phone"]["ru"] == "не казахстанский мобильный номер (+7 7XX XXX XX XX)"
    naive = errors({**BAD, "at": "2027-03-19T17:00"})
    assert naive["at"]["kk"].startswith("күн мен уақытқа уақыт белдеуі керек")
    shown = str(got) + str(naive)
    for value in ("900101300127", "999 123 45 67", "sole_trader", "perhaps", "yesterday", "much"):
        assert value not in shown


def test_an_unknown_type_keeps_pydantic_s_words_without_the_value() -> None:
    class Strict(BaseModel):
        model_config = {"strict": True}
        number: str

    with pytest.raises(ValidationError) as caught:
        Strict.model_validate({"number": 87011234567})
    (e,) = caught.value.errors()
    e["type"] = "some_type_we_do_not_know"  # type: ignore[typeddict-item]
    assert message(e, "ru") == "Input should be a valid string"


def test_the_table_names_real_pydantic_error_types_and_every_text_is_translated() -> None:
    known = set(typing.get_args(ErrorType))
    assert set(TEMPLATES) <= known, sorted(set(TEMPLATES) - known)
    wanted = {
        "missing",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "datetime_parsing",
        "datetime_from_date_parsing",
        "int_parsing",
        "float_parsing",
        "enum",
        "literal_error",
        "bool_parsing",
        "greater_than",
        "less_than_equal",
        "too_short",  # a list too short: pydantic 2's type for it (there is no "list_too_short")
    }
    assert wanted <= set(TEMPLATES)
    for lang in ("kk", "ru"):
        missing = sorted(t for t in TEMPLATES.values() if not catalogue(lang).get(t))
        assert missing == [], lang
        for t in TEMPLATES.values():  # a translation keeps every placeholder of its msgid
            assert sorted(_fields(t)) == sorted(_fields(catalogue(lang)[t])), (lang, t)


def test_a_pattern_a_person_is_shown_is_said_in_words() -> None:
    """A clerk typing a wrong run id was shown its regular expression (an adversarial run, 2026-12-05): the patterns
    of ``PATTERNS_SAID`` are said in words, translated; any other keeps its pattern."""
    from models.complaint import ComplaintInput
    from models.types import RUN_ID_PATTERN

    assert any(
        getattr(m, "pattern", None) == RUN_ID_PATTERN for m in ComplaintInput.model_fields["appealed_run_id"].metadata
    )
    from pathlib import Path

    models = Path(__file__).resolve().parents[2] / "models"
    sources = "".join(f.read_text(encoding="utf-8") for f in models.rglob("*.py"))
    for pattern, words in PATTERNS_SAID.items():
        assert pattern == RUN_ID_PATTERN or pattern in sources, pattern  # each is a pattern a model has
        for lang in ("kk", "ru"):
            assert catalogue(lang).get(words), (lang, words)

    class Named(BaseModel):
        run: str = Field(pattern=RUN_ID_PATTERN)
        other: str = Field(pattern=r"^x+$")

    try:
        Named(run="not-a-run", other="y")
    except ValidationError as exc:
        run_error, other_error = exc.errors()
    said, ru = message(run_error, "ru"), catalogue("ru")
    assert said == ru["does not have the required form ({pattern})"].format(pattern=ru[PATTERNS_SAID[RUN_ID_PATTERN]])
    assert "[0-9A-Fa-f]" not in said and "^x+$" in message(other_error, "en")


def _fields(text: str) -> list[str]:
    import string

    return [f for _, f, _, _ in string.Formatter().parse(text) if f]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_sentence_our_validators_raise_is_translated(lang: str) -> None:
    found = validator_messages()
    assert len(found) > 30
    translated = [t for t in catalogue(lang) if catalogue(lang)[t]]
    untranslated = [
        p.pattern for text, p in found if not (catalogue(lang).get(text) or any(p.fullmatch(t) for t in translated))
    ]
    assert untranslated == []
    for name in ("IIN", "BIN"):  # the sentences whose subject is known only when raised: both subjects
        assert catalogue(lang).get(f"{name} must be exactly 12 digits")
        assert catalogue(lang).get(f"{name} check digit is wrong: the 12th digit does not match the first 11")


@pytest.mark.parametrize("password", ["", "abc", "123", "@@@", "abc1", "abc@", "1@1"])
@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_eds_password_message_is_translated(password: str, lang: str) -> None:
    from rules.identifiers import eds_password_check

    with pytest.raises(ValueError) as caught:
        eds_password_check(password)
    assert catalogue(lang).get(str(caught.value))


def test_a_form_in_russian_shows_russian_messages_next_to_fields() -> None:
    from models.mvno_permit import PermitApplication

    values = {"applicant.kind": "legal_entity", "applicant.~legal_entity.bin": "210240000019"}
    form = build_form(PermitApplication, values)
    data, _ = parse_form(form, values)
    with pytest.raises(ValidationError) as caught:
        PermitApplication.model_validate(data)
    by_name = {f.name: f.error for f in build_form(PermitApplication, values, caught.value, lang="ru").fields()}
    assert by_name["applicant.~legal_entity.bin"] == (
        "неверная контрольная цифра БИН: 12-я цифра не соответствует первым 11"
    )
    assert by_name["application_number"] == "обязательное поле"
    english = {f.name: f.error for f in build_form(PermitApplication, values, caught.value).fields()}
    assert english["application_number"] == "required"
    assert "210240000019" not in str(by_name)


@pytest.mark.parametrize("password", ["password", "abcdefgh", "Password"])
def test_an_eds_password_that_is_a_word_of_the_policy_leaves_the_policy_whole(password: str) -> None:
    """The message never holds the password, so nothing is cut from it: "password" as the password cut the word out
    of "EDS password must contain…" (an adversarial run, 2026-12-04); said in Russian too."""
    from pydantic import BaseModel

    from api.validation import message
    from models.types import EdsPassword

    class Choice(BaseModel):
        password: EdsPassword

    with pytest.raises(ValidationError) as caught:
        Choice(password=password)
    [error] = caught.value.errors()
    assert message(error, "en").startswith("EDS password must contain a digit (0-9)")
    assert message(error, "ru").startswith("пароль ЭЦП должен содержать")
