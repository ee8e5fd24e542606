"""The order the test files are handed to the test processes (``tests/file_order.py``): longest first by the recorded
seconds, a file's tests together and in their order; the seconds recorded from a run that failed nothing."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tests import file_order


def _items(*nodeids: str) -> list[pytest.Item]:
    return cast(list[pytest.Item], [SimpleNamespace(nodeid=n) for n in nodeids])


def test_the_longest_file_goes_first_and_a_files_tests_keep_their_order(tmp_path: Path) -> None:
    seconds = tmp_path / "seconds.json"
    seconds.write_text(json.dumps({"tests/a.py": 2.0, "tests/b.py": 40.0, "tests/c.py": 2.0}))
    items = _items(
        "tests/a.py::x", "tests/a.py::y", "tests/b.py::z", "tests/c.py::w", "tests/new.py::v", "tests/b.py::u"
    )
    file_order.longest_first(items, seconds)
    # b (40 s) first; a file the record does not name counts as UNKNOWN_SECONDS (10); a and c tie: collection order
    assert [i.nodeid for i in items] == [
        "tests/b.py::z",
        "tests/b.py::u",
        "tests/new.py::v",
        "tests/a.py::x",
        "tests/a.py::y",
        "tests/c.py::w",
    ]


def test_without_a_record_the_collection_order_stays(tmp_path: Path) -> None:
    items = _items("tests/a.py::x", "tests/b.py::y")
    file_order.longest_first(items, tmp_path / "missing.json")
    assert [i.nodeid for i in items] == ["tests/a.py::x", "tests/b.py::y"]


def _report(nodeid: str, duration: float) -> pytest.TestReport:
    return cast(pytest.TestReport, SimpleNamespace(nodeid=nodeid, duration=duration))


def _session(root: Path) -> pytest.Session:
    return cast(pytest.Session, SimpleNamespace(config=SimpleNamespace(rootpath=root)))


def test_a_passing_run_records_each_files_seconds_over_the_old_and_drops_files_gone(tmp_path: Path) -> None:
    for name in ("a.py", "b.py"):
        (tmp_path / "tests").mkdir(exist_ok=True)
        (tmp_path / "tests" / name).write_text("")
    seconds = tmp_path / "seconds.json"
    seconds.write_text(json.dumps({"tests/a.py": 1.0, "tests/b.py": 9.0, "tests/gone.py": 50.0}))
    recorder = file_order.Recorder(seconds)
    for phase in (0.5, 3.0, 0.25):  # setup, call, teardown
        recorder.pytest_runtest_logreport(_report("tests/a.py::x", phase))
    recorder.pytest_runtest_logreport(_report("tests/a.py::y", 20.0))
    recorder.pytest_sessionfinish(_session(tmp_path), 0)
    written: dict[str, Any] = json.loads(seconds.read_text())
    assert written == {"tests/a.py": 23.8, "tests/b.py": 9.0}
    assert list(written) == ["tests/a.py", "tests/b.py"]  # longest first, for a reader too


def test_a_failed_run_records_nothing(tmp_path: Path) -> None:
    seconds = tmp_path / "seconds.json"
    seconds.write_text("{}")
    recorder = file_order.Recorder(seconds)
    recorder.pytest_runtest_logreport(_report("tests/a.py::x", 5.0))
    recorder.pytest_sessionfinish(_session(tmp_path), 1)
    assert seconds.read_text() == "{}"


def test_the_record_names_only_files_of_the_suite() -> None:
    recorded = json.loads(file_order.SECONDS_FILE.read_text())
    root = file_order.SECONDS_FILE.parent.parent
    assert recorded and all((root / f).is_file() and f.startswith("tests/") for f in recorded)
