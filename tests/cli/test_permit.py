"""The ``starter.py permit`` commands without a server: parsing, model building, readable refusals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from cli.common import load_json_model
from cli.permit import build_qualification, parse_instant
from models.mvno_permit import PermitApplication, RefusalGround
from rules.calendar import ALMATY
from starter import app

DEMO = Path(__file__).resolve().parents[2] / "demo" / "mvno_permit"


def test_demo_applications_are_valid() -> None:
    ind = load_json_model(DEMO / "application.json", PermitApplication)
    le = load_json_model(DEMO / "application_legal_entity.json", PermitApplication)
    assert ind.applicant.kind == "individual" and le.applicant.kind == "legal_entity"
    assert le.applicant.identifier == "210240000018" and len(le.qualification.contracts) == 2


def test_bad_application_file_names_the_field(tmp_path: Path) -> None:
    raw = json.loads((DEMO / "application.json").read_text())
    raw["personal_data_consent"] = False
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    with pytest.raises(ValueError, match=r"personal_data_consent: .*consent"):
        load_json_model(bad, PermitApplication)
    result = CliRunner().invoke(app, ["permit", "start", str(bad)])
    assert result.exit_code == 1
    assert "personal_data_consent" in result.output


def test_qualification_options_build_the_decision() -> None:
    d = build_qualification(
        False, ["court_ban"], "activity banned", "2027-03-24T15:00:00+05:00", None, "video: meet.gov.kz/x", "B. Omarov"
    )
    assert d.grounds == [RefusalGround.COURT_BAN] and d.hearing is not None and d.hearing.means
    with pytest.raises(ValidationError, match="hearing"):
        build_qualification(False, ["court_ban"], "activity banned", None, None, None, "B. Omarov")
    with pytest.raises(ValueError):
        build_qualification(False, ["no_such_ground"], "x", None, None, None, "B. Omarov")


def test_an_instant_without_an_offset_is_asia_almaty_time() -> None:
    # every time a person types without a zone is Asia/Almaty time (14 item 5; issue 17 item 9)
    assert parse_instant("2027-03-24T15:00:00", "--held-at") == datetime(2027, 3, 24, 15, 0, tzinfo=ALMATY)
    assert parse_instant("2027-03-24T15:00:00+00:00", "--held-at").utcoffset() == timedelta(0)  # given: kept
    with pytest.raises(typer.BadParameter, match="not an ISO"):
        parse_instant("24.03.2027 15:00", "--hearing-at")
    d = build_qualification(False, ["court_ban"], "ban", "2027-03-24T15:00", "Astana", None, "B. Omarov")
    assert d.hearing is not None and d.hearing.at.isoformat() == "2027-03-24T15:00:00+05:00"
    assert not d.hearing.outside_office_hours_confirmed
    d = build_qualification(False, ["court_ban"], "ban", "2027-03-24T10:00:00+00:00", "Astana", None, "B.", True)
    assert d.hearing is not None and d.hearing.at.isoformat() == "2027-03-24T15:00:00+05:00"
    assert d.hearing.outside_office_hours_confirmed


def test_permit_commands_are_registered() -> None:
    result = CliRunner().invoke(app, ["permit", "--help"])
    assert result.exit_code == 0
    for cmd in ("start", "completeness", "qualification", "hearing", "decide", "contract", "reopen", "show", "list"):
        assert cmd in result.output
