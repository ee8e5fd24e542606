"""The auditors' command line (``audit``): export histories, replay them, the compliance report, the
administrative case, and payload-key maintenance. Histories come from files (offline) or the server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError

from audit.admin_case import build_admin_case, fetch_from_store, render_admin_case, signature_from_store
from audit.export import (
    EXECUTION_STATUSES,
    CaseRun,
    build_query,
    cases_named,
    export_histories,
    fetch_histories,
    list_cases,
)
from audit.history import load_history, parse_history
from audit.replay import Replay, ReplayOutcome
from audit.report import Scope, build_report, render_report_html
from infra.codec import CodecError, CodecSettings, KeyRing, load_keyring, new_key_id, rotate_key_file
from infra.console import run_app

if TYPE_CHECKING:
    from models.procedure import ProcedureSpec

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
keys_app = typer.Typer(no_args_is_help=True, help="payload encryption keys: show ids, generate, rotate")
app.add_typer(keys_app, name="keys")
console = Console(markup=False, emoji=False)
LANG = typer.Option("en", "--lang", help="the language of the HTML: kk, ru or en")
err = Console(stderr=True, markup=False, emoji=False)
T = TypeVar("T")


class Language(StrEnum):
    """The languages of the HTML an auditor reads (the console's: ``api/locales``)."""

    kk = "kk"
    ru = "ru"
    en = "en"


PROCEDURE = typer.Option(None, "--procedure", "-p", help="procedure key, e.g. mvno_permit")
SINCE = typer.Option(None, help="cases started at or after, ISO with offset (2027-03-01T00:00:00+05:00)")
UNTIL = typer.Option(None, help="cases started before, ISO with offset")
STATUS = typer.Option(None, help="execution status: Running, Completed, Failed, Canceled, Terminated, TimedOut")
CASE_STATUS = typer.Option(None, "--case-status", help="the case's own status (KzStatus), e.g. refused")
CASES = typer.Option(None, "--case", "-c", help="a case id (repeatable); not with the filters")
QUERY = typer.Option(None, "--query", help="a raw visibility query; not with the filters nor --case")


def _run(coro: Awaitable[T]) -> T:
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except RPCError as exc:
        err.print(Text.assemble(("Temporal:", "red"), f" {exc.message}"))
    except (ValueError, CodecError, RuntimeError) as exc:
        err.print(Text.assemble(("error:", "red"), f" {exc}"))
    raise typer.Exit(2)


def _instant(value: str | None, name: str) -> datetime | None:
    """A period's bound: an instant, or a day alone for its start (both without an offset: Asia/Almaty time)."""
    if value is None:
        return None
    from rules.calendar import ALMATY, date_alone, read_almaty

    try:
        if (day := date_alone(value)) is not None:
            return datetime.combine(day, time(0), tzinfo=ALMATY)
        return read_almaty(value)
    except ValueError:
        raise typer.BadParameter("not an ISO instant", param_hint=name) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[case]}"),
        console=err,
    )


async def _client() -> Client:
    from infra.client import connect

    return await connect(strict=False)  # auditors read histories as they are, clear ones recorded before the codec too


def _procedures() -> dict[str, ProcedureSpec]:
    """The catalogue by key (imports the workflows: called by a command, not at import)."""
    from workflows.catalogue import by_key

    return by_key()


