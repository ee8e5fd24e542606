"""HTML forms generated from the models (``api.forms``): nested names, posted forms back to the model with errors
next to their fields, checkboxes, choice lists and optional sub-models, the permit's labels, and a usable
form for every input and event model of the catalogue."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
from pydantic import Field, ValidationError

from api.forms import build_form, parse_form
from models.base import Model
from models.procedure import ProcedureSpec
from models.types import AwareDatetime
from tests.api.applications import IIN
from tests.api.procedures import CompletenessDecision, DemoApplication
from workflows.catalogue import PROCEDURES

SPECS = list(PROCEDURES)


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


def test_an_optional_sub_model_with_an_unticked_box_stays_out_until_something_in_it_is_filled() -> None:
    """The permit's qualification decision has a hearing (only for a non-compliant one) whose box "outside office
    hours confirmed" the form reads as "no" when unticked: a compliant decision sent a hearing with that box alone,
    and was refused for the hearing's missing time (an adversarial run, 2026-12-04). Left out when nothing in it is
    filled or ticked; kept, with the box's "no", once its time is."""
    from models.mvno_permit import QualificationDecision

    compliant = {"compliant": "true", "decided_by": "Head"}
    data, _ = parse_form(build_form(QualificationDecision, compliant), compliant)
    assert data == {"compliant": True, "decided_by": "Head"}
    assert QualificationDecision.model_validate(data).hearing is None
    hearing = {"decided_by": "Head", "hearing.at": "2027-03-19T10:00", "hearing.place": "Astana"}
    data, _ = parse_form(build_form(QualificationDecision, hearing), hearing)
    assert data["hearing"] == {
        "at": "2027-03-19T10:00:00+05:00",
        "place": "Astana",
        "outside_office_hours_confirmed": False,
    }
    ticked = {"decided_by": "Head", "hearing.outside_office_hours_confirmed": "on"}
    data, _ = parse_form(build_form(QualificationDecision, ticked), ticked)
    assert data["hearing"] == {"outside_office_hours_confirmed": True}  # ticked: sent, and its time asked for


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


def test_the_registry_is_not_empty() -> None:
    assert SPECS, "the catalogue lists no procedure"


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_every_input_and_event_model_has_a_form(spec: ProcedureSpec) -> None:
    models = [spec.input_model, *(e.model for e in spec.events if e.model is not None)]
    for model in models:
        form = build_form(model)
        fields = form.fields()
        assert fields, model.__name__
        assert len({f.name for f in fields}) == len(fields), f"{model.__name__}: two fields share a name"
        data, problems = parse_form(form, {})  # an empty form parses (and then fails validation by field)
        assert problems == [] and isinstance(data, dict)


def test_a_fresh_form_shows_a_text_default_in_the_page_s_language() -> None:
    """The complaint's forwarding form showed "higher administrative body" in English on kk and ru pages (an
    adversarial run, 2026-12-05): a text default is said in the page's language; a choice keeps its code."""
    from api.i18n import catalogue
    from models.complaint import ForwardRequest

    for lang in ("kk", "ru"):
        [body] = [f for f in build_form(ForwardRequest, lang=lang).fields() if f.name == "body"]
        assert body.value == catalogue(lang)["higher administrative body"] != "higher administrative body"
    [body] = [f for f in build_form(ForwardRequest).fields() if f.name == "body"]
    assert body.value == "higher administrative body"
