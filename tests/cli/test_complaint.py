"""The complaint commands of ``starter.py`` against the time-skipping server."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from cli.case import start_input
from infra.cases import CaseError, check_intake
from models.complaint import ComplaintInput
from tests.cases import stop
from tests.cli.conftest import Starter
from workflows.complaint import SPEC

DEMO = Path(__file__).resolve().parents[2] / "demo" / "complaint" / "complaint.json"


async def test_file_show_withdraw_and_errors(env: WorkflowEnvironment, starter: Starter, tmp_path: Path) -> None:
    data = json.loads(DEMO.read_text())
    del data["appealed_application_number"]  # a complaint standing alone (the demo permit is not started here)
    data["complaint_number"] = "KZ-C-CLI-1"
    data["received_at"] = (await env.get_current_time() + timedelta(hours=1)).isoformat()
    f = tmp_path / "complaint.json"
    f.write_text(json.dumps(data, ensure_ascii=False))

    code, out = await starter("complaint", "file", str(f))
    assert code == 0 and "filed:" in out
    case_id = out.split("filed:")[1].split()[0]
    assert data["complainant"]["iin"] not in case_id
    code, again = await starter("complaint", "file", str(f))
    assert code == 0 and f"already filed: {case_id}" in again

    await env.sleep(timedelta(seconds=2))
    code, out = await starter("complaint", "show", case_id)
    flat = " ".join(out.split())
    assert code == 0 and "provider_review" in flat and "withdraw, satisfy, forward" in flat
    assert "Law on public services art. 25 p.2" in flat

    code, out = await starter("complaint", "decide", case_id, "--outcome", "upheld", "--reasons", "x", "--by", "y")
    assert code == 1 and "does not fit" in out
    code, out = await starter("complaint", "withdraw", case_id, "--reason", "settled")
    assert code == 0 and "withdrawn" in out

    bad = dict(data, complainant={**data["complainant"], "iin": "900101300127"})
    f.write_text(json.dumps(bad))
    code, out = await starter("complaint", "file", str(f))
    assert code == 1 and "complainant.iin" in out and "check digit" in out
    f.write_text("{not json")
    code, out = await starter("complaint", "file", str(f))
    assert code == 1 and "not valid JSON" in out


async def test_14_11_the_quality_bodys_term_is_shown_with_the_acts_p10(
    env: WorkflowEnvironment, starter: Starter, tmp_path: Path
) -> None:
    data = json.loads(DEMO.read_text())
    del data["appealed_application_number"]  # a complaint standing alone (the demo permit is not started here)
    data["complaint_number"] = "KZ-C-CLI-14-11"
    data["addressed_to"] = "quality_body"
    data["received_at"] = (await env.get_current_time() + timedelta(hours=1)).isoformat()
    f = tmp_path / "complaint.json"
    f.write_text(json.dumps(data, ensure_ascii=False))
    code, out = await starter("complaint", "file", str(f), "--id-only")
    assert code == 0
    case_id = out.strip().splitlines()[-1]
    await env.sleep(timedelta(seconds=2))
    code, out = await starter("complaint", "show", case_id)
    flat = " ".join(out.split())
    assert code == 0 and "665/NK p.10" in flat and "art. 25" not in flat
    code, out = await starter("case", "events", "complaint")
    flat = " ".join(out.split())
    assert code == 0 and "review_decision — Decision of the considering body (58 p.10; 665/NK p.10)" in flat
    code, out = await starter("complaint", "withdraw", case_id, "--reason", "test over")
    assert code == 0


async def test_the_demo_complaint_names_the_appealed_case_by_its_application_number(
    env: WorkflowEnvironment, starter: Starter, tmp_path: Path
) -> None:
    """Case ids are keyed per installation, so a complaint file names the appealed case by the number its applicant
    knows; the start resolves it through the search index and the complaint records both."""
    number = f"KZ-MVNO-APPEALED-{uuid.uuid4().hex[:6].upper()}"
    received = (await env.get_current_time()).isoformat()
    permit_file = str(DEMO.parents[1] / "mvno_permit" / "application.json")
    code, out = await starter(
        "case", "start", "mvno_permit", permit_file, f"application_number={number}", f"received_at={received}",
        "--id-only",
    )  # fmt: skip
    assert code == 0, out
    permit = out.strip().splitlines()[-1]

    data = json.loads(DEMO.read_text())
    assert data["appealed_application_number"] == "DEMO-MVNO-0001" and "appealed_case_id" not in data
    data.update(complaint_number=f"KZ-C-NUM-{uuid.uuid4().hex[:6]}", received_at=received)
    f = tmp_path / "complaint.json"
    f.write_text(json.dumps(data, ensure_ascii=False))
    # the demo permit is not started on this server: the number names no case here, and nothing starts
    code, out = await starter("complaint", "file", str(f))
    assert code == 1 and "appealed_application_number: no case with this application number is known" in out
    # the number is not quoted back: a caller may have put an IIN there (the second adversarial run of 2026-12-03)
    code, out = await starter("case", "start", "complaint", str(f), "appealed_application_number=900101300126")
    assert code == 1 and "no case with this application number" in out and "900101300126" not in out, out

    code, out = await starter(
        "case", "start", "complaint", str(f), f"appealed_application_number={number.lower()}", "--id-only"
    )
    assert code == 0, out
    complaint = out.strip().splitlines()[-1]
    await env.sleep(timedelta(seconds=2))
    handle = env.client.get_workflow_handle(complaint)
    started = await anext(aiter(handle.fetch_history_events()))
    inp = (
        await env.client.data_converter.decode(
            started.workflow_execution_started_event_attributes.input.payloads, [ComplaintInput]
        )
    )[0]
    assert inp.appealed_case_id == permit and inp.appealed_application_number == number.lower()
    code, out = await starter("complaint", "show", complaint)
    assert code == 0 and permit in out

    # a case id given as well must be the same case
    code, out = await starter(
        "case", "start", "complaint", str(f), f"appealed_application_number={number}",
        "appealed_case_id=mvno_permit-other",
    )  # fmt: skip
    assert code == 1 and "appealed_case_id and appealed_application_number name different cases" in out
    # an act the appealed case contradicts is refused, naming the field the caller gave (it named appealed_case_id)
    code, out = await starter(
        "case", "start", "complaint", str(f), f"appealed_application_number={number}", "act_key=58"
    )  # fmt: skip
    assert code == 1 and "act_key: the case named by appealed_application_number is under act 665/NK" in out, out

    # a case id alone must name a case that exists: a complaint about no case would be forwarded without the
    # administrative case, its term recorded as met
    by_id = {k: v for k, v in data.items() if k != "appealed_application_number"}
    for missing in ("mvno_permit-ffffffffffffffffffff", "../../etc/passwd"):
        f.write_text(json.dumps({**by_id, "appealed_case_id": missing}, ensure_ascii=False))
        code, out = await starter("case", "start", "complaint", str(f))
        assert code == 1 and "appealed_case_id: no such case is known here" in out, out
    # the first complaint a complaint about a complaint body's inaction names must exist as well
    about = {**by_id, "appealed_case_id": permit, "appealed": "inaction", "about_complaint_id": "../../etc/passwd"}
    f.write_text(json.dumps(about, ensure_ascii=False))
    code, out = await starter("case", "start", "complaint", str(f))
    assert code == 1 and "about_complaint_id: no such case is known here" in out, out

    # an invisible character (a control, a direction override that turns the IIN around on a signed document) is
    # refused at the edge, named by its field and code point, the text never echoed
    f.write_text(json.dumps({**by_id, "appealed_case_id": permit}, ensure_ascii=False))
    for hidden in ("\u202e", "\u061c", "\u200b", "\ufeff", "\u00ad"):  # overrides, marks, zero-width characters
        name = f"Асанов Асан{hidden} 900101 300126"
        code, out = await starter("case", "start", "complaint", str(f), f"complainant.full_name={name}")
        assert code == 1 and f"complainant.full_name: holds the invisible character U+{ord(hidden):04X}" in out, out
        assert name not in out
    code, out = await starter("case", "send", complaint, "satisfy", "decided_by=Head\x00", "action_taken=Accepted")
    assert code == 1 and "decided_by: holds the invisible character U+0000" in out, out
    for case in (complaint, permit):
        await stop(env.client.get_workflow_handle(case))


def test_the_command_line_leaves_a_complaints_law_check_to_the_start() -> None:
    """A complaint's act comes from the case it appeals, known only once the start reads that case: the command line
    checked the law of the receipt's day before, under the default act, and refused a complaint about a number
    connected under 58 in June 2024 as "665/NK is not in force" where the API took it (an adversarial run,
    2026-12-03). The start checks the law once the act is filled in (``tests/workflows/test_complaint.py``)."""
    raw = json.loads(DEMO.read_text())
    del raw["appealed_application_number"]
    raw.update(appealed_case_id="egov_number_connection-0123456789abcdef0123", received_at="2024-06-03T10:00:00+05:00")
    inp = start_input(SPEC, raw)
    assert isinstance(inp, ComplaintInput) and inp.act_key is None
    with pytest.raises(CaseError, match="665/NK is not in force on 2024-06-03"):
        check_intake(SPEC, inp)  # what the command line did, under the default act
