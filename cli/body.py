"""What a caller types becomes a model: ``key=value`` pairs with dotted paths, JSON files, and errors that
name the field and the rule but never the value (inputs hold IINs, phone numbers, codes).

Imports no Temporal and no procedure: the catalogue hands the models in.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from rules.text import error_loc, error_text

if TYPE_CHECKING:  # pydantic is imported when a body is read, not for `--help`
    from pydantic import BaseModel, ValidationError

__all__ = [
    "BodyError",
    "FieldDoc",
    "Typed",
    "field_docs",
    "in_almaty",
    "is_pair",
    "merge_pairs",
    "problems",
    "read_json",
    "received_at_path",
    "set_path",
    "validate",
    "wrap_lists",
]

_PATH = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_PAIR = re.compile(rf"^({_PATH})=(.*)$", re.DOTALL)
M = TypeVar("M", bound="BaseModel")


class BodyError(ValueError):
    """A body that cannot be read or does not fit its model; the message is safe to print (no values)."""


class Typed(str):
    """A value a person typed on the command line (``key=value``, an option): a date-time in it without a zone is
    Asia/Almaty time. A JSON file's date-times are read as the API reads them (an offset is required)."""

    __slots__ = ()


def is_pair(text: str) -> bool:
    """``key=value`` with a dotted key (anything else on the command line is a file)."""
    return _PAIR.match(text) is not None


def read_json(path: Path) -> Any:
    """The JSON document in ``path``; errors name the file and the place, not the content."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BodyError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BodyError(f"{path}: is a directory") from None
    except json.JSONDecodeError as exc:
        raise BodyError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set ``a.b.c`` in ``doc``, creating the objects on the way."""
    *parents, last = path.split(".")
    for key in parents:
        child = doc.get(key)
        if not isinstance(child, dict):
            child = doc[key] = {}
        doc = child
    doc[last] = value


def merge_pairs(doc: dict[str, Any], pairs: Sequence[str]) -> dict[str, Any]:
    """``doc`` with the ``key=value`` pairs set in it.

    A dotted key sets a nested field (``hearing.at=…``); a repeated key makes a list (``reasons=a reasons=b``);
    a value starting with ``[`` or ``{`` is JSON.
    """
    values: dict[str, list[Any]] = {}
    for pair in pairs:
        m = _PAIR.match(pair)
        if m is None:
            raise BodyError("expected key=value (a dotted key for a nested field, e.g. hearing.at=…)")
        key, text = m.group(1), m.group(2)
        value: Any = Typed(text)
        if text[:1] in ("[", "{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BodyError(f"{key}: not valid JSON (column {exc.colno}: {exc.msg})") from None
        values.setdefault(key, []).append(value)
    for key, given in values.items():
        set_path(doc, key, given if len(given) > 1 else given[0])
    return doc


def wrap_lists(doc: Any, model: type[BaseModel], prefix: str = "") -> Any:
    """``doc`` with a single value made a list where ``model``'s field is a list (``evidence=x``)."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            path = prefix + key
            if isinstance(value, dict):
                wrap_lists(value, model, path + ".")
            elif value is not None and not isinstance(value, list) and _is_list(_annotation(model, path)):
                doc[key] = [value]
    return doc


def in_almaty(doc: Any, model: type[BaseModel], prefix: str = "") -> Any:
    """``doc`` with every date-time a person typed (``Typed``, or a date-time an option parsed) without a zone read
    as Asia/Almaty time (every office in Kazakhstan keeps it): ``hearing.at=2027-03-24T15:00`` is 15:00 in Almaty,
    as the console's forms read it too."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            path = prefix + key
            if isinstance(value, dict):
                in_almaty(value, model, path + ".")
            elif isinstance(value, Typed | datetime) and _is_datetime(_annotation(model, path)):
                doc[key] = _almaty_value(value)
    return doc


def _is_datetime(annotation: Any) -> bool:
    a = _strip(annotation)
    return isinstance(a, type) and issubclass(a, datetime)


def _almaty_value(value: str | datetime) -> str | datetime:
    from rules.calendar import read_almaty

    if isinstance(value, datetime):
        return read_almaty(value.isoformat())
    try:
        return read_almaty(value).isoformat()
    except ValueError:
        return value  # not a date-time: the model says so, naming the field


def problems(exc: ValidationError) -> str:
    """Each error of ``exc`` as ``field: rule``, with the rejected value left out."""
    out = []
    for e in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error_loc(e)) or "(root)"
        msg = error_text(e).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        out.append(f"{where}: {msg}")
    return "; ".join(out)


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def validate(model: type[M], raw: Any, source: str = "") -> M:
    """``raw`` (as read from JSON or typed) as ``model``, validated as JSON would be (so bytes are base64); a
    single value where the model has a list is a list of one; a date-time typed without a zone is Asia/Almaty time.

    ``BodyError`` names ``source``, each field and its rule; the rejected values are never in it.
    """
    from pydantic import ValidationError

    try:
        return model.model_validate_json(json.dumps(_json_ready(in_almaty(wrap_lists(raw, model), model))))
    except ValidationError as exc:
        raise BodyError((f"{source}: " if source else "") + problems(exc)) from None


