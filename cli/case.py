"""``starter.py case``: commands generated from the procedure catalogue, as the API's routes are.

``case start PROCEDURE FILE`` starts a case from the procedure's input model, ``case send CASE EVENT`` sends
an event (an Update) with the event's body model, ``case show CASE`` shows any case, ``case events`` lists
what each procedure takes and who may send it. Starts and events go through ``infra.cases`` (the one path
of the API, the console and the demo), so refusals read the same everywhere.

The catalogue (and with it every workflow) is imported when a command runs, not for ``--help``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from getpass import getuser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.body import BodyError, field_docs, is_pair, merge_pairs, read_json, received_at_path, set_path, validate
from cli.common import case_id_argument, console, err, readable, run_async, with_client

if TYPE_CHECKING:
    from pydantic import BaseModel
    from temporalio.client import Client

    from infra.cases import CaseStart, EventResult
    from models.procedure import EventSpec, ProcedureSpec

__all__ = [
    "Prepare",
    "Say",
    "app",
    "catalogue",
    "complete_event",
    "complete_procedure",
    "event_of",
    "print_answer",
    "print_started",
    "send",
    "start",
    "start_input",
]

app = typer.Typer(no_args_is_help=True, help=__doc__)

Say = Callable[[Any, Any], str | Text]
"""Words for an answer instead of the generated ones: ``(CaseStart, input)`` or ``(EventResult, body)``."""
Prepare = Callable[["Client", str], Awaitable[dict[str, Any]]]
"""Fields computed from the case before the body is validated (e.g. a signature over the case's payload)."""

# The answer's fields that say whether the case took what it was given, and why (a wrong code is accepted as
# an Update but not as a code: the command exits 1 then).
_VERDICT = ("accepted", "correct", "valid", "passed")
_MESSAGE = ("message", "reason", "note")


# --- the catalogue, looked up when a command runs -------------------------------------------------------


def catalogue() -> Mapping[str, ProcedureSpec]:
    """Every procedure by key (imports the workflows: call it from a running command, not at import)."""
    from workflows.catalogue import by_key

    return by_key()


def spec_of(key: str) -> ProcedureSpec:
    """The procedure ``key``; a usage error listing the procedures otherwise."""
    specs = catalogue()
    if key not in specs:
        raise typer.BadParameter(f"no procedure {key!r}; one of: {', '.join(specs)}", param_hint="PROCEDURE")
    return specs[key]


def event_of(spec: ProcedureSpec, name: str) -> EventSpec:
    """The event ``name`` of ``spec``; a usage error listing its events otherwise."""
    try:
        return spec.event(name)
    except KeyError:
        names = ", ".join(e.name for e in spec.events)
        raise typer.BadParameter(f"{spec.key} has no event {name!r}; its events: {names}", param_hint="EVENT") from None


def complete_procedure(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion: procedure keys with their titles."""
    return [(key, spec.title) for key, spec in catalogue().items() if key.startswith(incomplete)]


def _procedure_of_case(case_id: str) -> str | None:
    """A case id is ``<procedure>-<pseudonym>``: good enough to complete its events without a server."""
    key = case_id.rsplit("-", 1)[0]
    return key if key in catalogue() else None


def complete_event(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion: the events of the case's procedure (from its id), or of every procedure."""
    key = _procedure_of_case(str(ctx.params.get("case_id") or ""))
    specs = [catalogue()[key]] if key else list(catalogue().values())
    seen: dict[str, str] = {}
    for spec in specs:
        for e in spec.events:
            seen.setdefault(e.name, e.title)
    return [(name, title) for name, title in seen.items() if name.startswith(incomplete)]


def complete_field(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of ``send``'s ``key=`` pairs: the fields of the event's body model."""
    key = _procedure_of_case(str(ctx.params.get("case_id") or ""))
    event = str(ctx.params.get("event") or "")
    if key is None:
        return []
    try:
        model = catalogue()[key].event(event).body_model
    except KeyError:
        return []
    if model is None:
        return []
    return [(f"{d.path}=", d.kind) for d in field_docs(model) if d.path.startswith(incomplete)]


def complete_start_field(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of ``start``'s ``key=`` pairs: the fields of the procedure's input model."""
    key = str(ctx.params.get("procedure") or "")
    if key not in catalogue():
        return []
    return [(f"{d.path}=", d.kind) for d in field_docs(catalogue()[key].input_model) if d.path.startswith(incomplete)]


# --- start ------------------------------------------------------------------------------------------------


def _body(values: Sequence[str], json_file: Path | None) -> Any:
    """A body from a JSON file (``--json`` or the first value that is not ``key=value``) and pairs over it."""
    files = [v for v in values if not is_pair(v)]
    if json_file is not None:
        files.insert(0, str(json_file))
    if len(files) > 1:
        raise BodyError("give one JSON file (the other values are key=value pairs)")
    doc: Any = read_json(Path(files[0])) if files else {}
    pairs = [v for v in values if is_pair(v)]
    if pairs and not isinstance(doc, dict):
        raise BodyError(f"{files[0]}: key=value pairs need a JSON object to go into")
    return merge_pairs(doc, pairs) if pairs else doc


def start_input(spec: ProcedureSpec, raw: Any, *, received_now: bool = False, source: str = "") -> BaseModel:
    """``raw`` as the procedure's input, validated and through its intake check (before any connection), unless the
    start's edge completes the input from the cases it names (``start_at_the_edge``: a complaint's act is its
    appealed case's): ``start_case`` checks that one once completed."""
    from infra.cases import check_intake

    if received_now:
        where = received_at_path(spec.input_model)
        if where is None:
            raise BodyError(f"{spec.key}'s input records no received_at")
        if not isinstance(raw, dict):
            raise BodyError(f"{source or 'input'}: (root): Input should be an object")
        set_path(raw, where, datetime.now(UTC))
    inp = validate(spec.input_model, raw, source)
    if spec.start_at_the_edge is None:
        check_intake(spec, inp)
    return inp


def print_started(
    started: CaseStart, spec: ProcedureSpec, inp: BaseModel, *, id_only: bool = False, say: Say | None = None
) -> None:
    """The case id and what the start did; a closed case (never started again) is an error, exit code 1."""
    from infra.cases import StartAnswer

    if started.answer is StartAnswer.CLOSED:
        err.print(
            Text.assemble(
                ("closed:", "red"),
                f" the case {started.case_id} of this input is closed; the same application is not started again",
            )
        )
        raise typer.Exit(1)
    if id_only:
        print(started.case_id)
        return
    if say is not None:
        console.print(say(started, inp))
        return
    console.print(Text.assemble(f"{started.answer.value}: case ", (started.case_id, "bold"), f" ({spec.title})"))
    result = started.result.model_dump(mode="json") if hasattr(started.result, "model_dump") else started.result
    if isinstance(result, dict):
        _print_fields(result, skip={"case_id", "answer"})


async def start(
    spec: ProcedureSpec,
    raw: Any,
    *,
    source: str = "",
    received_now: bool = False,
    id_only: bool = False,
    say: Say | None = None,
) -> CaseStart:
    """Validate, check intake, connect, start through ``infra.cases.start_case`` and print the answer."""
    from infra.cases import start_case

    inp = start_input(spec, raw, received_now=received_now, source=source)
    started = await start_case(await with_client(), spec, inp, source="starter", actor=f"{getuser()} (command line)")
    print_started(started, spec, inp, id_only=id_only, say=say)
    return started


@app.command("start")
@run_async
async def start_command(
    procedure: str = typer.Argument(..., help="the procedure's key", autocompletion=complete_procedure),
    values: list[str] = typer.Argument(
        None,
        metavar="FILE KEY=VALUE",
        help="the input as a JSON file, and/or key=value pairs (dotted keys for nested fields) over it",
        autocompletion=complete_start_field,
    ),
    received_now: bool = typer.Option(False, "--received-now", help="set the input's received_at to now"),
    id_only: bool = typer.Option(False, "--id-only", help="print only the case id (for scripts)"),
) -> None:
    """Start a case of PROCEDURE; the same input again answers with its case (opened / joined / existing /
    closed / duplicate). The input is validated and the procedure's intake check runs before Temporal is asked."""
    spec = spec_of(procedure)
    files = [v for v in values or [] if not is_pair(v)]
    raw = _body(values or [], None)
    await start(spec, raw, source=files[0] if files else "", received_now=received_now, id_only=id_only)


# --- send -------------------------------------------------------------------------------------------------


def event_body(event: EventSpec, raw: Any, source: str = "") -> BaseModel | None:
    """``raw`` as the event's body model (the edge model when it has one); an event without one takes nothing."""
    model = event.body_model
    if model is None:
        if raw:
            raise BodyError(f"{event.name} takes no fields")
        return None
    return validate(model, raw, source)


def _verdict(result: Any) -> tuple[bool, str]:
    if isinstance(result, dict):
        ok = next((result[k] for k in _VERDICT if isinstance(result.get(k), bool)), True)
        message = next((str(result[k]) for k in _MESSAGE if result.get(k)), "")
        left = result.get("attempts_left")
        if not ok and isinstance(left, int) and "attempt" not in message:
            message += f" ({left} attempts left)"
        return bool(ok), message
    return True, "" if result is None else str(result)


def _print_fields(result: dict[str, Any], skip: set[str]) -> None:
    for key, value in result.items():
        if key in skip or value in (None, "", [], {}) or value is False:
            continue
        if isinstance(value, list):
            value = f"{len(value)} item(s)"
        elif isinstance(value, dict):
            continue
        console.print(f"  {key.replace('_', ' ')}: {readable(value)}")


def print_answer(answer: EventResult, body: BaseModel | None = None, *, say: Say | None = None) -> bool:
    """Print the Update's answer; ``False`` when the case did not accept what it was given."""
    ok, message = _verdict(answer.result)
    if say is not None:
        console.print(say(answer, body))
        return ok
    head = ("accepted", "green") if ok else ("not accepted", "red")
    tail = f" {answer.event}" + (f": {message}" if message else "") + f" ({answer.case_id})"
    console.print(Text.assemble(head, tail))
    if isinstance(answer.result, dict):
        _print_fields(answer.result, skip={*_VERDICT, *_MESSAGE, "attempts_left", "case_id"})
    return ok


async def send(
    case_id: str,
    event_name: str,
    raw: Any,
    *,
    procedure: str | None = None,
    source: str = "",
    missing: str | None = None,
    prepare: Prepare | None = None,
    say: Say | None = None,
) -> EventResult:
    """Validate the body, find the case's procedure, send through ``infra.cases.send_event`` and print the
    answer; exit code 1 when the case refuses it or does not accept it.

    With ``procedure`` known (an alias) the body is checked before Temporal is asked; otherwise the case says
    which procedure it belongs to (its workflow type).
    """
    from infra.cases import CaseError, send_event
    from workflows.catalogue import spec_of_workflow

    spec = spec_of(procedure) if procedure else None
    payload = None
    if spec is not None and prepare is None:
        payload = event_body(event_of(spec, event_name), raw, source)
    client = await with_client()
    if spec is None:
        from temporalio.service import RPCError, RPCStatusCode

        try:
            desc = await client.get_workflow_handle(case_id).describe()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise CaseError("not_found", missing or "no such case") from None
            raise
        spec = spec_of_workflow(desc.workflow_type)
        if spec is None:
            raise CaseError("not_found", missing or "no such case")
    event = event_of(spec, event_name)
    if prepare is not None:
        raw = {**(raw or {}), **await prepare(client, case_id)}
    if payload is None:
        payload = event_body(event, raw, source)
    try:
        answer = await send_event(client, spec, event, case_id, payload)
    except CaseError as exc:
        if exc.kind == "not_found" and missing:
            raise CaseError(exc.kind, missing) from None
        raise
    if not print_answer(answer, payload, say=say):
        raise typer.Exit(1)
    return answer


@app.command("send")
@run_async
async def send_command(
    case_id: str = typer.Argument(..., help="the case id", callback=case_id_argument),
    event: str = typer.Argument(..., help="the event (see `case events PROCEDURE`)", autocompletion=complete_event),
    pairs: list[str] = typer.Argument(
        None,
        metavar="KEY=VALUE",
        help="the body's fields: dotted keys for nested fields (hearing.at=…), a repeated key makes a list, "
        "a value starting with [ or { is JSON",
        autocompletion=complete_field,
    ),
    json_file: Path | None = typer.Option(None, "--json", help="the body as a JSON file (pairs go over it)"),
) -> None:
    """Send EVENT to the case CASE: the body is validated by the event's model, the case's validator decides."""
    bad = [p for p in pairs or [] if not is_pair(p)]
    if bad:
        raise typer.BadParameter("expected key=value (give a JSON body with --json FILE)", param_hint="KEY=VALUE")
    raw = _body(pairs or [], json_file)
    await send(case_id, event, raw, source=str(json_file or ""))


# --- show, events, document ----------------------------------------------------------------------------


@app.command("show")
@run_async
async def show_command(case_id: str = typer.Argument(..., help="the case id", callback=case_id_argument)) -> None:
    """Any case: status, registration, details, blocked step, outside calls waiting, events possible now,
    deadlines with their explanation, documents, and the procedure's own view."""
    from cli.show import show_case

    await show_case(await with_client(), case_id)


def _roles(roles: frozenset[str]) -> str:
    return ", ".join(sorted(roles))


@app.command("events")
def events_command(
    procedure: str | None = typer.Argument(
        None, help="a procedure's key; without it, every procedure", autocompletion=complete_procedure
    ),
) -> None:
    """What a procedure takes: its input (for `case start`) and its events with their fields and who may send them."""
    if procedure is None:
        t = Table(title="Procedures (`case events PROCEDURE` for the fields)")
        for col in ("procedure", "title", "act", "events"):
            t.add_column(col, overflow="fold")
        for key, spec in catalogue().items():
            t.add_row(key, spec.title, spec.act_key, ", ".join(e.name for e in spec.events))
        console.print(t)
        return
    spec = spec_of(procedure)
    console.print(Text.assemble((spec.key, "bold"), f": {spec.title} (act {spec.act_key})"))
    console.print(_fields_table(f"case start {spec.key} — started by {_roles(spec.start_roles)}", spec.input_model))
    for e in spec.events:
        title = f"case send CASE {e.name} — {e.title}" + (f" ({e.cite})" if e.cite else "")
        title += f"; sent by {_roles(e.roles)}"
        if e.body_model is None:
            console.print(Text.assemble((title, "bold"), ": no fields"))
        else:
            console.print(_fields_table(title, e.body_model))


def _fields_table(title: str, model: type[BaseModel]) -> Table:
    t = Table(title=title, title_justify="left")
    for col in ("field", "value", "required", "what"):
        t.add_column(col, overflow="fold")
    for d in field_docs(model):
        t.add_row(d.path, d.kind, "yes" if d.required else "", d.description)
    return t


@app.command("document")
def document_command(
    doc_id: str = typer.Argument(..., help="a doc id from `case show`"),
    out: Path = typer.Option(
        Path("."),
        help="directory to write the document (<name>.html, an administrative case <name>.zip) and <name>.p7s into",
    ),
) -> None:
    """Export a case's document and its detached CMS signature (check it with `openssl cms -verify`)."""
    from infra.store import document_file_name, document_stem, load_document

    doc = load_document(doc_id)
    if doc is None:
        err.print(Text.assemble(("not found:", "red"), f" no document {doc_id}"))
        raise typer.Exit(1)
    out.mkdir(parents=True, exist_ok=True)
    name = document_file_name(doc)
    (out / name).write_bytes(doc.content)
    if doc.signature is not None:
        (out / f"{document_stem(doc_id)}.p7s").write_bytes(doc.signature)
    console.print(f"{out / name}{' + .p7s, signed by ' + (doc.signer_subject or '') if doc.signature else ''}")
