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
