"""Malformed input files for ``starter.py`` (read by ``cli.body``): a clear error naming the problem, exit code
1, and no case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from infra.pseudonym import case_id
from tests.cli.conftest import Starter

DEMO = Path(__file__).resolve().parents[2] / "demo"
PERMIT = json.loads((DEMO / "mvno_permit" / "application.json").read_text(encoding="utf-8"))


def damaged(**changes: object) -> dict[str, object]:
    doc = json.loads(json.dumps(PERMIT))
    doc.update(changes)
    return doc


CASES = [
    ("{not json", "not valid JSON"),
    ("", "not valid JSON"),
    ("[1, 2]", "(root)"),
    (json.dumps(damaged(personal_data_consent=False)), "personal_data_consent"),
    (json.dumps(damaged(received_at="2026-11-23T10:00:00")), "received_at"),
    (json.dumps(damaged(applicant={**PERMIT["applicant"], "iin": "900101300127"})), "applicant"),
    (json.dumps(damaged(unexpected_field=1)), "unexpected_field"),
]


@pytest.mark.parametrize(("content", "says"), CASES)
async def test_bad_permit_file_is_refused_and_starts_nothing(
    env: WorkflowEnvironment,
    starter: Starter,
    tmp_path: Path,
    content: str,
    says: str,
) -> None:
    f = tmp_path / "application.json"
    f.write_text(content, encoding="utf-8")
    code, out = await starter("permit", "start", str(f))
    assert code == 1, out
    assert says in out and "Traceback" not in out
    applicant = PERMIT["applicant"]
    would_be = case_id("mvno_permit", PERMIT["application_number"], applicant.get("iin") or applicant.get("bin"))
    with pytest.raises(RPCError) as exc:
        await env.client.get_workflow_handle(would_be).describe()
    assert exc.value.status is RPCStatusCode.NOT_FOUND


async def test_missing_file(starter: Starter, tmp_path: Path) -> None:
    code, out = await starter("permit", "start", str(tmp_path / "nope.json"))
    assert code != 0 and "Traceback" not in out


def test_a_date_time_typed_without_an_offset_is_asia_almaty_time() -> None:
    """``key=value`` date-times without a zone are Asia/Almaty time, as the console reads its forms; one with an offset
    is that instant; a value that is no date-time is refused naming the field. A JSON file's date-time needs its
    offset, as the API's does (the file case above)."""
    from datetime import datetime, timedelta

    from cli.body import BodyError, merge_pairs, validate
    from models.fraud_check import FraudCaseInput
    from models.mvno_permit import HearingRecord
    from rules.calendar import ALMATY

    held = ["recorded_by=A.", "applicant_position=x"]
    record = validate(HearingRecord, merge_pairs({}, ["held_at=2027-03-24T15:00", *held]))
    assert record.held_at == datetime(2027, 3, 24, 15, 0, tzinfo=ALMATY)
    given = validate(HearingRecord, merge_pairs({}, ["held_at=2027-03-24T10:00Z", *held]))
    assert given.held_at.utcoffset() == timedelta(0) and given.held_at == record.held_at
    report = [
        "first.way_in=internal_detection",
        "first.ref=DET-1",
        "first.suspect_number=+77011234567",
        "first.received_at=2027-03-24T09:30",
        "first.description=burst of calls",
    ]
    inp = validate(FraudCaseInput, merge_pairs({}, report))  # nested, and through a union of report kinds
    assert inp.first.received_at == datetime(2027, 3, 24, 9, 30, tzinfo=ALMATY)
    with pytest.raises(BodyError, match="held_at"):
        validate(HearingRecord, merge_pairs({}, ["held_at=tomorrow", *held]))
    with pytest.raises(BodyError, match="held_at"):  # as a JSON file gives it: the API's rule
        validate(HearingRecord, {"held_at": "2027-03-24T15:00", "recorded_by": "A.", "applicant_position": "x"})


def test_the_fields_listed_for_a_start_are_those_a_caller_may_send() -> None:
    """``case events fraud_check`` listed the case's own ``cycle``, ``carried`` and ``state.registration.*``, which the
    intake refuses from a caller (an adversarial run of 2026-12-03); the report's fields stay."""
    from cli.body import field_docs
    from models.fraud_check import FraudCaseInput

    paths = [d.path for d in field_docs(FraudCaseInput)]
    assert "first.suspect_number" in paths and "first.received_at" in paths
    assert not [p for p in paths if p.split(".")[0] in ("cycle", "carried", "state")], paths


def test_a_date_alone_is_no_instant_on_the_command_line_or_in_a_body() -> None:
    """``received_at=2026-12-03`` was taken as midnight in Almaty, so a receipt that came after 18:30 was registered
    that day (665/NK p.6), where the API answered that a time zone was missing (an adversarial run, 2026-12-04):
    both refuse a date alone and say what to give instead."""
    from pydantic import ValidationError

    from cli.body import BodyError, merge_pairs, validate
    from models.mvno_permit import HearingRecord

    said = "a date without a time of day: give the instant"
    with pytest.raises(BodyError, match=f"held_at: {said}"):
        validate(HearingRecord, merge_pairs({}, ["held_at=2026-12-03", "recorded_by=A.", "applicant_position=x"]))
    for body in ({"held_at": "2026-12-03"}, {"held_at": "20261203"}):
        with pytest.raises(ValidationError, match=said):
            HearingRecord.model_validate({**body, "recorded_by": "A.", "applicant_position": "x"})
    record = HearingRecord.model_validate(
        {"held_at": "2026-12-03T19:00:00+05:00", "recorded_by": "A.", "applicant_position": "x"}
    )
    assert record.held_at.hour == 19