def _scope(
    paths: list[Path] | None,
    cases: list[str] | None,
    query: str | None,
    procedure: str | None,
    since: str | None,
    until: str | None,
    status: str | None,
    case_status: str | None,
) -> Scope:
    """What a command reads, checked before any history is: a filter that could match nothing by its spelling (a
    procedure or a status no procedure has, an empty period) or that files would ignore is a usage error."""
    if paths:
        given: dict[str, object] = {"--procedure": procedure, "--since": since, "--until": until, "--status": status}
        given |= {"--case-status": case_status, "--case": cases, "--query": query}
        for name, value in given.items():
            if value:
                raise typer.BadParameter("chooses among the server's cases, not among files", param_hint=f"'{name}'")
        return Scope(files=[str(p) for p in paths])
    filters = {"--procedure": procedure, "--since": since, "--until": until, "--status": status}
    filters |= {"--case-status": case_status}
    chosen = "--case" if cases else "--query" if query else None
    if chosen:  # a filter beside the cases named, or a query, would be ignored: said, never silently
        ignored = [name for name, value in filters.items() if value] + (["--query"] if cases and query else [])
        if ignored:
            raise typer.BadParameter(
                f"is not a filter of {chosen}; give one or the other", param_hint=f"'{ignored[0]}'"
            )
    if cases:
        return Scope(cases=list(cases))
    if query:
        return Scope(query=query)
    from api.search import statuses_of

    procedures = _procedures()
    if procedure is not None and procedure not in procedures:
        raise typer.BadParameter(
            f"no procedure {procedure!r}; one of: {', '.join(procedures)}", param_hint="'--procedure'"
        )
    if status is not None and status not in EXECUTION_STATUSES:
        raise typer.BadParameter(f"{status!r} is not one of {', '.join(EXECUTION_STATUSES)}", param_hint="'--status'")
    if case_status is not None and case_status not in statuses_of(procedures, procedure or ""):
        said = (
            f"{procedure} has no status {case_status!r}; one of: {', '.join(procedures[procedure].statuses)}"
            if procedure
            else f"no procedure has the status {case_status!r}"
        )
        raise typer.BadParameter(said, param_hint="'--case-status'")
    start, end = _instant(since, "--since"), _instant(until, "--until")
    if start and end and start >= end:
        raise typer.BadParameter(f"{until} is not after --since {since}", param_hint="'--until'")
    try:
        q = build_query(procedure=procedure, since=start, until=end, status=status, case_status=case_status)
    except ValueError as exc:  # a quote in a value
        raise typer.BadParameter(str(exc)) from None
    return Scope(query=q, procedure=procedure, since=start, until=end, status=status, case_status=case_status)


async def _select(client: Client, scope: Scope) -> list[CaseRun]:
    """The server's cases ``scope`` names (every case an id names), or those its query selects."""
    if scope.cases:
        return await cases_named(client, scope.cases)
    assert scope.query is not None
    err.print(Text(f"query: {scope.query}", style="dim"))
    return await list_cases(client, scope.query)


def _no_case(scope: Scope) -> None:
    """Says plainly that nothing matched, with what was asked (never "0 of 0" nor "every term met on time")."""
    said = f"no history file (*.json) in {', '.join(scope.files)}" if scope.files else scope.query
    err.print(Text.assemble(("no case matches:", "red"), f" {said}"))


def _files(paths: list[Path]) -> list[Path]:
    """The history files ``paths`` name, each once (a folder given twice, or a file inside a folder also given)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(p.rglob("*.json"))
        elif p.exists():
            out.append(p)
        else:
            raise typer.BadParameter(f"{p}: no such file or directory")
    once: dict[Path, Path] = {}
    for f in out:
        once.setdefault(f.resolve(), f)
    return list(once.values())


def _new_file(path: Path | None) -> Path | None:
    """An output file (admin-case's ``--out``, replay's ``--json``): its folder must exist (checked before any
    history is read), it is no folder and no file yet (a file written earlier is never overwritten)."""
    if path is None:
        return None
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a folder; give a file name")
    if path.exists():
        raise typer.BadParameter(f"{path} exists; give a new file name")
    if path.parent.exists() and not path.parent.is_dir():
        raise typer.BadParameter(f"{path.parent} is a file, not a folder")
    if not path.parent.is_dir():
        raise typer.BadParameter(f"the folder {path.parent} does not exist")
    return path


def _folder(path: Path) -> Path:
    """An ``--out`` folder: no file; created when missing, so it must be one that can be made (tried before any
    history is read and undone: a usage error, never a traceback after the work)."""
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{path} is a file; give a folder")
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise typer.BadParameter(f"{path} cannot be made: {exc.strerror or exc}") from None
    finally:
        for made in missing:  # the deepest first; the command makes them again when it writes
            with contextlib.suppress(OSError):
                made.rmdir()
    return path


def _export_folder(path: Path) -> Path:
    """Export's folder: as ``_folder``, and holding no exported history yet (an export is an auditor's record, never
    overwritten, as a report and an administrative case are not)."""
    _folder(path)
    if held := sorted(path.glob("*.json")):
        raise typer.BadParameter(
            f"{path} holds {len(held)} .json file(s) already (an export writes CASE_ID.json); give a new folder"
        )
    return path


REPORT_FILES = ("report.html", "report.json")


def _report_folder(path: Path) -> Path:
    """The report's ``--out``: a folder (created when missing) that holds no report yet; an earlier report is an
    auditor's record and is never overwritten, as admin-case's and replay's files are not."""
    _folder(path)
    if held := [name for name in REPORT_FILES if (path / name).exists()]:
        raise typer.BadParameter(f"{path} holds a report already ({', '.join(held)}); give a new folder")
    return path


