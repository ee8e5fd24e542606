"""Bad input everywhere is a clear error: generated identifiers and application payloads either validate
or raise a validation error that names the field; nothing else escapes (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from models.complaint import ComplaintInput
from models.fraud_check import CentreInformation, SubscriberReport
from models.mvno_permit import PermitApplication
from rules.identifiers import bin_check, check_digit, eds_password_check, iin_check, kz_mobile

DEMO = json.loads(
    (Path(__file__).resolve().parents[2] / "demo" / "mvno_permit" / "application.json").read_text("utf-8")
)


@given(st.text(max_size=20))
def test_identifiers_either_validate_or_say_why(value: str) -> None:
    for check in (iin_check, bin_check, kz_mobile, eds_password_check):
        try:
            check(value)
        except ValueError as exc:
            assert str(exc)  # a message, never an empty error


@given(st.from_regex(r"\d{11}", fullmatch=True))
def test_every_eleven_digits_get_a_check_digit_or_none(prefix: str) -> None:
    digit = check_digit(prefix)
    if digit is None:
        with pytest.raises(ValueError, match="cannot exist"):
            iin_check(prefix + "0")
    else:
        assert 0 <= digit <= 9


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def _mutate(base: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(base))
    node = doc
    for key in path[:-1]:
        node = node[key] if isinstance(node, dict) and key in node else node
    if isinstance(node, dict):
        node[path[-1]] = value
    return doc


MODELS: list[type[BaseModel]] = [PermitApplication, ComplaintInput, SubscriberReport, CentreInformation]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(MODELS), json_values)
def test_arbitrary_json_is_refused_with_field_errors(model: type[BaseModel], payload: Any) -> None:
    try:
        model.model_validate(payload)
    except ValidationError as exc:
        assert exc.errors() and all(err["msg"] and err["type"] for err in exc.errors())


FIELDS = [
    ["application_number"],
    ["received_at"],
    ["personal_data_consent"],
    ["applicant", "iin"],
    ["applicant", "phones"],
    ["applicant", "kind"],
    ["documents"],
]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIELDS), json_values)
def test_a_damaged_permit_application_names_the_damaged_field(path: list[str], value: Any) -> None:
    doc = _mutate(DEMO, path, value)
    try:
        PermitApplication.model_validate(doc)
    except ValidationError as exc:
        locs = [".".join(str(p) for p in e["loc"]) for e in exc.errors()]
        assert any(path[0] in loc for loc in locs), locs
        if path[-1] in ("iin", "phones") and isinstance(value, str) and len(value) > 5:
            assert value not in str(exc)  # personal data is never echoed in the message
