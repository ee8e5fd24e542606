#!/usr/bin/env python3
"""Run the whole test suite (creates the virtual environment if missing). Extra arguments go to pytest."""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap import reexec_in_venv

NATIVE_ABORT = {134, -6}  # SIGABRT from the SDK's native runtime at interpreter exit (DESIGN pitfalls)


def ensure_debian_packages() -> None:
    """Install the system packages the suite uses (PostgreSQL server) when missing and we may (root, apt).

    The tests that need them skip with a clear reason when they are still missing.
    """
    if glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"):
        return
    if os.environ.get("KZ_NO_APT") or os.geteuid() != 0 or not shutil.which("apt-get"):
        print(
            "[test] PostgreSQL server not installed: the PostgreSQL variant of the store tests will be skipped",
            file=sys.stderr,
        )
        return
    print("[test] installing Debian's postgresql package for the PostgreSQL store tests", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
            check=True,
            env=env,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"[test] could not install postgresql ({exc}); those tests will be skipped", file=sys.stderr)


def parallel(args: list[str]) -> list[str]:
    """pytest-xdist's options, unless the caller chose (``-n``, ``-p no:xdist``): the test files run on several
    processes, one file per process at a time (its module fixtures stay shared), in the order the suite chose (the
    longest first: tests/file_order.py); most of an e2e test's time is waiting on servers, so twice the cores pays.
    ``KZ_TEST_PROCESSES`` overrides the count."""
    if any(a.startswith(("-n", "--numprocesses", "--dist")) for a in args) or "no:xdist" in args:
        return []
    n = os.environ.get("KZ_TEST_PROCESSES") or str(2 * (os.cpu_count() or 1))
    return ["-n", n, "--dist", "loadfile", "--no-loadscope-reorder"]


def bytecode_written() -> dict[str, str]:
    """The suite's environment without ``PYTHONDONTWRITEBYTECODE`` (this project's sandbox sets it): pytest then keeps
    the test modules it rewrote for its assertions (``__pycache__/*-pytest-*.pyc``), where every test process
    parsed and rewrote all of them again on every run (collection 14 → 7 s of CPU a process, four processes), and the
    processes the tests start keep what they compile."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def adopt_orphans() -> bool:
    """Make this process the one orphaned descendants are handed to (Linux ``PR_SET_CHILD_SUBREAPER``), so that
    ``end_orphans`` finds them; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(36, 1, 0, 0, 0) == 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def end_orphans() -> int:
    """Kill what the test processes left running, and say what it was: a server whose test process was ended by
    pytest-timeout (its thread method ends the process at once, with no teardown) would otherwise outlive the run,
    holding its ports and, through inherited output, keep whoever reads the run's output waiting for ever."""
    ended: Counter[str] = Counter()
    for _ in range(10):  # an orphan's own children are handed here in turn
        mine = _children(os.getpid())
        if not mine:
            break
        for pid, name in mine.items():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                ended[name] += 1
        for pid in mine:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    if ended:
        said = ", ".join(f"{name} ×{n}" for name, n in ended.most_common())
        print(f"[test] ended {ended.total()} process(es) the tests left running: {said}", file=sys.stderr)
    return ended.total()


def _children(parent: int) -> dict[int, str]:
    """The live processes whose parent is ``parent``, with their command lines' first words; the ones that have
    ended already (orphans handed here to be reaped) are reaped."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError, ChildProcessError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and fields[0] == "Z":
                os.waitpid(int(stat.parent.name), 0)
            elif int(fields[1]) == parent:
                words = (stat.parent / "cmdline").read_bytes().split(b"\0")[:2]
                found[int(stat.parent.name)] = " ".join(Path(w.decode()).name for w in words if w)
    return found


def main() -> int:
    reexec_in_venv()
    ensure_debian_packages()
    report = Path(tempfile.mkdtemp(prefix="kz-junit-")) / "junit.xml"
    args = sys.argv[1:]
    adopted = adopt_orphans()
    rc = subprocess.call(
        [sys.executable, "-m", "pytest", f"--junitxml={report}", *parallel(args), *args], env=bytecode_written()
    )
    if adopted:
        end_orphans()
    if rc == 5:
        print("[test] pytest collected no tests: that is a failure here", file=sys.stderr)
        return 5
    if rc in NATIVE_ABORT and report.exists():
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite[0]
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        if failed == 0 and int(suite.get("tests", 0)) > 0:
            print(
                "[test] all tests passed; the interpreter aborted at exit in the Temporal SDK's native "
                "runtime (known teardown issue), not in a test",
                file=sys.stderr,
            )
            return 0
    return rc


if __name__ == "__main__":
    sys.exit(main())