async def _histories(scope: Scope, progress: Progress, label: str) -> AsyncIterator[WorkflowHistory]:
    """Histories from the scope's files, else from the server."""
    if scope.files:
        files = _files([Path(f) for f in scope.files])
        task = progress.add_task(label, total=len(files), case="")
        for f in files:
            progress.update(task, case=f.name)
            yield load_history(f)
            progress.advance(task)
        return
    client = await _client()
    cases = await _select(client, scope)
    task = progress.add_task(label, total=len(cases), case="")
    async for h in fetch_histories(client, cases):
        progress.update(task, case=h.workflow_id)
        yield h
        progress.advance(task)


@app.command()
def export(
    out: Path = typer.Argument(
        ...,
        help="a new directory for the JSON files (created if missing; one holding histories is refused)",
        callback=_export_folder,
    ),
    procedure: str | None = PROCEDURE,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    status: str | None = STATUS,
    case_status: str | None = CASE_STATUS,
    case: list[str] | None = CASES,
    query: str | None = QUERY,
) -> None:
    """Export case histories to ``OUT/<case id>.json`` (payloads stay encrypted); where an id names several cases
    (a number reported again after its fraud case closed), the older ones to ``OUT/<case id>.<run id>.json``."""
    scope = _scope(None, case, query, procedure, since, until, status, case_status)

    async def go() -> list[Path]:
        client = await _client()
        cases = await _select(client, scope)
        with _progress() as progress:
            task = progress.add_task("export", total=len(cases), case="")
            return await export_histories(client, cases, out, lambda cid: progress.update(task, advance=1, case=cid))

    paths = _run(go())
    if paths:
        console.print(f"exported {len(paths)} case histories to {out}")
    else:
        _no_case(scope)  # a period without cases is an answer; the line says it is one


def _replay_table(outcomes: list[ReplayOutcome]) -> Table:
    t = Table(title="Replay with today's code")
    for col in ("case", "run", "workflow", "result", "where"):
        t.add_column(col, overflow="fold")
    for o in outcomes:
        result = Text("reproduces", style="green") if o.reproduced else Text(str(o.error_kind), style="red")
        t.add_row(o.case_id, o.run_id or "", o.workflow_type, result, "" if o.reproduced else o.where())
    return t


@app.command()
def replay(
    paths: list[Path] | None = typer.Argument(None, help="history files or directories; none: from the server"),
    procedure: str | None = PROCEDURE,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    status: str | None = STATUS,
    case_status: str | None = CASE_STATUS,
    case: list[str] | None = CASES,
    query: str | None = QUERY,
    json_out: Path | None = typer.Option(
        None, "--json", help="also write the outcomes as JSON to this new file", callback=_new_file
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="print the SDK's error for each failed case"),
) -> None:
    """Replay cases with today's workflow code; exit 1 when any case does not reproduce, or no case matches."""
    scope = _scope(paths, case, query, procedure, since, until, status, case_status)

    async def go() -> list[ReplayOutcome]:
        replayer = Replay()
        outcomes = []
        with _progress() as progress:
            async for h in _histories(scope, progress, "replay"):
                outcomes.append(await replayer.check(h))
        return outcomes

    outcomes = _run(go())
    if not outcomes:
        _no_case(scope)
        raise typer.Exit(1)  # nothing was checked: a gate before a deploy must not pass on it
    console.print(_replay_table(outcomes))
    if verbose:
        for o in outcomes:
            if not o.reproduced:
                console.print(Text.assemble((o.case_id, "bold"), f": {o.error}"))
    if json_out:
        json_out.write_text(json.dumps([o.model_dump() for o in outcomes], indent=1) + "\n", encoding="utf-8")
    bad = sum(not o.reproduced for o in outcomes)
    console.print(f"{len(outcomes) - bad} of {len(outcomes)} cases reproduce")
    if bad:
        raise typer.Exit(1)


@app.command()
def report(
    paths: list[Path] | None = typer.Argument(None, help="history files or directories; none: from the server"),
    out: Path = typer.Option(
        Path("audit-report"),
        "--out",
        "-o",
        help="a new directory for report.html and report.json (one holding a report is refused)",
        callback=_report_folder,
    ),
    procedure: str | None = PROCEDURE,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    status: str | None = STATUS,
    case_status: str | None = CASE_STATUS,
    case: list[str] | None = CASES,
    query: str | None = QUERY,
    lang: Language = LANG,
) -> None:
    """The compliance report (HTML and JSON), computed from the histories alone; it records its scope, and says so
    when no case matches it."""
    scope = _scope(paths, case, query, procedure, since, until, status, case_status)

    async def go() -> Any:
        cases = []
        with _progress() as progress:
            async for h in _histories(scope, progress, "read"):
                cases.append(parse_history(h))
        return build_report(cases, datetime.now(UTC), scope)

    rep = _run(go())
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(rep.model_dump_json(indent=1) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render_report_html(rep, lang.value), encoding="utf-8")
    written = f"written {out / 'report.html'} and {out / 'report.json'}"
    if not rep.cases:  # a report of no case is an answer (none in that period), said as one: not "all met on time"
        _no_case(scope)
        console.print(written)
        return
    t = Table(title="Compliance by procedure")
    for col in ("procedure", "cases", "terms", "met on time", "met late", "breached", "share on time"):
        t.add_column(col)
    for p in rep.procedures:
        share = "n/a" if p.share_met_on_time is None else f"{p.share_met_on_time:.1%}"
        t.add_row(p.procedure, str(p.cases), str(p.terms), str(p.met_on_time), str(p.met_late), str(p.breached), share)
    console.print(t)
    console.print(f"{len(rep.overruns)} overruns; {written}")


