"""The auditors' command line (``audit.cli``): the report and the replay work offline on exported files."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audit import cli
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
    assert "service_term" in (tmp_path / "rep" / "report.html").read_text()

    monkeypatch.setattr(cli, "Replay", lambda: Replay([AuditProbe], runner=SANDBOX))
    res = runner.invoke(cli.app, ["replay", str(tmp_path / "export"), "--json", str(tmp_path / "replay.json")])
    assert res.exit_code == 0, res.output
    assert [o["reproduced"] for o in json.loads((tmp_path / "replay.json").read_text())] == [True, True]

    monkeypatch.setattr(cli, "Replay", lambda: Replay([AuditProbeChanged], runner=SANDBOX))
    res = runner.invoke(cli.app, ["replay", str(tmp_path / "export")])
    assert res.exit_code == 1 and "0 of 2 cases reproduce" in res.output
