"""Run the benchmarks and write ``bench/results/``. Usage: ``python3 scripts/benchmark.py [names…] [--quick]``.

``cpu`` (first, the headline) prints CPU per case of every procedure against its fair floor and writes
``bench/results/cpu.md``; ``--readme`` also puts that table into README.md between its ``bench:start``/``bench:end``
markers (the README's performance table is this table, regenerated, never edited by hand)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import tempfile

from bench.common import Measurement, record

logging.basicConfig(level=logging.ERROR)

BENCHES = ["cpu", "calendar", "latency", "storm", "replay", "durability", "history", "publish"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"which benchmarks (default all): {', '.join(BENCHES)}")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmarks run")
    parser.add_argument("--cases", type=int, help="cpu: cases per batch (default 12, quick 2)")
    parser.add_argument("--rounds", type=int, help="cpu: interleaved rounds of ours and the floor (default 3)")
    parser.add_argument("--procedures", help="cpu: comma-separated procedures (default all)")
    parser.add_argument("--readme", action="store_true", help="cpu: write its table into README.md")
    args = parser.parse_args()
    names = args.names or BENCHES
    cpu_only = {"--readme": args.readme or None, "--procedures": args.procedures, "--cases": args.cases}
    cpu_only["--rounds"] = args.rounds
    if "cpu" not in names and (given := [option for option, value in cpu_only.items() if value is not None]):
        parser.error(f"{', '.join(given)}: for the cpu benchmark only, which is not among {', '.join(names)}")
    rounds = 3 if args.rounds is None else args.rounds
    if args.readme and (args.quick or args.procedures or args.cases or rounds < 3):
        # the README's table and the paragraph reading it are of every procedure at full size
        parser.error(
            "--readme writes the README's table of every procedure: run it without --quick, --procedures "
            "and --cases, with --rounds 3 or more"
        )
    unknown = [n for n in args.names if n not in BENCHES]
    if unknown:  # before any benchmark runs: a typo after a long one would cost its whole run
        parser.error(f"unknown benchmark {', '.join(map(repr, unknown))}: one of {', '.join(BENCHES)}")
    if rounds < 1 or (args.cases is not None and args.cases < 1):
        parser.error("--rounds and --cases take 1 or more")
    if args.procedures:
        from tests.e2e.scenarios import SCENARIOS

        known = [s.name for s in SCENARIOS]
        if wrong := [p for p in args.procedures.split(",") if p not in known]:
            parser.error(f"unknown procedure {', '.join(map(repr, wrong))}: one of {', '.join(known)}")
    data = None
    if "KZ_DATA_DIR" not in os.environ:  # the benchmarks' own tables and keys, removed at the end
        data = tempfile.mkdtemp(prefix="kz-bench-data-")
        os.environ["KZ_DATA_DIR"] = data
    try:
        _run(parser, args, names, rounds)
    finally:
        if data is not None:
            shutil.rmtree(data, ignore_errors=True)


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace, names: list[str], rounds: int) -> None:
    results: list[Measurement] = []
    for name in names:
        print(f"== {name}", flush=True)
        before = len(results)
        if name == "cpu":
            from bench import bench_cpu

            n = args.cases or (2 if args.quick else 12)
            procs = args.procedures.split(",") if args.procedures else None
            figures = asyncio.run(bench_cpu.run(n, rounds, 3 if args.quick else 50, procs, bench_cpu.COMPARE))
            # bench/results/cpu.md (committed) holds full runs of every procedure only (3 rounds or more)
            name = "cpu-quick" if args.quick else "cpu-subset" if procs or args.cases or rounds < 3 else "cpu"
            text = bench_cpu.write(figures, n, rounds, name)
            print(text, flush=True)
            if args.readme:
                bench_cpu.to_readme(text)
            results += bench_cpu.measurements(figures)
        elif name == "calendar":
            from bench import bench_calendar

            results += bench_calendar.run(20_000 if args.quick else 200_000)
        elif name == "storm":
            from bench import bench_storm

            results += asyncio.run(bench_storm.run(100 if args.quick else 2000, 30 if args.quick else 300))
        elif name == "latency":
            from bench import bench_latency

            results += asyncio.run(bench_latency.run(10 if args.quick else 60))
        elif name == "replay":
            from bench import bench_cases

            results += asyncio.run(bench_cases.replay(1 if args.quick else 3))
        elif name == "durability":
            from bench import bench_cases

            results += asyncio.run(bench_cases.durability(5 if args.quick else 12))
        elif name == "publish":
            from bench import bench_publish

            results += asyncio.run(
                bench_publish.run(4 if args.quick else 12, 4 if args.quick else 12, 2 if args.quick else 4)
            )
        elif name == "history":
            from bench import bench_history

            results += asyncio.run(bench_history.run())
        else:
            parser.error(f"unknown benchmark {name!r}")
        for m in results[before:]:
            print(m.line(), flush=True)
        record(results, "quick" if args.quick else "latest")  # after each, so a crash keeps what was measured
    print(f"written to bench/results/{'quick' if args.quick else 'latest'}.json and .md")


if __name__ == "__main__":
    main()