async def _only_case(client: Client, case_id: str) -> str | None:
    """The run of the one case ``case_id`` names (``None``: its latest); a usage error naming each case where it
    names several, so that the auditor chooses and is never handed the newest in silence."""
    cases = [c for c in await cases_named(client, [case_id]) if c.run_id]
    if len(cases) <= 1:
        return None
    from rules.calendar import almaty_text

    said = "; ".join(
        f"--run {c.run_id} (started {almaty_text(c.started_at) if c.started_at else '?'}, {c.status})" for c in cases
    )
    raise typer.BadParameter(f"{case_id} names {len(cases)} cases: {said}", param_hint="'--run'")


@app.command("admin-case")
def admin_case(
    source: str = typer.Argument(..., help="a history file, or a case id to fetch from the server"),
    out: Path = typer.Option(..., "--out", "-o", help="the ZIP to write", callback=_new_file),
    run: str | None = typer.Option(
        None, "--run", help="the run of the case, where the id names several (a number reported again after a close)"
    ),
    documents: bool = typer.Option(
        False, "--documents", help="include the documents' bytes and their signatures from our document store"
    ),
    lang: Language = LANG,
) -> None:
    """The administrative case of one case as a ZIP (case.html, case.json, manifest.json, documents/ with
    ``--documents``: each document's bytes, checked against the SHA-256 the case recorded, and its detached CMS
    signature ``.p7s`` when signed)."""

    async def go() -> WorkflowHistory:
        path = Path(source)
        if path.exists():
            if run:
                raise typer.BadParameter("chooses among the server's runs, not in a file", param_hint="'--run'")
            return load_history(path)
        client = await _client()
        return await client.get_workflow_handle(source, run_id=run or await _only_case(client, source)).fetch_history()

    history = _run(go())
    try:
        case = build_admin_case(history)
        if documents:
            bundle = render_admin_case(case, fetch_from_store, signature_from_store, lang=lang.value)
        else:
            bundle = render_admin_case(case, lang=lang.value)
    except ValueError as exc:
        err.print(Text.assemble(("error:", "red"), f" {exc}"))
        raise typer.Exit(2) from None
    out.write_bytes(bundle)
    console.print(f"written {out}")


@keys_app.command("show")
def keys_show() -> None:
    """The configured key ids (never the keys) and which one encrypts."""
    ring = _keyring(load_keyring)
    for kid in ring.keys:
        console.print(f"{kid}{'  (encrypts)' if kid == ring.active else ''}")
    console.print(Text(f"from {ring.source}", style="dim"))


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new key as ``id=base64`` to put in front of ``KZ_CODEC_KEYS`` (production rotation)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ring = KeyRing(keys={(kid := new_key_id()): AESGCM.generate_key(bit_length=256)}, active=kid)
    typer.echo(ring.spec())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new key in front of the key file's keys (dev setup); restart worker and API afterwards."""
    cfg = CodecSettings()
    if cfg.codec_keys.strip():
        err.print(
            Text.assemble(
                ("keys come from KZ_CODEC_KEYS", "red"), ": put `audit keys generate` output in front of it instead"
            )
        )
        raise typer.Exit(2)
    from infra.settings import settings

    path = cfg.codec_key_file or settings().data_dir / "codec-keys.json"
    ring = _keyring(lambda: rotate_key_file(path))
    console.print(f"new key {ring.active} encrypts from now on; {len(ring.keys) - 1} older keys still decrypt")


def _keyring(fn: Callable[[], KeyRing]) -> KeyRing:
    try:
        return fn()
    except CodecError as exc:
        err.print(Text.assemble(("error:", "red"), f" {exc}"))
        raise typer.Exit(2) from None


def main() -> None:
    """Console entry point (``audit``)."""
    run_app(app)


if __name__ == "__main__":
    main()
