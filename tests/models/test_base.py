"""Bad input to our models is a clear error (``models.base``): arbitrary JSON against the application and report
models, and a damaged permit application, either validate or raise a validation error that names the field;
nothing else escapes and personal data are never echoed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from models.complaint import ComplaintInput
from models.fraud_check import CentreInformation, SubscriberReport
from models.mvno_permit import PermitApplication

DEMO = json.loads(
    (Path(__file__).resolve().parents[2] / "demo" / "mvno_permit" / "application.json").read_text("utf-8")
)


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
