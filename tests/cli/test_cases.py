"""``starter.py cases reindex`` against the time-skipping server: cases started before the console's search index
existed are written to it from their encrypted inputs, with keyed hashes only, once."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlmodel import col, delete, select
from temporalio.testing import WorkflowEnvironment

from infra import case_index
from infra.db import session
from models.tables import CaseIndexEntry, CaseIndexKey
from tests.cases import stop
from tests.cli.conftest import Starter
from tests.cli.test_case import case_id_in

DEMO = Path(__file__).resolve().parents[2] / "demo"


def forget(*case_ids: str) -> None:
    """The cases as if started before the index existed: no rows of theirs."""
    with session() as s:
        s.exec(delete(CaseIndexKey).where(col(CaseIndexKey.case_id).in_(case_ids)))  # type: ignore[call-overload]
        s.exec(delete(CaseIndexEntry).where(col(CaseIndexEntry.case_id).in_(case_ids)))  # type: ignore[call-overload]


def rows(case_id: str) -> list[str]:
    """Every value the index keeps of a case, as text."""
    with session() as s:
        entry = s.get(CaseIndexEntry, case_id)
        keys = s.exec(select(CaseIndexKey).where(CaseIndexKey.case_id == case_id)).all()
        return [entry.model_dump_json() if entry else "", *(k.model_dump_json() for k in keys)]


async def test_reindex_writes_cases_started_before_the_index_once(
    env: WorkflowEnvironment, starter: Starter, tmp_path: Path
) -> None:
    number = f"KZ-REINDEX-{uuid.uuid4().hex[:8]}"
    received = (await env.get_current_time()).isoformat()
    app = json.loads((DEMO / "mvno_permit" / "application.json").read_text())
    code, out = await starter(
        "case", "start", "mvno_permit", str(DEMO / "mvno_permit" / "application.json"),
        f"application_number={number}", f"received_at={received}",
    )  # fmt: skip
    assert code == 0, out
    permit = case_id_in(out, "mvno_permit")
    complaint = json.loads((DEMO / "complaint" / "complaint.json").read_text())
    complaint.update(
        complaint_number=f"C-{uuid.uuid4().hex[:8]}", appealed_application_number=number, received_at=received
    )
    f = tmp_path / "complaint.json"
    f.write_text(json.dumps(complaint, ensure_ascii=False))
    code, out = await starter("complaint", "file", str(f), "--id-only")
    assert code == 0, out
    filed = out.strip().splitlines()[-1]
    iin = app["applicant"]["iin"]
    phone = complaint["complainant"]["phone"]
    assert permit in case_index.find(iin) and filed in case_index.find(phone)

    forget(permit, filed)
    assert not case_index.find(number, personal=False) and permit not in case_index.find(iin)

    # the time-skipping server has no visibility listing: the command says so and takes the cases by name
    code, out = await starter("cases", "reindex")
    assert code == 1 and "refused: this Temporal server cannot list workflows" in out
    code, out = await starter("cases", "reindex", "--case", permit, "--case", filed, "--case", "mvno_permit-nope")
    assert code == 1, out  # the unknown case is reported; the others are written
    assert "2 runs read: 2 cases written to the index, 0 completed, 0 already indexed, 1 failed" in out
    assert "not indexed: mvno_permit-nope (no such case)" in out
    assert iin not in out and phone.replace(" ", "") not in out.replace(" ", "")

    assert case_index.find(number, personal=False) == {permit}
    assert permit in case_index.find(iin) and filed in case_index.find(phone)
    assert filed in case_index.find(complaint["complainant"]["full_name"].split()[0])
    kept = " ".join(rows(permit) + rows(filed))
    for clear in (iin, "+77011234567", *complaint["complainant"]["full_name"].split()):
        assert clear not in kept  # keyed hashes only

    # idempotent: a second run writes nothing; a case missing a key is completed
    code, out = await starter("cases", "reindex", "--case", permit, "--case", filed)
    assert code == 0 and "2 runs read: 0 cases written to the index, 0 completed, 2 already indexed, 0 failed" in out
    with session() as s:
        s.exec(delete(CaseIndexKey).where(CaseIndexKey.case_id == filed, CaseIndexKey.kind == "phone"))  # type: ignore[call-overload]
    assert filed not in case_index.find(phone)
    code, out = await starter("cases", "reindex", "--procedure", "complaint", "--case", filed, "--case", permit)
    assert code == 1 and "1 runs read: 0 cases written to the index, 1 completed" in out
    assert f"not indexed: {permit} (not a case of these procedures)" in out
    assert filed in case_index.find(phone)
    for case in (permit, filed):
        await stop(env.client.get_workflow_handle(case))


async def test_deadline_names_the_act_option_and_refuses_a_day_outside_the_holiday_data(starter: Starter) -> None:
    code, out = await starter("cases", "deadline", "complaint.forward", "2026-12-15T18:31:00+05:00")
    assert code == 2 and "declared by acts 58, 665/NK" in out and "--act 58 or --act 665/NK" in out
    assert "act=" not in out
    code, out = await starter("cases", "deadline", "complaint.forward", "2026-12-15T18:31:00+05:00", "--act", "665/NK")
    # received after hours on the eve of Independence Day: registered on 17 December, due three working days on
    assert code == 0 and "2026-12-17" in out and "2026-12-22 18:30" in out
    # what is in brackets is printed as it is, not read as markup: the calendar and the law it was counted with
    assert "[calendar holidays-" in " ".join(out.split()) and "[law 665/NK/" in out, out
    # the holiday data ends (holidays 0.109: 1991-2100): past it a term would skip weekends only; refused, no traceback
    for received in ("2200-01-05T10:00:00+05:00", "9999-12-31T23:59:00+05:00", "0001-01-01T00:00:00+05:00"):
        code, out = await starter("cases", "deadline", "complaint.forward", received, "--act", "58")
        assert code == 2 and "days off for 1991–2100 only" in out and "Traceback" not in out
    # received in the last days of 2100, its term would run into 2101: refused too, not counted with weekends only
    code, out = await starter("cases", "deadline", "mvno.completeness_check", "2100-12-31T19:00:00+05:00")
    assert code == 2 and "2101-01-03 is outside 1991–2100" in out, out
    assert "RECEIVED_AT" in out and "Traceback" not in out
    # a receipt before the act was in force: the date is refused, not the term
    code, out = await starter("cases", "deadline", "mvno.completeness_check", "2023-03-01T18:45:00+05:00")
    assert code == 2 and "RECEIVED_AT" in out and "TERM_KEY" not in out, out


async def test_a_refused_setting_is_named_not_a_traceback(starter: Starter, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``KZ_*`` value the settings refuse (here the retry ceiling of 0 s) made every command end in a traceback
    that named the field, not the variable; it is now one line naming the variable, exit 2."""
    monkeypatch.setenv("KZ_TIMINGS__OUTSIDE_RETRY_CEILING", "0")
    code, out = await starter("cases", "deadline", "complaint.forward", "2026-12-15T18:31:00+05:00", "--act", "665/NK")
    assert code == 2 and "Traceback" not in out, out
    assert (
        "invalid setting: KZ_TIMINGS__OUTSIDE_RETRY_CEILING: Input should be greater than or equal to 1 second" in out
    )
