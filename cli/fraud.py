"""``starter.py fraud``: the three ways in (171 p.52(4), p.118, p.119), the analyst's outcome, lifting a
suspension, bulk intake of a centre's sweep, and showing a case.

``report``, ``centre-info``, ``detect``, ``decide``, ``lift`` and ``show`` are aliases of the generated
``case`` commands of ``fraud_check`` (a report is ``case start fraud_check`` with that report first: it opens
the number's case or joins the open one). A case is named by its suspect number (the workflow id is a keyed
hash of it) or by its case id. ``bulk`` and ``subscribers`` are this group's own.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from cli.alias import CASE, Alias, arg, opt, register
from cli.common import console, run_async, with_client

__all__ = ["ALIASES", "app"]

app = typer.Typer(no_args_is_help=True, help=__doc__)

PROCEDURE = "fraud_check"
_SWEEP_ID = re.compile(r"^[A-Za-z0-9._-]{1,80}$")
_NO_CASE = "no case for this number (a report, centre-info or detect opens one)"


def _case_id(number_or_case: str) -> str:
    """A suspect number → its case id (a keyed hash of the number); a case id stays as it is."""
    if number_or_case.startswith(f"{PROCEDURE}-"):
        return number_or_case
    from rules.identifiers import kz_mobile
    from workflows.fraud_check import fraud_case_id

    try:
        return fraud_case_id(kz_mobile(number_or_case))
    except ValueError:
        raise typer.BadParameter("not a suspect number or a fraud case id", param_hint="NUMBER") from None


def _received(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    if at.tzinfo is None:  # typed without an offset: Asia/Almaty time
        from rules.calendar import ALMATY

        return at.replace(tzinfo=ALMATY)
    return at


def _took(started: Any, report: Any) -> Text:
    ack = started.result.model_dump() if started.result is not None else {}
    said = {"opened": "opened case", "joined": "joined the open case", "duplicate": "already taken in:"}
    counts = f" ({ack['reports_in_case']} report(s), status {ack['status']})" if ack.get("reports_in_case") else ""
    return Text.assemble(f"{said[started.answer.value]} ", (started.case_id, "bold"), counts)


def _recorded(answer: Any, outcome: Any) -> str:
    verdict = "confirmed → suspension" if outcome.confirmed else "not confirmed → centre informed"
    return f"recorded: {verdict} ({answer.case_id})"


def _lifted(answer: Any, decision: Any) -> str:
    return f"suspension lifted: services are being restored and the centre told ({answer.case_id})"


def _report(name: str, way_in: str, prefix: str, help: str, *params: Any) -> Alias:
    """A report alias: ``case start fraud_check`` with the report as the case's first."""
    return Alias(
        name,
        PROCEDURE,
        "start",
        help,
        (
            arg("number", str, field="first.suspect_number", help="the suspect number, e.g. +77011234567"),
            *params,
            opt("text", str, "--text", field="first.description", help="the SMS text or a description of the call"),
            opt("ref", str, field="first.ref", default=None, help="the sender's reference (never taken in twice)"),
            opt(
                "received_at",
                datetime,
                "--received-at",
                field="first.received_at",
                default=None,
                callback=_received,
                help="ISO instant (without an offset: Asia/Almaty); default now",
            ),
        ),
        fixed={"first.way_in": way_in},
        made={"first.ref": lambda: f"{prefix}:{uuid.uuid4().hex[:16]}"},
        say=_took,
    )


_SIMBOX = opt("simbox", bool, "--simbox/--no-simbox", field="first.simbox", default=False, help="a SIM-box finding")
_NUMBER = CASE("suspect number or case id")