# --- the models' fields ------------------------------------------------------------------------------


def _strip(annotation: Any) -> Any:
    """``Annotated[X, …]`` → ``X``; ``X | None`` → ``X``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if get_origin(annotation) in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models ``annotation`` stands for: one model, or the members of a union of models."""
    from pydantic import BaseModel

    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [_strip(a) for a in get_args(annotation)]
        if all(isinstance(a, type) and issubclass(a, BaseModel) for a in members):
            return list(members)
    return []


def _is_list(annotation: Any) -> bool:
    return get_origin(_strip(annotation)) in (list, tuple, set, frozenset)


def _annotation(model: type[BaseModel], path: str) -> Any:
    """The annotation of the field at dotted ``path`` (through nested models and unions of models)."""
    candidates: list[type[BaseModel]] = [model]
    found: Any = None
    for key in path.split("."):
        found = next((m.model_fields[key].annotation for m in candidates if key in m.model_fields), None)
        if found is None:
            return None
        candidates = _models(found)
    return found


def received_at_path(model: type[BaseModel]) -> str | None:
    """Where ``model`` records the instant the edge received it: ``received_at`` or, through an object every
    input has (e.g. a fraud case's first report), ``first.received_at``."""
    if "received_at" in model.model_fields:
        return "received_at"
    for name, info in model.model_fields.items():
        members = _models(info.annotation) if info.is_required() else []
        if members and all("received_at" in m.model_fields for m in members):
            return f"{name}.received_at"
    return None


@dataclass(frozen=True)
class FieldDoc:
    """One field a caller may fill: its dotted path, its kind of value, required or not, and what it is."""

    path: str
    kind: str
    required: bool
    description: str = ""


def _kind(annotation: Any) -> str:
    from pydantic import SecretStr

    a = _strip(annotation)
    if _is_list(a):
        (item,) = get_args(a)[:1] or (Any,)
        if _models(item):
            return "list of objects (JSON)"
        return f"list of {_kind(item)} (repeat the key)"
    if get_origin(a) is Literal:
        return "|".join(str(v.value if isinstance(v, Enum) else v) for v in get_args(a))
    if isinstance(a, type):
        if issubclass(a, Enum):
            return "|".join(str(m.value) for m in a)
        if issubclass(a, bool):
            return "true|false"
        if issubclass(a, int | float):
            return "number"
        if issubclass(a, datetime):
            return "ISO date-time (typed without an offset: Asia/Almaty)"
        if issubclass(a, date):
            return "YYYY-MM-DD"
        if issubclass(a, SecretStr):
            return "text (secret)"
        if issubclass(a, bytes):
            return "base64"
    return "text"


def field_docs(model: type[BaseModel], prefix: str = "", optional: bool = False) -> list[FieldDoc]:
    """Every field of ``model`` a caller fills, nested models flattened into dotted paths (a field left out of the
    schema the edges are built from, ``SkipJsonSchema``, is left out here too).

    The members of a union (a fraud case's first report: a subscriber's, the centre's or our own detection)
    are merged: a field is required only when every member requires it, and the kinds are joined.
    """
    from pydantic.json_schema import SkipJsonSchema

    docs: list[FieldDoc] = []
    for name, info in model.model_fields.items():
        if any(isinstance(m, SkipJsonSchema) for m in info.metadata):
            continue  # the case's own, refused from a caller (a fraud case's cycle, carried reports and state)
        path = prefix + name
        required = info.is_required() and not optional
        members = _models(info.annotation)
        if not members or _is_list(info.annotation):
            docs.append(FieldDoc(path, _kind(info.annotation), required, info.description or ""))
            continue
        merged: dict[str, FieldDoc] = {}
        for i, member in enumerate(members):
            own = {d.path: d for d in field_docs(member, path + ".", optional or not info.is_required())}
            for p in merged.keys() - own.keys():
                merged[p] = replace(merged[p], required=False)
            for p, d in own.items():
                if p not in merged:
                    merged[p] = d if i == 0 else replace(d, required=False)
                elif not set(d.kind.split("|")) <= set(merged[p].kind.split("|")):
                    merged[p] = replace(merged[p], kind=f"{merged[p].kind}|{d.kind}")
        docs.extend(merged.values())
    return docs
