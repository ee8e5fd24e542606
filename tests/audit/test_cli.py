"""The auditors' command line (``audit.cli``): the report and the replay work offline on exported files."""

from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit import cli
from audit.export import CaseRun
from audit.history import load_history, save_history
from audit.replay import Replay
from infra.codec import ENCODING
from infra.sandbox import SANDBOX
from tests.audit.conftest import Recorded
from tests.audit.probe import AuditProbe, AuditProbeChanged


def test_cli_report_and_replay_work_offline_on_exported_files(
    recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for h in (recorded.late, recorded.on_time):
        save_history(h, tmp_path / "export" / f"{h.workflow_id}.json")
    exported = (tmp_path / "export" / f"{recorded.late.workflow_id}.json").read_text()
    assert base64.b64encode(ENCODING).decode() in exported  # payloads stay encrypted in exported files
    assert load_history(tmp_path / "export" / f"{recorded.late.workflow_id}.json").events == recorded.late.events

    runner = CliRunner()
    res = runner.invoke(cli.app, ["report", str(tmp_path / "export"), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert rep["histories"] == 2 and len(rep["overruns"]) == 1
    assert rep["scope"]["files"] == [str(tmp_path / "export")]  # what the figures cover
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "service_term" in html and f"history files {tmp_path / 'export'}" in " ".join(html.split())

    monkeypatch.setattr(cli, "Replay", lambda: Replay([AuditProbe], runner=SANDBOX))
    res = runner.invoke(cli.app, ["replay", str(tmp_path / "export"), "--json", str(tmp_path / "replay.json")])
    assert res.exit_code == 0, res.output
    outcomes = json.loads((tmp_path / "replay.json").read_text())
    assert [o["reproduced"] for o in outcomes] == [True, True]
    # each row names its run: an id can name several cases (a number reported again after its case closed)
    runs = {h.workflow_id: h.run_id for h in (recorded.late, recorded.on_time)}
    assert {o["case_id"]: o["run_id"] for o in outcomes} == runs
    assert all(run.split("-")[0] in res.output for run in runs.values()), res.output  # the table folds a long id
    # the folder given twice, and a file of it again: each history read once (they were counted twice, their overruns
    # too: an adversarial run, 2026-12-04)
    one = tmp_path / "export" / f"{recorded.late.workflow_id}.json"
    args = ["report", str(tmp_path / "export"), str(tmp_path / "export"), str(one), "--out", str(tmp_path / "rep2")]
    assert runner.invoke(cli.app, args).exit_code == 0
    again = json.loads((tmp_path / "rep2" / "report.json").read_text())
    assert again["histories"] == 2 and len(again["overruns"]) == 1 and len(again["cases"]) == 2

    monkeypatch.setattr(cli, "Replay", lambda: Replay([AuditProbeChanged], runner=SANDBOX))
    res = runner.invoke(cli.app, ["replay", str(tmp_path / "export")])
    assert res.exit_code == 1 and "0 of 2 cases reproduce" in res.output


def test_the_report_and_the_administrative_case_follow_the_auditors_language(
    recorded: Recorded, tmp_path: Path
) -> None:
    """Issue 17 item 8: ``--lang kk|ru|en``; the act's title from the law data in that language, no English heading
    left where the catalogue translates it."""
    from markupsafe import escape

    from api.i18n import catalogue
    from rules import law

    save_history(recorded.late, tmp_path / "export" / f"{recorded.late.workflow_id}.json")
    runner = CliRunner()
    version = recorded.late_view.registration.act_version_id  # type: ignore[union-attr]
    for lang in ("kk", "ru", "en"):
        res = runner.invoke(
            cli.app, ["report", str(tmp_path / "export"), "--out", str(tmp_path / lang), "--lang", lang]
        )
        assert res.exit_code == 0, res.output
        html = (tmp_path / lang / "report.html").read_text()
        assert f'<html lang="{lang}">' in html and str(escape(law.act_title(version, lang))) in html
        res = runner.invoke(
            cli.app, ["admin-case", str(tmp_path / "export" / f"{recorded.late.workflow_id}.json"),
                      "--out", str(tmp_path / f"{lang}.zip"), "--lang", lang],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        case_html = zipfile.ZipFile(tmp_path / f"{lang}.zip").read("case.html").decode()
        assert f'<html lang="{lang}">' in case_html and str(escape(law.act_title(version, lang))) in case_html
        if lang == "en":
            assert "<h1>Compliance report</h1>" in html and "<h2>Legal terms</h2>" in case_html
            continue
        cat = catalogue(lang)
        assert f"<h1>{cat['Compliance report']}</h1>" in html and f"<h2>{cat['Overruns']} (1)</h2>" in html
        assert f"<h2>{cat['Legal terms']}</h2>" in case_html and f"<h2>{cat['Every event']}</h2>" in case_html
        for english in ("Compliance report", "Per procedure", "share met on time", "how it was counted"):
            assert f">{english}<" not in html
        # each term's count explained in the language too (the JSON report keeps the English sentence)
        assert cat["{n} working days"].split("{n}")[-1].strip() in html and "working days (" not in html
        # and the overrun's reason, in the report and the administrative case (the JSON keeps it in English)
        said_due = cat["due {due}, breached {breached}, still not done"].split("{due}")[0]
        said_due = said_due[:1].upper() + said_due[1:]  # a sentence begins with a capital
        assert f"<td>{said_due}" in html and "<td>due " not in html
        assert f"<small>{said_due}" in case_html and "<small>due " not in case_html
        report_json = json.loads((tmp_path / lang / "report.json").read_text())
        assert report_json["overruns"][0]["reason"].startswith("Due ")
        for english in ("Legal terms", "Decisions and events accepted", "governing act", "The case is still open."):
            assert f">{english}<" not in case_html
        # the application's fields under the labels the console's forms give them in the language
        assert f"<th>{cat['Applicant']} › {cat['Full name']}</th>" in case_html, case_html
        assert "<th>Applicant" not in case_html
        # and every event of the case file in the language (case.json keeps the English)
        assert cat["Application received (workflow started)"] in case_html
        for english in ("Application received", "Event accepted:", "Requested:", "Status:", "Timer "):
            assert f"<td>{english}" not in case_html, english
    res = runner.invoke(cli.app, ["report", str(tmp_path / "export"), "--out", str(tmp_path / "x"), "--lang", "de"])
    assert res.exit_code == 2


def _said(output: str) -> str:
    """A command's output as one line (rich and click wrap and box it)."""
    return " ".join(output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["report", "--procedure", "mvno_permits"], "'--procedure': no procedure 'mvno_permits'; one of: mvno_permit,"),
        (["replay", "--case-status", "nosuchstatus"], "'--case-status': no procedure has the status 'nosuchstatus'"),
        (["export", "x", "-p", "complaint", "--case-status", "permit_valid"], "complaint has no status 'permit_valid'"),
        (["replay", "--since", "2027-02-01T00:00:00+05:00", "--until", "2027-01-01"], "'--until': 2027-01-01 is not"),
        (["report", "--status", "running"], "'--status': 'running' is not one of Running,"),
        (["report", "exports", "--procedure", "mvno_permit"], "'--procedure': chooses among the server's cases"),
        (["export", "x", "--case", "c1", "--status", "Running"], "'--status': is not a filter of --case;"),
        (["replay", "--query", "KzStatus = 'refused'", "-p", "complaint"], "'--procedure': is not a filter of --query"),
        (["report", "--case", "c1", "--query", "KzStatus = 'x'"], "'--query': is not a filter of --case; give one"),
    ],
)
def test_a_selection_that_could_match_nothing_is_a_usage_error(
    args: list[str], said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mistyped procedure or status, an inverted period, a filter given with files, with cases named or with a raw
    query (it was ignored silently): exit 2 before any server is asked, one line naming the option (no report reading
    "every decided term was met on time")."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exports").mkdir()
    res = CliRunner().invoke(cli.app, [*args, "--out", "r"] if args[0] == "report" else args, catch_exceptions=False)
    assert res.exit_code == 2 and said in _said(res.output), res.output
    assert not (tmp_path / "r").exists()


def test_a_selection_that_matches_no_case_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing matched is said plainly with what was asked: replay fails (nothing was checked); the report is written
    with its scope and says that no case matches it, never that every term was met on time."""
    (tmp_path / "empty").mkdir()
    runner = CliRunner()
    res = runner.invoke(cli.app, ["replay", str(tmp_path / "empty")])
    said = f"no case matches: no history file (*.json) in {tmp_path / 'empty'}"
    assert res.exit_code == 1 and said in _said(res.output) and "cases reproduce" not in res.output

    async def no_server() -> None:
        return None

    async def no_case(client: object, query: str) -> list[CaseRun]:
        return []

    monkeypatch.setattr(cli, "_client", no_server)
    monkeypatch.setattr(cli, "list_cases", no_case)
    args = ["report", "-p", "mvno_permit", "--since", "2027-01-01", "--case-status", "refused"]
    res = runner.invoke(cli.app, [*args, "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    said = "no case matches: KzProcedure = 'mvno_permit' AND StartTime >= '2027-01-01T00:00:00+05:00'"
    assert said in _said(res.output) and "overruns" not in res.output
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert rep["histories"] == 0 and rep["scope"]["procedure"] == "mvno_permit"
    assert (rep["scope"]["since"], rep["scope"]["case_status"]) == ("2027-01-01T00:00:00+05:00", "refused")
    html = " ".join((tmp_path / "rep" / "report.html").read_text().split())
    assert "No case matches this scope" in html and "every decided term was met on time" not in html
    assert "started ≥ 2027-01-01 00:00 +05:00" in html and "status refused" in html
    res = runner.invoke(cli.app, ["export", str(tmp_path / "exp"), "-p", "complaint"])
    assert res.exit_code == 0 and "no case matches: KzProcedure = 'complaint'" in _said(res.output)
    assert "exported 0" not in res.output


def test_an_out_folder_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    """``--out`` of the report, and export's folder, naming a file: one line and exit 2, no traceback."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "afile").touch()
    for args in (
        ["report", str(tmp_path / "empty"), "--out", str(tmp_path / "afile")],
        ["export", str(tmp_path / "afile"), "--case", "x"],
    ):
        res = CliRunner().invoke(cli.app, args)
        unwrapped = "".join(res.output.replace("│", "").split())  # rich breaks a long path anywhere
        assert res.exit_code == 2 and "is a file; give a folder" in _said(res.output), res.output
        assert f"{tmp_path / 'afile'}isafile" in unwrapped, res.output
    # a folder holding a report: refused before any history is read, the earlier report kept (it was overwritten)
    res = CliRunner().invoke(cli.app, ["report", str(tmp_path / "empty"), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    written = (tmp_path / "rep" / "report.json").read_bytes()
    res = CliRunner().invoke(cli.app, ["report", str(tmp_path / "empty"), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 2 and "holds a report already (report.html, report.json); give a new folder" in _said(
        res.output
    ), res.output
    assert (tmp_path / "rep" / "report.json").read_bytes() == written
    # replay's --json: a folder, or a file written before, is refused before any history is read (a traceback after
    # the whole replay, and an earlier file overwritten)
    for target, said in ((tmp_path / "empty", "is a folder; give a file name"), (tmp_path / "afile", "exists")):
        res = CliRunner().invoke(cli.app, ["replay", str(tmp_path / "empty"), "--json", str(target)])
        assert res.exit_code == 2 and said in _said(res.output), res.output
        assert isinstance(res.exception, SystemExit)
    # a folder that cannot be made (under a file, or where nothing may be made) was a traceback after the work; an
    # export into a folder holding histories overwrote them (an adversarial run, 2026-12-05)
    for args, said in (
        (["report", str(tmp_path / "empty"), "--out", str(tmp_path / "afile" / "sub")], "cannot be made: Not a dir"),
        (["export", str(tmp_path / "afile" / "sub"), "--case", "x"], "cannot be made: Not a directory"),
        (["export", "/proc/nope/deeper", "--case", "x"], "cannot be made:"),
        (["replay", str(tmp_path / "empty"), "--json", str(tmp_path / "afile" / "x.json")], "is a file, not a folder"),
        (
            ["export", str(tmp_path / "rep"), "--case", "x"],
            "holds 1 .json file(s) already (an export writes CASE_ID.json); give a new folder",
        ),
    ):
        res = CliRunner().invoke(cli.app, args)
        assert res.exit_code == 2 and said in _said(res.output), res.output
    made = tmp_path / "new" / "deeper"
    res = CliRunner().invoke(cli.app, ["export", str(made), "--case", "c1", "--status", "Running"])
    assert res.exit_code == 2 and "is not a filter of --case" in _said(res.output), res.output
    assert not (tmp_path / "new").exists()  # the folder tried by the check is not left behind by a refused command
