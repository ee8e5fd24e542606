"""The per-procedure commands operators' scripts use (``permit completeness``, ``fraud report``, …) as thin
aliases of the generated ``case`` commands, declared as tables.

An alias names its procedure and what it stands for (a start, an event, or showing a case) and maps its
options to the body's fields; the command, its help and its body are built from that. Everything else —
validation, the intake check, the one start/send path, the refusals — is the generated command's.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import typer

from cli.body import Typed, read_json, set_path
from cli.case import Say
from cli.common import run_async

__all__ = ["CASE", "FILE", "ID_ONLY", "RECEIVED_NOW", "Alias", "Param", "arg", "opt", "register"]

_UNSET = object()


@dataclass(frozen=True)
class Param:
    """One parameter of an alias command and the body field it fills (``None``: not a field)."""

    name: str
    type_: Any
    info: Any
    """``typer.Option(...)`` or ``typer.Argument(...)``."""
    field: str | None = None
    to_field: Callable[[Any], Any] | None = None
    """Turns the option's value into the field's (e.g. ``--absent`` into ``applicant_attended``)."""

    def describe(self) -> str:
        decls = [d for d in getattr(self.info, "param_decls", None) or () if d.startswith("-")]
        if decls:
            flag = decls[0].split("/")[0]
        elif isinstance(self.info, typer.models.OptionInfo):
            flag = "--" + self.name.replace("_", "-")
        else:
            flag = self.name.upper()
        return f"{flag} → {self.field}"


def opt(name: str, type_: Any, *decls: str, field: str | None = "", default: Any = ..., **kw: Any) -> Param:
    """An option; ``field`` is the dotted body field it fills (default: the option's name; ``None``: no field,
    the value goes to the alias's ``prepare``)."""
    to_field = kw.pop("to_field", None)
    return Param(name, type_, typer.Option(default, *decls, **kw), name if field == "" else field, to_field)


def arg(name: str, type_: Any, *, field: str | None = "", default: Any = ..., **kw: Any) -> Param:
    """A positional argument filling the dotted body field ``field`` (default: its name)."""
    return Param(name, type_, typer.Argument(default, **kw), name if field == "" else field)


def CASE(help: str = "the case id") -> Param:
    """The case argument of an event or show alias."""
    return Param("case_id", str, typer.Argument(..., help=help))


FILE = Param("file", Path, typer.Argument(..., help="the input as JSON"))
RECEIVED_NOW = Param("received_now", bool, typer.Option(False, "--received-now", help="set received_at to now"))
ID_ONLY = Param("id_only", bool, typer.Option(False, "--id-only", help="print only the case id (for scripts)"))
_SPECIAL = {"case_id", "file", "received_now", "id_only"}


@dataclass(frozen=True)
class Alias:
    """A command that stands for ``case start``, ``case send`` or ``case show`` of one procedure."""

    name: str
    procedure: str
    action: Literal["start", "send", "show"]
    help: str
    params: Sequence[Param] = ()
    event: str = ""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    """Body fields the alias sets itself (e.g. a report's way in)."""
    made: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    """Body fields computed when not given (the instant received: now; a fresh reference)."""
    case: Callable[[str], str] | None = None
    """The case argument → the case id (e.g. a suspect number → its fraud case)."""
    missing: str | None = None
    """What to say when there is no such case."""
    prepare: Callable[[Any, str, dict[str, Any]], Awaitable[dict[str, Any]]] | None = None
    """``(client, case id, the parameters without a field) → fields`` computed from the case before the body is
    validated (e.g. a signature over its payload made with the key file an option names)."""
    say: Say | None = None
    """Words for the answer instead of the generated ones (operators' scripts read them)."""

    def stands_for(self) -> str:
        """The generated command this alias is, for its help."""
        fields = [p.describe() for p in self.params if p.name not in _SPECIAL and p.field]
        fixed = [f"{k}={v}" for k, v in self.fixed.items()]
        if self.action == "start":
            head = f"starter.py case start {self.procedure}" + (" FILE" if self._has("file") else "")
        elif self.action == "send":
            head = f"starter.py case send CASE {self.event}"
        else:
            head = "starter.py case show CASE"
        tail = "; ".join(fixed + fields)
        return f"Alias of `{head}`" + (f" ({tail})" if tail else "") + "."

    def _has(self, name: str) -> bool:
        return any(p.name == name for p in self.params)

    def body(self, values: Mapping[str, Any]) -> Any:
        """The body the options make: the file first, then each field given, the fixed and the made ones."""
        raw = read_json(Path(values["file"])) if values.get("file") is not None else {}
        if not isinstance(raw, dict):
            return raw  # refused by the model, naming (root)
        for p in self.params:
            value = values.get(p.name)
            if p.name in _SPECIAL or p.field is None or value is None or value == []:
                continue
            value = p.to_field(value) if p.to_field else value
            set_path(raw, p.field, Typed(value) if isinstance(value, str) else value)  # typed by a person
        for path, value in self.fixed.items():
            set_path(raw, path, value)
        for path, make in self.made.items():
            if _get(raw, path) is _UNSET:
                set_path(raw, path, make())
        return raw

    async def run(self, values: Mapping[str, Any]) -> None:
        """Do what the generated command does with the body these values make."""
        from cli import case

        raw = self.body(values)
        source = str(values.get("file") or "")
        if self.action == "start":
            spec = case.spec_of(self.procedure)
            await case.start(
                spec,
                raw,
                source=source,
                received_now=bool(values.get("received_now")),
                id_only=bool(values.get("id_only")),
                say=self.say,
            )
            return
        case_id = str(values["case_id"])
        if self.case is not None:
            case_id = self.case(case_id)
        if self.action == "show":
            from cli.common import with_client
            from cli.show import show_case

            await show_case(await with_client(), case_id, missing=self.missing)
            return
        extras = {p.name: values.get(p.name) for p in self.params if p.field is None and p.name not in _SPECIAL}
        hook = self.prepare
        prepare = None if hook is None else lambda client, case_id: hook(client, case_id, extras)
        await case.send(
            case_id,
            self.event,
            raw,
            procedure=self.procedure,
            source=source,
            missing=self.missing,
            prepare=prepare,
            say=self.say,
        )


def _get(doc: Mapping[str, Any], path: str) -> Any:
    for key in path.split("."):
        if not isinstance(doc, Mapping) or key not in doc:
            return _UNSET
        doc = doc[key]
    return doc


def now() -> datetime:
    """The instant a command takes as the moment the edge received what it sends."""
    return datetime.now(UTC)


def register(app: typer.Typer, aliases: Sequence[Alias]) -> None:
    """Add a typer command to ``app`` for each alias, its parameters and help built from the table."""
    for alias in aliases:
        app.command(alias.name, help=f"{alias.help}\n\n{alias.stands_for()}")(_command(alias))


def _command(alias: Alias) -> Callable[..., None]:
    @run_async
    async def command(**values: Any) -> None:
        await alias.run(values)

    parameters = [
        inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.info, annotation=p.type_)
        for p in alias.params
    ]
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.type_ for p in alias.params}
    command.__name__ = alias.name.replace("-", "_")
    command.__doc__ = alias.help
    return command
