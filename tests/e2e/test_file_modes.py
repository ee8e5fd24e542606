"""Files after a real run (issue 15 item 9): ``scripts/up.py`` started with a lax umask on a fresh data
directory runs the dev server, the worker, the API and the demo; the data directory is then 0700 and every file in
it — our SQLite file and its WAL/SHM, Temporal's, the key files, the demo keys, the logs — is 0600."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.procs import ROOT, free_port

pytestmark = pytest.mark.e2e

EXPECTED = (
    "engine.db",
    "engine.db-wal",
    "engine.db-shm",
    "temporal.db",
    "codec-keys.json",
    "pseudonym-key",
    "session-secret",
    "demo-keys.json",
    "logs/temporal.log",
    "logs/worker.log",
    "logs/api.log",
)


def modes(data: Path) -> dict[str, int]:
    return {str(p.relative_to(data)): stat.S_IMODE(p.lstat().st_mode) for p in [data, *data.rglob("*")]}


def test_after_a_real_run_the_data_dir_is_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"  # does not exist yet: up.py makes it
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KZ_") and k != "TEMPORAL_ADDRESS"}
    env["KZ_DATA_DIR"] = str(data)
    env["KZ_METRICS_ADDRESS"] = f"127.0.0.1:{free_port()}"  # not 9464: a stack of the reader's own may hold it
    out = tmp_path / "up.out"
    cmd = [
        sys.executable,
        "scripts/up.py",
        "--api-port",
        str(api_port),
        "--temporal-port",
        str(free_port()),
        "--ui-port",
        str(free_port()),
    ]
    with out.open("wb") as log:
        up = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, umask=0o022)
    try:
        deadline = time.monotonic() + 240
        while "[up] running" not in out.read_text(errors="replace"):
            assert up.poll() is None, out.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, out.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        assert httpx.get(f"http://127.0.0.1:{api_port}/healthz", timeout=10).status_code == 200
        running = modes(data)
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
    after = modes(data)
    for name in EXPECTED:
        assert name in running, f"{name} missing; found {sorted(running)}"
    for when, seen in (("while running", running), ("after Ctrl-C", after)):
        assert seen["."] == 0o700 and seen["logs"] == 0o700, when
        loose = {name: oct(mode) for name, mode in seen.items() if mode & 0o077}
        assert not loose, f"{when}, readable by group or others: {loose}"
