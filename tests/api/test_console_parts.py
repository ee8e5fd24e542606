"""The console's parts without a browser: catalogues, generated forms, the codec endpoint, logging, CLI."""

from __future__ import annotations

import base64
import json
import logging
import re
from enum import StrEnum

import httpx
import pytest
from pydantic import Field, ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter
from typer.testing import CliRunner

from api.app import _NoQueryString
from api.codec import decode_payloads_json, encode_payloads_json
from api.forms import build_form, parse_form
from api.i18n import LANGUAGES, catalogue, extract_msgids, procedure_msgids
from models.base import Model
from models.types import AwareDatetime
from tests.api.applications import IIN
from tests.api.conftest import Keys
from tests.api.procedures import CompletenessDecision, DemoApplication


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_console_text_is_translated(lang: str) -> None:
    texts = extract_msgids()
    assert len(texts) > 50
    missing = sorted(t for t in texts if not catalogue(lang).get(t))
    assert missing == []


def test_english_catalogue_lists_every_text_and_languages_are_three() -> None:
    from babel.messages.pofile import read_po

    from api.i18n import LOCALES

    with (LOCALES / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        ids = {m.id for m in read_po(f) if m.id}
    assert extract_msgids() <= ids
    assert set(LANGUAGES) == {"kk", "ru", "en"}


def test_nested_model_form_names_follow_the_model() -> None:
    form = build_form(DemoApplication)
    names = {f.name: f for f in form.fields()}
    assert names["applicant.kind"].kind == "select" and names["applicant.kind"].options == ["individual", "company"]
    assert "applicant.~individual.iin" in names and "applicant.~company.bin" in names
    assert names["attachments.0.kind"].options == ["charter", "licence"]
    assert names["attachments.0.pages"].kind == "number"
    assert names["received_at"].kind == "datetime"
    assert [g.count for g in form.groups() if g.kind == "list"] == [1]
    grown = build_form(DemoApplication, {"_count.attachments": "3"})
    assert "attachments.2.pages" in {f.name for f in grown.fields()}


def test_posted_form_becomes_the_model_and_errors_land_next_to_their_fields() -> None:
    values = {
        "applicant.kind": "individual",
        "applicant.~individual.iin": IIN,
        "applicant.~individual.name": "Асан",
        "applicant.~company.bin": "ignored, other variant",
        "phone": "+77011234567",
        "received_at": "2027-03-19T17:00",
        "_count.attachments": "2",
        "attachments.0.kind": "charter",
        "attachments.0.pages": "3",
        "attachments.1.kind": "licence",
        "attachments.1.pages": "1",
    }
    form = build_form(DemoApplication, values)
    data, problems = parse_form(form, values)
    assert problems == []
    app = DemoApplication.model_validate(data)
    assert app.applicant.kind == "individual" and len(app.attachments) == 2
    assert app.received_at.utcoffset() is not None and app.received_at.hour == 17  # read as Asia/Almaty

    bad = {**values, "applicant.~individual.iin": "900101300127", "attachments.1.pages": "0", "phone": "123"}
    form = build_form(DemoApplication, bad)
    data, _ = parse_form(form, bad)
    with pytest.raises(ValidationError) as caught:
        DemoApplication.model_validate(data)
    form = build_form(DemoApplication, bad, caught.value)
    errors = {f.name: f.error for f in form.fields() if f.error}
    assert set(errors) == {"applicant.~individual.iin", "attachments.1.pages", "phone"}
    assert "900101300127" not in json.dumps(errors, ensure_ascii=False)


def test_checkbox_and_optional_fields() -> None:
    form = build_form(CompletenessDecision)
    assert {f.name: f.kind for f in form.fields()} == {"complete": "checkbox", "reason": "textarea"}
    data, _ = parse_form(form, {})
    assert data == {"complete": False}


def _payloads(value: object) -> dict[str, object]:
    [p] = pydantic_data_converter.payload_converter.to_payloads([value])
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
        ]
    }


