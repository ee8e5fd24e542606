"""Helpers shared by the command-line modules: async commands, the client, readable output and errors.

Light on purpose: ``starter.py --help`` imports every command module, so Temporal, the procedures and our
tables are imported where a command runs, not here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.body import problems, read_json, validate

if TYPE_CHECKING:
    from pydantic import BaseModel
    from temporalio.client import Client

    from models.deadlines import DeadlineState

__all__ = [
    "CASE_ID",
    "case_id_argument",
    "console",
    "deadline_table",
    "err",
    "explain",
    "load_json_model",
    "readable",
    "run_async",
    "when",
    "with_client",
]

console = Console(markup=False, emoji=False)
err = Console(stderr=True, markup=False, emoji=False)
"""Markup and emoji codes off: what a command prints holds reasons, citations, calendar versions in brackets and
people's own words, none of them Rich markup (styles are ``rich.text.Text`` parts)."""
P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound="BaseModel")

_CASE_ERROR_LABELS = {"not_found": "not found", "conflict": "not possible now", "refused": "refused"}


def explain(exc: Exception) -> Text | None:
    """A one-line message for an error a command expects (refusals, Temporal, bad input), else ``None``.

    Validation errors are shown by field and rule only, never with the rejected value.
    """
    from pydantic import ValidationError
    from temporalio.client import RPCTimeoutOrCancelledError, WorkflowQueryFailedError, WorkflowUpdateFailedError
    from temporalio.service import RPCError

    from infra.cases import CaseError

    if isinstance(exc, CaseError):
        label = _CASE_ERROR_LABELS.get(exc.kind, exc.kind)
        return Text.assemble((f"{label}:", "red"), f" {exc.message.removeprefix(f'{label}: ')}")
    if isinstance(exc, WorkflowUpdateFailedError):
        cause = exc.cause
        return Text.assemble(("refused:", "red"), f" {getattr(cause, 'message', None) or cause or exc}")
    if isinstance(exc, RPCTimeoutOrCancelledError | WorkflowQueryFailedError):
        return Text.assemble(
            ("Temporal:", "red"), " the case cannot answer now: its worker may be down, restarting or busy; try again"
        )
    if isinstance(exc, RPCError):
        return Text.assemble(("Temporal:", "red"), f" {exc.message}")
    if isinstance(exc, ValidationError):
        return Text.assemble(("invalid:", "red"), f" {problems(exc)}")
    if isinstance(exc, ValueError):
        return Text.assemble(("invalid:", "red"), f" {exc}")
    if isinstance(exc, RuntimeError) and "cannot reach Temporal" in str(exc):
        return Text.assemble(("Temporal:", "red"), f" {exc}")
    return None


CASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")
"""What a case id looks like (the API's ``CASE_ID_PATTERN``): ``mvno_permit-…``, ``complaint-…``."""


def case_id_argument(value: str) -> str:
    """A CASE_ID argument: refused as bad input (exit 2) when it cannot be a case id, before Temporal is asked."""
    if not CASE_ID.fullmatch(value):
        raise typer.BadParameter("not a case id (e.g. mvno_permit-… as `cases list` prints it)")
    return value


def run_async(fn: Callable[P, Awaitable[T]]) -> Callable[P, T]:
    """Run an async command; refusals, Temporal and validation errors become a clear message and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        import asyncio

        try:
            return asyncio.run(fn(*args, **kwargs))  # type: ignore[arg-type]
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except Exception as exc:
            message = explain(exc)
            if message is None:
                raise
            err.print(message)
        raise typer.Exit(1)

    return wrapper


async def with_client(wait_seconds: float = 0) -> Client:
    """The Temporal client of the commands (environment configuration; optionally wait for the server)."""
    from infra.client import connect
    from infra.keys import require_keys

    require_keys("starter")
    return await connect(wait_seconds=wait_seconds)


def load_json_model(path: Path, model: type[M]) -> M:
    """Read ``path`` as JSON into ``model``; errors name the file, the field and the problem (never a value)."""
    return validate(model, read_json(path), str(path))


def when(moment: datetime) -> str:
    """An instant as every command prints it: Asia/Almaty, to the minute, with its offset (a naive one is UTC, as
    SQLite gives it back)."""
    from rules.calendar import almaty_text

    return almaty_text(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))


def readable(value: object) -> str:
    """A value for the terminal: an instant (or an ISO text with a time, as a JSON answer carries it) by ``when``."""
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, str) and len(value) >= 16 and value[4:5] == "-" and value[10:11] == "T":
        try:
            return when(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def deadline_table(states: list[DeadlineState], title: str = "Deadlines") -> Table:
    """A table of a case's legal terms."""
    t = Table(title=title)
    for col in ("term", "cite", "due (Asia/Almaty)", "status", "why"):
        t.add_column(col, overflow="fold")
    for s in states:  # the outcome in the report's words: met on time, met late, breached
        status = "met late" if s.status.value == "breached" and s.met_at else s.status.value
        if s.cancel_reason:
            status += f": {s.cancel_reason}"
        if s.met_at:
            status += f" (done {when(s.met_at)})"
        t.add_row(s.key, s.deadline.cite, when(s.due), status, s.deadline.explain())
    return t
