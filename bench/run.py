"""Run the benchmarks and write ``bench/results/``. Usage: ``python3 scripts/benchmark.py [names…] [--quick]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import tempfile

from bench.common import Measurement, record

os.environ.setdefault("KZ_DATA_DIR", tempfile.mkdtemp(prefix="kz-bench-data-"))
logging.basicConfig(level=logging.ERROR)

BENCHES = ["calendar", "throughput", "latency", "storm", "replay", "memory", "durability", "history"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"which benchmarks (default all): {', '.join(BENCHES)}")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the benchmarks run")
    args = parser.parse_args()
    names = args.names or BENCHES
    results: list[Measurement] = []
    for name in names:
        print(f"== {name}", flush=True)
        before = len(results)
        if name == "calendar":
            from bench import bench_calendar

            results += bench_calendar.run(20_000 if args.quick else 200_000)
        elif name == "storm":
            from bench import bench_storm

            results += asyncio.run(bench_storm.run(100 if args.quick else 2000, 30 if args.quick else 300))
        elif name == "throughput":
            from bench import bench_cases

            results += asyncio.run(bench_cases.throughput(5 if args.quick else 12))
        elif name == "latency":
            from bench import bench_latency

            results += asyncio.run(bench_latency.run(10 if args.quick else 60))
        elif name == "replay":
            from bench import bench_cases

            results += asyncio.run(bench_cases.replay(1 if args.quick else 3))
        elif name == "memory":
            from bench import bench_cases

            results += asyncio.run(bench_cases.memory(30 if args.quick else 300))
        elif name == "durability":
            from bench import bench_cases

            results += asyncio.run(bench_cases.durability(5 if args.quick else 12))
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
