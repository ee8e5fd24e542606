"""The administrative case of a recorded case (``audit.admin_case``): built from its history, bundled with its
documents checked against their SHA-256, the documents taken from our document store."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit import cli
from audit.admin_case import build_admin_case, render_admin_case
from audit.history import save_history
from tests.audit.conftest import PERSON_LATE, Recorded
from tests.audit.probe import DOCUMENTS


def test_admin_case_from_history(recorded: Recorded) -> None:
    case = build_admin_case(recorded.late)
    assert case.application["applicant"] == PERSON_LATE
    assert case.registration and case.registration["act_version_id"] == recorded.late_view.registration.act_version_id  # type: ignore[union-attr]
    assert [(d.name, d.answer) for d in case.decisions] == [
        ("hold_hearing", case.decisions[0].answer),
        ("decide", "recorded"),
    ]
    assert case.decisions[0].input["place"] == "Astana" and case.decisions[0].answer.startswith("hearing on ")
    assert case.documents == recorded.late_view.documents  # found in the activity's result in the history
    kinds = {e.kind for e in case.events}
    assert {
        "application",
        "update",
        "update_result",
        "activity",
        "activity_result",
        "local_activity",
        "timer_started",
        "timer_fired",
        "memo",
        "status",
        "outcome",
    } <= kinds
    assert case.terms[0].outcome == "met_late" and case.terms[0].reason


def test_admin_case_bundle(recorded: Recorded) -> None:
    case = build_admin_case(recorded.late)
    [doc] = case.documents
    bundle = render_admin_case(case, lambda ref: DOCUMENTS[ref.doc_id])
    assert bundle == render_admin_case(build_admin_case(recorded.late), lambda ref: DOCUMENTS[ref.doc_id])
    zf = zipfile.ZipFile(io.BytesIO(bundle))
    manifest = json.loads(zf.read("manifest.json"))
    [listed] = manifest["documents"]
    assert listed["included"] and zf.read(listed["path"]) == DOCUMENTS[doc.doc_id]
    for f in manifest["files"]:
        import hashlib

        assert hashlib.sha256(zf.read(f["path"])).hexdigest() == f["sha256"]
    html = zf.read("case.html").decode()
    assert PERSON_LATE["full_name"] in html and "665/NK Annex 1 item 4" in html and "hold_hearing" in html
    assert json.loads(zf.read("case.json"))["case_id"] == recorded.late.workflow_id

    with pytest.raises(ValueError, match="do not match the SHA-256"):
        render_admin_case(case, lambda ref: DOCUMENTS[ref.doc_id] + b"tampered")
    without = zipfile.ZipFile(io.BytesIO(render_admin_case(case)))
    assert json.loads(without.read("manifest.json"))["documents"][0]["included"] is False


def test_admin_case_documents_from_our_document_store(recorded: Recorded, tmp_path: Path) -> None:
    import hashlib

    from audit.admin_case import fetch_from_store
    from infra.store import store_document

    [ref] = build_admin_case(recorded.late).documents
    body = DOCUMENTS[ref.doc_id]
    store_document(
        doc_id=ref.doc_id,
        case_id=recorded.late.workflow_id,
        kind=ref.kind,
        title=ref.title,
        cite=ref.cite,
        content=body,
        sha256=hashlib.sha256(body).hexdigest(),
        created_at=ref.created_at,
    )
    assert fetch_from_store(ref) == body
    with pytest.raises(ValueError, match="not in the document store"):
        fetch_from_store(ref.model_copy(update={"doc_id": "missing"}))

    save_history(recorded.late, tmp_path / "late.json")
    res = CliRunner().invoke(
        cli.app, ["admin-case", str(tmp_path / "late.json"), "--documents", "--out", str(tmp_path / "case.zip")]
    )
    assert res.exit_code == 0, res.output
    zf = zipfile.ZipFile(tmp_path / "case.zip")
    assert zf.read(f"documents/{ref.doc_id}") == body
    written = (tmp_path / "case.zip").read_bytes()
    for out, said in (
        (tmp_path / "no such folder" / "case.zip", "does not exist"),
        (tmp_path, "is a folder"),
        (tmp_path / "case.zip", "exists; give a new file name"),  # a case file written earlier is never overwritten
    ):
        res = CliRunner().invoke(cli.app, ["admin-case", str(tmp_path / "late.json"), "--out", str(out)])
        assert res.exit_code == 2 and said in " ".join(res.output.replace("│", " ").split()), (
            res.output
        )  # a clear error, not a traceback
        assert isinstance(res.exception, SystemExit)
    assert (tmp_path / "case.zip").read_bytes() == written


def test_a_patch_marker_reads_as_the_procedure_version_the_case_took() -> None:
    """A ``workflow.patched`` marker read ``MarkerRecorded core_patch`` in the administrative case, in every
    language: it names the code path the case took from there, said in the page's language."""
    from temporalio.client import WorkflowHistory

    from audit.admin_case import event_title
    from tests.golden_tools import GOLDEN

    doc = json.loads((GOLDEN / "complaint" / "rejected_after_holding_the_window.json").read_text())
    case = build_admin_case(WorkflowHistory.from_json(doc["workflow_id"], doc["history"]))
    markers = [e for e in case.events if e.kind == "marker"]
    assert markers and all(e.name == "core_patch" for e in markers)
    first = markers[0]
    assert first.title == "Procedure version recorded: deadline-waits-wake-only-on-moved-due"
    assert event_title(first, "ru") == "Записана версия процедуры: deadline-waits-wake-only-on-moved-due"
    assert not any("MarkerRecorded" in event_title(e, lang) for e in markers for lang in ("kk", "ru", "en"))