def test_codec_functions_encrypt_and_decrypt_a_pydantic_payload() -> None:
    body = _payloads(CompletenessDecision(complete=False, reason="no charter"))
    encoded = encode_payloads_json(body)
    sealed = encoded["payloads"][0]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert b"no charter" not in base64.b64decode(sealed["data"])
    decoded = decode_payloads_json(encoded)
    raw = base64.b64decode(decoded["payloads"][0]["data"])
    assert json.loads(raw) == {"complete": False, "reason": "no charter"}


async def test_codec_endpoint_is_for_staff_and_auditors_with_cors_for_the_ui(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    body = _payloads({"x": 1})
    for key in (keys.staff, keys.auditor):
        r = await http.post("/codec/decode", json=body, headers={"X-API-Key": key, "X-Namespace": "default"})
        assert r.status_code == 200, r.text
        assert json.loads(base64.b64decode(r.json()["payloads"][0]["data"])) == {"x": 1}
    sealed = await http.post("/codec/encode", json=body, headers={"X-API-Key": keys.staff})
    assert sealed.status_code == 200 and sealed.json() != body
    opened = await http.post("/codec/decode", json=sealed.json(), headers={"X-API-Key": keys.auditor})
    assert json.loads(base64.b64decode(opened.json()["payloads"][0]["data"])) == {"x": 1}
    assert (await http.post("/codec/decode", json=body, headers={"X-API-Key": keys.bank})).status_code == 403
    assert (await http.post("/codec/encode", json=body, headers={"X-API-Key": keys.supervisor})).status_code == 403
    r = await http.post("/codec/decode", json=body)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = await http.post("/codec/decode", content=b"{not json", headers={"X-API-Key": keys.staff})
    assert r.status_code == 422
    r = await http.post("/codec/decode", json={"payloads": [{"data": 5}]}, headers={"X-API-Key": keys.staff})
    assert r.status_code == 422 and "payloads[0]" in r.json()["detail"]
    pre = await http.options(
        "/codec/decode",
        headers={
            "Origin": "http://localhost:8233",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "http://localhost:8233"
    assert pre.headers["access-control-allow-credentials"] == "true"
    other = await http.options(
        "/codec/decode", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in other.headers
    api = await http.options(
        "/v1/cases", headers={"Origin": "http://localhost:8233", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in api.headers  # CORS only on the codec


def test_access_log_drops_query_strings() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/cases?status=x&iin=900101300126", "1.1", 200),
        None,
    )
    assert _NoQueryString().filter(record)
    assert "900101300126" not in record.getMessage() and "/v1/cases" in record.getMessage()
    assert "_NoQueryString" in {type(f).__name__ for f in logging.getLogger("uvicorn.access").filters}


def test_cli_creates_a_key_printed_once_and_stored_hashed() -> None:
    from api.auth import list_keys, verify_key
    from starter import app

    result = CliRunner().invoke(
        app, ["api", "create-key", "--name", "antifraud centre", "--role", "operator:antifraud_centre"]
    )
    assert result.exit_code == 0, result.output
    key = re.search(r"kz_[0-9a-f]{12}\.\S+", result.output)
    assert key is not None
    principal = verify_key(key.group(0))
    assert principal is not None and principal.roles == {"operator:antifraud_centre"}
    stored = next(k for k in list_keys() if k.key_id == principal.key_id)
    assert key.group(0).split(".")[1] not in stored.secret_sha256
    bad = CliRunner().invoke(app, ["api", "create-key", "--name", "x", "--role", "admin"])
    assert bad.exit_code == 1
    revoked = CliRunner().invoke(app, ["api", "revoke-key", principal.key_id])
    assert revoked.exit_code == 0 and verify_key(key.group(0)) is None


class Ground(StrEnum):
    COURT_BAN = "court_ban"
    NON_COMPLIANT = "non_compliant"


class Hearing(Model):
    at: AwareDatetime
    place: str = Field(min_length=1, max_length=100)


class FinalDecisionLike(Model):
    grant: bool
    grounds: list[Ground] = Field(default_factory=list)
    hearing: Hearing | None = None


def test_choice_lists_are_checkboxes_and_optional_sub_models_stay_out_when_empty() -> None:
    form = build_form(FinalDecisionLike)
    kinds = {f.name: f.kind for f in form.fields()}
    assert kinds == {"grant": "checkbox", "grounds": "multi", "hearing.at": "datetime", "hearing.place": "text"}
    values = {"grounds.court_ban": "true"}
    data, _ = parse_form(build_form(FinalDecisionLike, values), values)
    decision = FinalDecisionLike.model_validate(data)
    assert decision.grounds == [Ground.COURT_BAN] and decision.hearing is None and decision.grant is False
    values = {"grant": "true", "hearing.at": "2027-03-19T10:00"}
    data, _ = parse_form(build_form(FinalDecisionLike, values), values)
    with pytest.raises(ValidationError) as caught:
        FinalDecisionLike.model_validate(data)
    form = build_form(FinalDecisionLike, values, caught.value)
    assert {f.name for f in form.fields() if f.error} == {"hearing.place"}
    assert next(f for f in form.fields() if f.name == "grounds").value == ""


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_text_of_the_permit_forms_is_translated(lang: str) -> None:
    from workflows.mvno_permit import SPEC as PERMIT

    texts = procedure_msgids(PERMIT)
    assert {
        "Permit for a mobile virtual network operator",
        "Completeness check result",
        "IIN",
        "BIN",
        "Contracts",
        "Information form",
        "legal_entity",
        "court_ban",
    } <= texts
    assert sorted(t for t in texts if not catalogue(lang).get(t)) == []
    assert catalogue(lang)["IIN"] != "IIN" and catalogue(lang)["legal_entity"] != "legal_entity"


def test_the_english_catalogue_lists_the_permit_texts_and_names_its_codes() -> None:
    from workflows.mvno_permit import SPEC as PERMIT

    assert procedure_msgids(PERMIT) <= set(catalogue_ids("en"))
    assert catalogue("en")["legal_entity"] == "Legal entity"  # a choice's code reads as words in English


def catalogue_ids(lang: str) -> list[str]:
    from babel.messages.pofile import read_po

    from api.i18n import LOCALES

    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return [str(m.id) for m in read_po(f) if m.id]


def test_permit_form_labels_widgets_and_defaults() -> None:
    from models.mvno_permit import HearingRecord, PermitApplication

    form = build_form(PermitApplication)
    fields = {f.name: f for f in form.fields()}
    assert fields["applicant.~individual.iin"].label == "IIN"  # not pydantic's "Iin"
    assert fields["applicant.~legal_entity.bin"].label == "BIN"
    assert fields["application_number"].label == "Application number"
    assert fields["qualification.contracts.0.signed_on"].kind == "date"
    assert fields["applicant.~individual.phones"].kind == "lines"
    assert fields["applicant.~legal_entity.form"].value == "resident"  # the model's default on a fresh form
    groups = {g.name: g for g in form.groups()}
    assert groups["applicant"].switch == "applicant.kind"
    assert groups["applicant.~legal_entity"].label == "legal_entity"  # its option's text, not the class name
    item = groups["qualification.contracts.0"]
    assert (item.label, item.index) == ("Contracts", 1)
    assert next(f for f in build_form(HearingRecord).fields() if f.name == "applicant_attended").value == "true"
    posted = build_form(HearingRecord, {"recorded_by": "x"})  # a posted form shows what was sent, not defaults
    assert next(f for f in posted.fields() if f.name == "applicant_attended").value == ""


def test_a_wrong_bin_is_reported_next_to_its_field_without_pydantic_s_prefix() -> None:
    from models.mvno_permit import PermitApplication

    values = {"applicant.kind": "legal_entity", "applicant.~legal_entity.bin": "210240000019"}
    form = build_form(PermitApplication, values)
    data, _ = parse_form(form, values)
    with pytest.raises(ValidationError) as caught:
        PermitApplication.model_validate(data)
    form = build_form(PermitApplication, values, caught.value)
    error = next(f.error for f in form.fields() if f.name == "applicant.~legal_entity.bin")
    assert error.startswith("BIN check digit is wrong") and "Value error" not in error
