"""The application as a whole (``api.app``): ``uvicorn api.app:app`` as ``scripts/up.py`` runs it starts with
Temporal unreachable, answers 503 for what needs Temporal, and its access log carries no query strings."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import httpx

from api.app import _NoQueryString
from api.auth import create_key
from tests.e2e.procs import free_port, launch, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_starts_while_temporal_is_down_and_logs_no_query_strings(tmp_path: Path) -> None:
    port, dead = free_port(), free_port()
    key, _ = create_key("process test", ["staff"])
    log = tmp_path / "api.log"
    args = ["-m", "uvicorn", "api.app:app", "--port", str(port)]
    cmd, env = launch(args, {**os.environ, "TEMPORAL_ADDRESS": f"127.0.0.1:{dead}"}, forked=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_answering(proc, f"http://127.0.0.1:{port}", log, seconds=30)
            with httpx.Client() as http:
                r = http.get(
                    f"http://127.0.0.1:{port}/v1/cases",
                    params={"status": "secret_900101300126"},
                    headers={"X-API-Key": key},
                    timeout=20,
                )
                assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
                assert http.get(f"http://127.0.0.1:{port}/console/login").status_code == 200
                # a number put where an id goes is neither logged nor repeated in the problem's instance
                for path in ("/v1/cases/900101300126", "/v1/cases/%2B77011234567/timeline"):
                    r = http.get(f"http://127.0.0.1:{port}{path}", headers={"X-API-Key": key}, timeout=20)
                    assert r.status_code in (422, 503) and r.json()["instance"].startswith("/v1/cases/…"), r.text
                    assert "900101300126" not in r.text and "77011234567" not in r.text
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    text = log.read_text()
    assert "GET /v1/cases HTTP/1.1" in text and "503" in text
    assert "900101300126" not in text and "?" not in text.split("GET /v1/cases")[1].split("\n")[0]
    assert "77011234567" not in text and "GET /v1/cases/…/timeline HTTP/1.1" in text


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
    case = "fraud_check-7e9eda5db444053f077e"  # our case ids show
    for path, shown in (
        ("/v1/cases/900101300126/timeline", "/v1/cases/…/timeline"),
        (f"/v1/procedures/x/cases/8-701-123-45-67/events/e?q={case}", "/v1/procedures/x/cases/…/events/e"),
        (f"/console/cases/{case}", f"/console/cases/{case}"),
        ("/v1/cases/fraud_check-900101300126abcdabcd", "/v1/cases/…"),  # our ids' shape exempts nothing
    ):
        record.args = ("127.0.0.1:5000", "GET", path, "1.1", 404)
        assert _NoQueryString().filter(record) and f"GET {shown} HTTP" in record.getMessage()
    assert "_NoQueryString" in {type(f).__name__ for f in logging.getLogger("uvicorn.access").filters}
