"""The order the test files are handed to the test processes: the longest first.

The suite runs one file per process at a time (``--dist loadfile``); handed out in the order pytest-xdist picks by
default (the files with the most tests first), a file of one long test (the README's commands, the three hosts)
could start last and run alone while the other processes had finished: the longest-first rule keeps the end of a
run short. ``tests/file_seconds.json`` holds each file's seconds from a whole run (setup, call and teardown of its
tests, as the processes reported them); a file it does not name counts as ``UNKNOWN_SECONDS``. A run with
``KZ_TEST_RECORD_SECONDS=1`` writes the file again from its own reports. Order only: a stale file costs time,
never a result.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

__all__ = ["SECONDS_FILE", "UNKNOWN_SECONDS", "Recorder", "longest_first"]

SECONDS_FILE = Path(__file__).with_name("file_seconds.json")
UNKNOWN_SECONDS = 10.0


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def longest_first(items: list[pytest.Item], seconds_file: Path = SECONDS_FILE) -> None:
    """Sort ``items`` in place, file by file, longest file first; a file's tests keep their order."""
    try:
        seconds: dict[str, float] = json.loads(seconds_file.read_text())
    except (OSError, ValueError):
        return
    first_seen = {f: n for n, f in reversed(list(enumerate(_file(i.nodeid) for i in items)))}
    items.sort(key=lambda i: (-seconds.get(_file(i.nodeid), UNKNOWN_SECONDS), first_seen[_file(i.nodeid)]))


class Recorder:
    """Sums each file's reported seconds and, at the end of a run that failed nothing, writes them into
    ``seconds_file`` (over what it held for those files; files gone from the suite are dropped)."""

    def __init__(self, seconds_file: Path = SECONDS_FILE) -> None:
        self.seconds_file = seconds_file
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[_file(report.nodeid)] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus != 0 or not self.seconds:
            return
        try:
            known: dict[str, float] = json.loads(self.seconds_file.read_text())
        except (OSError, ValueError):
            known = {}
        known.update((f, round(s, 1)) for f, s in self.seconds.items())
        root = session.config.rootpath
        kept = ((f, s) for f, s in known.items() if (root / f).exists())
        ordered = dict(sorted(kept, key=lambda fs: -fs[1]))
        self.seconds_file.write_text(json.dumps(ordered, indent=1) + "\n")