ALIASES = (
    _report(
        "report",
        "subscriber_report",
        "ref-service",
        "(a) A subscriber's report to the information-reference service (p.52(4)).",
        opt("reporter", str, field="first.reporter_number", help="the reporting subscriber's number"),
        opt("signal", str, field="first.signal", default="sms", help="sms, call or network"),
    ),
    _report(
        "centre-info",
        "centre_information",
        "nb-afc",
        "(b) Information from the National Bank antifraud centre (p.119).",
        opt("signal", str, field="first.signal", default="call", help="sms, call or network"),
        _SIMBOX,
    ),
    _report(
        "detect",
        "internal_detection",
        "afs",
        "(c) The operator's own detection (p.118): the centre is informed at once with the subscriber's data.",
        opt("signal", str, field="first.signal", default="call", help="sms, call or network"),
        _SIMBOX,
    ),
    Alias(
        "decide",
        PROCEDURE,
        "send",
        "The analyst's outcome of the check with its evidence (p.119, p.120).",
        (
            _NUMBER,
            opt("confirmed", bool, "--confirmed/--not-confirmed"),
            opt("evidence", list[str], help="one piece of evidence (repeat the option)"),
            opt("analyst", str, help="who checked"),
            opt("note", str, default=""),
        ),
        event="record_check_outcome",
        case=_case_id,
        missing=_NO_CASE,
        say=_recorded,
    ),
    Alias(
        "lift",
        PROCEDURE,
        "send",
        "Lift a suspension by a recorded decision with its reason; network and centre follow.",
        (
            _NUMBER,
            opt("reason", str, help="why the suspension is lifted"),
            opt("decided_by", str, "--by", help="who decided"),
            opt("complaint_ref", str, default=None, help="the complaint it answers, if any"),
        ),
        event="lift_suspension",
        case=_case_id,
        missing=_NO_CASE,
        say=_lifted,
    ),
    Alias(
        "show",
        PROCEDURE,
        "show",
        "A case: status, reports, outcome, suspension, messages to the centre, deadlines.",
        (_NUMBER,),
        case=_case_id,
        missing=_NO_CASE,
    ),
)
register(app, ALIASES)


@app.command("bulk")
@run_async
async def bulk(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: number,signal,simbox,text"),
    sweep_id: str | None = typer.Option(None, help="the centre's sweep reference; default the file name"),
    concurrency: int = typer.Option(32, min=1, max=256, help="cases started or joined at a time"),
    received_at: datetime | None = typer.Option(
        None, "--received-at", help="ISO instant (no offset: Asia/Almaty); now by default"
    ),
) -> None:
    """Bulk intake of a centre's sweep: every line validated, one case per number, safe to re-run."""
    from cli.fraud_intake import bulk_intake

    sweep = sweep_id or path.stem
    if not _SWEEP_ID.match(sweep):
        raise typer.BadParameter("letters, digits, '.', '_' and '-' only", param_hint="--sweep-id")
    from rules.identifiers import personal_number_in

    if kind := personal_number_in(sweep):  # it goes into every line's ref, an Update id stored in clear
        raise typer.BadParameter(f"reads as {kind}: a sweep's id carries no personal data", param_hint="--sweep-id")
    client = await with_client()
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"sweep {sweep}", total=None)
        result = await bulk_intake(
            client,
            path,
            sweep_id=sweep,
            received_at=_received(received_at),
            concurrency=concurrency,
            progress=lambda n: progress.advance(task, n),
            on_total=lambda n: progress.update(task, total=n),
        )
    console.print(
        f"{result.opened} cases opened, {result.joined} joined open cases, "
        f"{result.already} already taken in; {len(result.bad)} bad lines, "
        f"{len(result.repeated)} repeated numbers, {len(result.failed)} failed"
    )
    for line, why in result.bad:
        console.print(Text.assemble((f"line {line}:", "red"), f" {why}"))
    for line, first in result.repeated:
        console.print(Text.assemble((f"line {line}:", "yellow"), f" same number as line {first} (taken once)"))
    for line, why in result.failed:
        console.print(Text.assemble((f"line {line} not taken in:", "red"), f" {why} (re-run the file to retry)"))
    if result.failed:
        raise typer.Exit(1)


@app.command("subscribers")
def subscribers() -> None:
    """The demo subscriber registry (seeded on first use): whose numbers a detection reports (p.118)."""
    from activities.subscriber_registry import DEMO_SUBSCRIBERS, seed_demo_subscribers

    seed_demo_subscribers()
    t = Table(title="Demo subscriber registry")
    for col in ("surname", "name", "patronymic", "numbers"):
        t.add_column(col)
    for d in DEMO_SUBSCRIBERS:
        t.add_row(d.surname, d.name, d.patronymic or "", ", ".join(d.numbers))
    console.print(t)
