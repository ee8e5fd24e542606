"""Helpers shared by the command-line modules: async commands, the client, readable output and errors."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from infra.cases import pending_calls
from infra.client import connect
from models.case import CaseView
from models.deadlines import DeadlineState

__all__ = ["console", "deadline_table", "load_json_model", "run_async", "show_case", "with_client"]

console = Console()
err = Console(stderr=True)
P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def run_async(fn: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """Run an async command; Temporal and validation errors become a clear message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return asyncio.run(fn(*args, **kwargs))  # type: ignore[arg-type]
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            err.print(f"[red]refused:[/red] {getattr(cause, 'message', None) or cause or exc}")
        except RPCError as exc:
            err.print(f"[red]Temporal:[/red] {exc.message}")
        except (ValueError, ValidationError) as exc:
            err.print(f"[red]invalid:[/red] {exc}")
        raise typer.Exit(1)

    return wrapper


async def with_client(wait_seconds: float = 0) -> Client:
    """The Temporal client of the commands (environment configuration; optionally wait for the server)."""
    return await connect(wait_seconds=wait_seconds)


def load_json_model(path: Path, model: type[M]) -> M:
    """Read ``path`` as JSON into ``model``; errors name the file, the field and the problem."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: {problems}") from None


def deadline_table(states: list[DeadlineState], title: str = "Deadlines") -> Table:
    """A table of a case's legal terms."""
    t = Table(title=title)
    for col in ("term", "cite", "due (Asia/Almaty)", "status", "why"):
        t.add_column(col, overflow="fold")
    for s in states:
        status = s.status.value
        if s.met_at:
            status += f" (done {s.met_at.isoformat(timespec='minutes')})"
        t.add_row(s.key, s.deadline.cite, s.due.isoformat(timespec="minutes"), status, s.deadline.explain())
    return t


async def show_case(client: Client, case_id: str, title: str = "Case") -> CaseView:
    """Print a case: status, registration, details, blocked step, outside calls waiting, terms, documents."""
    v = await client.get_workflow_handle(case_id).query("case", result_type=CaseView)
    t = Table(title=f"{title} {v.case_id}", show_header=False)
    t.add_row("status", v.status + (f" (outcome: {v.outcome})" if v.outcome else ""))
    if v.registration:
        t.add_row("registered on", f"{v.registration.registered_on} under {v.registration.act_version_id}")
    for key, value in v.details.items():
        if value not in (None, False, [], {}):
            t.add_row(key.replace("_", " "), str(value))
    if v.blocked:
        t.add_row("[red]blocked[/red]", f"{v.blocked.what}: {v.blocked.error} (since {v.blocked.since:%Y-%m-%d %H:%M})")
    for call in await pending_calls(client, case_id):
        t.add_row(
            "waiting on",
            f"{call.activity}: attempt {call.attempt}"
            + (f", last error: {call.last_error}" if call.last_error else ""),
        )
    t.add_row("possible now", ", ".join(v.pending_events) or "nothing")
    console.print(t)
    console.print(deadline_table(v.deadlines))
    for d in v.documents:
        console.print(f"document {d.doc_id}: {d.title} (sha256 {d.sha256[:12]}…)")
    return v
