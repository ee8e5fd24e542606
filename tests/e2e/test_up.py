"""``scripts/up.py`` as a process: killed, it takes the dev server, the worker and the API with it (a stack left
behind held the ports and the next run's worker could not start); a service that dies at its start ends it with the
service's name instead of a wait for demo cases no worker will run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.procs import ROOT, free_port

pytestmark = pytest.mark.e2e


def _up(tmp_path: Path, metrics: str, *extra: str) -> tuple[subprocess.Popen[bytes], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KZ_") and k != "TEMPORAL_ADDRESS"}
    env.update(KZ_DATA_DIR=str(tmp_path / "data"), KZ_METRICS_ADDRESS=metrics)
    ports = ["--api-port", str(free_port()), "--temporal-port", str(free_port()), "--ui-port", str(free_port())]
    out = tmp_path / "up.out"
    with out.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "scripts/up.py", *ports, *extra], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    return proc, out


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="the children learn of up.py's death from Linux (PR_SET_PDEATHSIG)")
def test_a_killed_up_leaves_no_server_worker_or_api_behind(tmp_path: Path) -> None:
    up, out = _up(tmp_path, f"127.0.0.1:{free_port()}", "--no-demo")
    try:
        deadline = time.monotonic() + 120
        while "[up] running" not in out.read_text(errors="replace"):
            assert up.poll() is None and time.monotonic() < deadline, out.read_text(errors="replace")[-3000:]
            time.sleep(0.3)
        services = _children(up.pid)
        assert len(services) == 3, services  # the dev server, the worker, the API
        up.send_signal(signal.SIGKILL)  # no Ctrl-C, no clean-up of its own
        up.wait()
        deadline = time.monotonic() + 60
        while any(_alive(pid) for pid in services):
            assert time.monotonic() < deadline, [pid for pid in services if _alive(pid)]
            time.sleep(0.2)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()


def test_a_worker_that_cannot_start_ends_up_with_its_name(tmp_path: Path) -> None:
    with socket.socket() as taken:  # the worker's metrics port, held by another process
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        host, port = taken.getsockname()
        up, out = _up(tmp_path, f"{host}:{port}")  # with the demo, which would wait for its cases
        try:
            assert up.wait(timeout=120) == 1
        finally:
            if up.poll() is None:
                up.kill()
                up.wait()
    text = out.read_text(errors="replace")
    assert "[up] worker exited with 1; see" in text and "worker.log" in text, text[-3000:]
    assert "[up] running" not in text
    assert "KZ_METRICS_ADDRESS" in (tmp_path / "data" / "logs" / "worker.log").read_text()
