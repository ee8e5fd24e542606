"""``scripts/benchmark.py``'s arguments: the README's table is written from full runs of every procedure only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import bench_cpu, run
from bench.bench_cpu import README


def _measured(*args: object, **kwargs: object) -> None:
    raise AssertionError("the benchmark ran")


@pytest.mark.parametrize(
    "args",
    [["--quick"], ["--procedures", "complaint"], ["--cases", "2"], ["--rounds", "1"]],
    ids=["quick", "procedures", "cases", "rounds"],
)
def test_readme_refuses_a_partial_or_small_run_before_it_measures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """A quick or partial run put one procedure's 2-case rows in the README under a paragraph reading six procedures
    of 12 cases: refused as a usage error, before a server starts, the README untouched."""
    before = README.read_text(encoding="utf-8")
    monkeypatch.setattr(bench_cpu, "run", _measured)  # a refusal that came too late fails here, README untouched
    monkeypatch.setattr(bench_cpu, "to_readme", _measured)
    monkeypatch.setattr("sys.argv", ["run.py", "cpu", "--readme", *args])
    with pytest.raises(SystemExit) as refused:
        run.main()
    assert refused.value.code == 2
    assert "--readme writes the README's table of every procedure" in capsys.readouterr().err
    assert README.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["publish", "nosuch"], "unknown benchmark 'nosuch'"),
        (["cpu", "--rounds", "0"], "--rounds and --cases take 1 or more"),
        (["cpu", "--cases", "0"], "--rounds and --cases take 1 or more"),
        (["cpu", "--procedures", "complaint,nosuch"], "unknown procedure 'nosuch'"),
    ],
    ids=["name_after_a_good_one", "no_rounds", "no_cases", "procedure"],
)
def test_a_wrong_argument_is_refused_before_any_benchmark_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    """``publish nosuch`` ran the publication benchmark in full before naming the typo; ``--rounds 0`` ended in a
    KeyError after the servers had started (an adversarial run of 2026-12-03)."""
    monkeypatch.setattr(bench_cpu, "run", _measured)
    monkeypatch.setattr("bench.bench_publish.run", _measured)
    monkeypatch.setattr("sys.argv", ["run.py", *args])
    with pytest.raises(SystemExit) as refused:
        run.main()
    assert refused.value.code == 2 and said in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [["calendar", "--readme"], ["publish", "--rounds", "2"], ["history", "--procedures", "complaint"]],
    ids=["readme", "rounds", "procedures"],
)
def test_the_cpu_benchmarks_options_are_refused_without_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """``calendar --readme`` ran the calendar benchmark and said nothing of the option (an adversarial run of
    2026-12-03)."""
    for bench in ("bench_calendar", "bench_publish", "bench_history"):
        monkeypatch.setattr(f"bench.{bench}.run", _measured)
    monkeypatch.setattr("sys.argv", ["run.py", *args])
    with pytest.raises(SystemExit) as refused:
        run.main()
    assert refused.value.code == 2 and "for the cpu benchmark only" in capsys.readouterr().err


def test_a_run_removes_the_data_directory_it_made(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every run left a ``kz-bench-data-*`` directory behind, refused ones too (made when the module was imported)."""
    made: list[Path] = []

    def mkdtemp(prefix: str) -> str:
        made.append(tmp_path / f"{prefix}x")
        made[-1].mkdir()
        return str(made[-1])

    def calendar(n: int) -> list[object]:
        assert os.environ["KZ_DATA_DIR"] == str(made[0]) and made[0].is_dir()
        return []

    monkeypatch.delenv("KZ_DATA_DIR", raising=False)
    monkeypatch.setattr(run.tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr("bench.bench_calendar.run", calendar)
    monkeypatch.setattr(run, "record", lambda results, name: None)
    monkeypatch.setattr("sys.argv", ["run.py", "calendar"])
    run.main()
    assert len(made) == 1 and not made[0].exists()
    monkeypatch.setattr("sys.argv", ["run.py", "calendar", "--readme"])
    with pytest.raises(SystemExit):
        run.main()
    assert len(made) == 1  # a refused run makes none


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ([], "cpu"),
        (["--rounds", "2"], "cpu-subset"),
        (["--procedures", "complaint"], "cpu-subset"),
        (["--quick"], "cpu-quick"),
    ],
    ids=["full", "rounds", "procedures", "quick"],
)
def test_only_a_full_run_writes_the_committed_table(
    monkeypatch: pytest.MonkeyPatch, args: list[str], name: str
) -> None:
    """``cpu --rounds 1`` wrote ``bench/results/cpu.md``, the committed table of full runs (an adversarial run of
    2026-12-03, read from the code)."""
    written: list[str] = []

    async def measured(*a: object, **k: object) -> list[object]:
        return []

    monkeypatch.setattr(bench_cpu, "run", measured)
    monkeypatch.setattr(bench_cpu, "write", lambda figures, n, rounds, name: written.append(name) or "")
    monkeypatch.setattr(bench_cpu, "measurements", lambda figures: [])
    monkeypatch.setattr(run, "record", lambda results, name: None)
    monkeypatch.setattr("sys.argv", ["run.py", "cpu", *args])
    run.main()
    assert written == [name]
