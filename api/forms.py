"""HTML forms generated from a pydantic model's JSON schema, and the way back from a posted form.

How nested models map to one flat HTML form (no JavaScript):
- a field's form name is its dotted path in the model: ``applicant.name``; list items carry their index:
  ``documents.0.kind``. Error locations of pydantic use the same path, so each message lands next to
  its field.
- a sub-model is a ``<fieldset>``; a list of sub-models is a repeated group with "add"/"remove" buttons
  (they re-post the form; the count travels in a hidden ``_count.<path>`` field); a list of strings is a
  textarea with one value per line, a list of choices one checkbox per choice (``<path>.<choice>``).
- a discriminated union shows a select for the discriminator and one fieldset per variant; a variant's
  fields are named ``<path>.~<tag>.<field>`` and only the selected variant's fields are read back; a CSS
  ``:has()`` rule shows only the selected variant's fieldset (without it, all show and the rule still holds).
  (pydantic reports errors inside a variant at ``<path>.<tag>.<field>``, which is how they are matched.)
- a fresh form shows the model's defaults (``form: resident``, ``applicant_attended: true``);
- ``date-time`` fields are ``datetime-local`` inputs read as Asia/Almaty; passwords are never re-filled;
  anything the walker does not know becomes a JSON textarea, so every model has a usable form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from api.i18n import gettext
from api.validation import message
from rules.calendar import ALMATY

__all__ = ["Form", "FormField", "Group", "build_form", "form_texts", "humanize", "parse_form"]


@dataclass
class FormField:
    """One input."""

    name: str  # the form name
    loc: str  # where pydantic reports its errors
    path: list[str | int]  # where its value goes in the model's data
    label: str
    kind: str  # text, textarea, number, checkbox, multi, select, datetime, date, password, lines, json, hidden
    required: bool = False
    options: list[str] = field(default_factory=list)
    description: str = ""
    variant: tuple[str, str] | None = None  # (discriminator form name, tag) when inside a union variant
    value: str = ""
    error: str = ""
    default: str = ""  # the model's default, shown on a fresh form
    readonly: bool = False  # set by the server (e.g. who decides: the signed-in user), shown but not editable


@dataclass
class Group:
    """A fieldset: a sub-model, one item of a list, or a union's variant."""

    name: str
    loc: str
    label: str
    kind: str  # object, item, variant, list
    items: list[FormField | Group] = field(default_factory=list)
    tag: str = ""  # the variant's tag
    count: int = 0  # items in a list group
    index: int = 0  # an item's number in its list, from 1
    switch: str = ""  # a union's select: its variants show only while their tag is selected (CSS, no script)
    optional: bool = False  # a sub-model that may be left out (``X | None``): sent only when something in it is
    error: str = ""


@dataclass
class Form:
    """A whole form, ready for the template."""

    items: list[FormField | Group]
    errors: list[str] = field(default_factory=list)  # errors no field claims

    def fields(self) -> list[FormField]:
        out: list[FormField] = []

        def walk(items: list[FormField | Group]) -> None:
            for it in items:
                if isinstance(it, Group):
                    walk(it.items)
                else:
                    out.append(it)

        walk(self.items)
        return out

    def groups(self) -> list[Group]:
        out: list[Group] = []

        def walk(items: list[FormField | Group]) -> None:
            for it in items:
                if isinstance(it, Group):
                    out.append(it)
                    walk(it.items)

        walk(self.items)
        return out

    def without_variants(self, tags: set[str]) -> Form:
        """The form with no union variant tagged ``tags`` (neither its option nor its fieldset): a start form keeps
        only the ways in the signed-in key may send (a fraud case's centre information is the centre's)."""
        for g in self.groups():
            if not g.switch:
                continue
            g.items = [i for i in g.items if not (isinstance(i, Group) and i.kind == "variant" and i.tag in tags)]
            for f in g.items:
                if isinstance(f, FormField) and f.name == g.switch:
                    f.options = [o for o in f.options if o not in tags]
        return self


class _Walker:
    def __init__(self, schema: dict[str, Any], counts: dict[str, int]) -> None:
        self.defs: dict[str, Any] = schema.get("$defs", {})
        self.counts = counts

    def resolve(self, s: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in s:
            ref = s["$ref"].split("/")[-1]
            s = {**self.defs[ref], **{k: v for k, v in s.items() if k != "$ref"}}
        return s

    def obj(
        self,
        s: dict[str, Any],
        name: str,
        loc: str,
        path: list[str | int],
        variant: tuple[str, str] | None,
        skip: str | None = None,
    ) -> list[FormField | Group]:
        required = set(s.get("required", []))
        items: list[FormField | Group] = []
        for prop, sub in s.get("properties", {}).items():
            if prop == skip:
                continue
            items.append(self.node(sub, _join(name, prop), _join(loc, prop), [*path, prop], prop in required, variant))
        return items

    def node(
        self,
        raw: dict[str, Any],
        name: str,
        loc: str,
        path: list[str | int],
        required: bool,
        variant: tuple[str, str] | None,
    ) -> FormField | Group:
        s = self.resolve(raw)
        # the field's own title, else its name; a referenced model's class name (e.g. "DocKind") is no label
        own = raw.get("title") or (path[-1] if isinstance(path[-1], str) else None) or s.get("title") or ""
        if isinstance(path[-1], str) and own == path[-1].replace("_", " ").title():
            own = path[-1]  # pydantic's generated title ("Iin"): the field's own name reads better ("IIN")
        label = humanize(str(own))
        desc = str(raw.get("description") or s.get("description") or "")
        options = s.get("anyOf") or s.get("oneOf")
        if options and "discriminator" not in s:
            non_null = [o for o in options if o.get("type") != "null"]
            if len(non_null) == 1 and len(non_null) < len(options):
                merged = {**self.resolve(non_null[0]), "title": raw.get("title") or s.get("title"), "description": desc}
                node = self.node(merged, name, loc, path, False, variant)
                if isinstance(node, Group) and node.kind == "object":
                    node.optional = True
                return node
            if all(self.resolve(o).get("type") == "object" for o in non_null):
                disc = self._guess_discriminator([self.resolve(o) for o in non_null])
                if disc:
                    mapping = {self.resolve(o)["properties"][disc]["const"]: o for o in non_null}
                    return self.union(disc, mapping, name, loc, path, label, required, variant)
        if "discriminator" in s:
            disc = s["discriminator"]["propertyName"]
            mapping = {tag: {"$ref": ref} for tag, ref in s["discriminator"].get("mapping", {}).items()}
            if options:  # the model's order, not the mapping's (sorted) one
                mapping = {str(self.resolve(o)["properties"][disc].get("const")): o for o in options}
            return self.union(disc, mapping, name, loc, path, label, required, variant)
        typ = s.get("type")
        common = {
            "name": name,
            "loc": loc,
            "path": path,
            "label": label,
            "required": required,
            "description": desc,
            "variant": variant,
            "default": _default(raw.get("default", s.get("default"))),
        }
        if "const" in s:
            return FormField(kind="hidden", value=str(s["const"]), **common)  # type: ignore[arg-type]
        if "enum" in s:
            return FormField(kind="select", options=[str(v) for v in s["enum"]], **common)  # type: ignore[arg-type]
        if typ == "object" and "properties" in s:
            return Group(name=name, loc=loc, label=label, kind="object", items=self.obj(s, name, loc, path, variant))
        if typ == "array":
            item = self.resolve(s.get("items", {}))
            if item.get("type") == "object" and "properties" in item:
                n = self.counts.get(name, max(int(s.get("minItems", 1)), 1 if required else 0))
                group = Group(name=name, loc=loc, label=label, kind="list", count=n)
                for i in range(n):
                    group.items.append(
                        Group(
                            name=f"{name}.{i}",
                            loc=f"{loc}.{i}",
                            label=label,
                            kind="item",
                            index=i + 1,
                            items=self.obj(item, f"{name}.{i}", f"{loc}.{i}", [*path, i], variant),
                        )
                    )
                return group
            if "enum" in item:  # a set of choices: one checkbox per option, named <path>.<option>
                return FormField(kind="multi", options=[str(v) for v in item["enum"]], **common)  # type: ignore[arg-type]
            if item.get("type") in ("string", "integer", "number"):
                return FormField(kind="lines", **common)  # type: ignore[arg-type]
            return FormField(kind="json", **common)  # type: ignore[arg-type]
        if typ == "boolean":
            return FormField(kind="checkbox", **common)  # type: ignore[arg-type]
        if typ in ("integer", "number"):
            return FormField(kind="number", **common)  # type: ignore[arg-type]
        if typ == "string":
            fmt = s.get("format", "")
            kind = {"date-time": "datetime", "date": "date", "password": "password", "email": "email"}.get(fmt, "text")
            if s.get("writeOnly"):
                kind = "password"
            if kind == "text" and int(s.get("maxLength", 0)) > 300:
                kind = "textarea"
            return FormField(kind=kind, **common)  # type: ignore[arg-type]
        return FormField(kind="json", **common)  # type: ignore[arg-type]

    @staticmethod
    def _guess_discriminator(variants: list[dict[str, Any]]) -> str | None:
        common = set.intersection(*(set(v.get("properties", {})) for v in variants)) if variants else set()
        for prop in sorted(common):
            if all("const" in v["properties"][prop] for v in variants):
                return prop
        return None

    def union(
        self,
        disc: str,
        mapping: dict[str, Any],
        name: str,
        loc: str,
        path: list[str | int],
        label: str,
        required: bool,
        variant: tuple[str, str] | None,
    ) -> Group:
        select_name = _join(name, disc)
        group = Group(name=name, loc=loc, label=label, kind="object", switch=select_name)
        group.items.append(
            FormField(
                name=select_name,
                loc=_join(loc, disc),
                path=[*path, disc],
                label=humanize(disc),
                kind="select",
                required=required,
                options=list(mapping),
                variant=variant,
            )
        )
        for tag, ref in mapping.items():
            sub = self.resolve(ref)
            vname = _join(name, f"~{tag}")
            items = self.obj(sub, vname, _join(loc, tag), path, (select_name, tag), skip=disc)
            # the variant's legend is its tag, the text its option shows in the select (a class name is no label)
            group.items.append(Group(name=vname, loc=_join(loc, tag), label=tag, kind="variant", tag=tag, items=items))
        return group


_ACRONYMS = {"iin": "IIN", "bin": "BIN", "iban": "IBAN", "sms": "SMS", "eds": "EDS", "id": "ID", "url": "URL"}


def humanize(name: str) -> str:
    """A field name as a label: ``bank_account`` → "Bank account", ``iin`` → "IIN"."""
    words = [_ACRONYMS.get(w.lower(), w) for w in name.replace("_", " ").split(" ")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def form_texts(model: type[BaseModel]) -> set[str]:
    """Every text the form of ``model`` shows through the catalogue: labels, legends, choices, hints."""
    form = build_form(model)
    texts: set[str] = set()
    for f in form.fields():
        if f.kind != "hidden":
            texts.add(f.label)
            texts.update(f.options)
        if f.description:
            texts.add(f.description)
    texts.update(g.label for g in form.groups())
    return {t for t in texts if t}


def _default_said(f: FormField, lang: str) -> str:
    """A field's default as a fresh form shows it: a text's words in the page's language where the catalogue has
    them (the complaint's "higher administrative body" was English on kk and ru pages: an adversarial run,
    2026-12-05); a choice's or a number's as the model gives it."""
    return gettext(lang, f.default) if f.default and f.kind in ("text", "textarea") else f.default


def _default(value: Any) -> str:
    if value is None or isinstance(value, list | dict):
        return ""
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value)


def _join(prefix: str, part: str) -> str:
    return f"{prefix}.{part}" if prefix else part


def build_form(
    model: type[BaseModel],
    values: dict[str, str] | None = None,
    error: ValidationError | None = None,
    extra_errors: list[str] | None = None,
    *,
    prefill: dict[str, str] | None = None,
    fixed: dict[str, str] | None = None,
    lang: str = "en",
) -> Form:
    """The form of ``model``, filled with posted ``values`` and the messages of ``error`` by field.

    A fresh form shows ``prefill`` (what the case knows, by form name: ``held_at``, ``grounds`` as comma-separated
    choices) over the model's defaults; ``fixed`` values (who decides) are shown read-only whatever was posted, and
    the server sets them again when the form comes back. Messages are in ``lang`` (``api.validation``)."""
    values = values or {}
    counts = {
        k[len("_count.") :]: max(0, min(int(v), 50))
        for k, v in values.items()
        if k.startswith("_count.") and v.isdigit()
    }
    form = Form(
        items=_Walker(model.model_json_schema(), counts).obj(
            _Walker(model.model_json_schema(), counts).resolve(model.model_json_schema()), "", "", [], None
        )
    )
    known = prefill or {}
    for f in form.fields():
        if fixed and f.name in fixed:
            f.value, f.readonly = fixed[f.name], True
        elif not values and f.kind != "hidden":  # a fresh form shows what the case knows, else the model's defaults
            f.value = known.get(f.name, _default_said(f, lang))
        elif f.kind == "multi":
            f.value = ",".join(o for o in f.options if values.get(f"{f.name}.{o}") in ("true", "on", "1"))
        elif f.kind != "password" and f.name in values and f.kind != "hidden":
            f.value = values[f.name]
    form.errors = list(extra_errors or [])
    if error is not None:
        attach_errors(form, error, lang)
    return form


def attach_errors(form: Form, error: ValidationError, lang: str = "en") -> None:
    """Put each message, in ``lang`` and without the rejected value, next to its field (or its fieldset); what no
    field claims goes on top."""
    by_loc: dict[str, FormField | Group] = {f.loc: f for f in form.fields()}
    for g in form.groups():
        by_loc.setdefault(g.loc, g)
    for e in error.errors():
        msg = message(e, lang)  # by the error's type; our validators' sentences without pydantic's "Value error, "
        parts = [str(p) for p in e["loc"]]
        target: FormField | Group | None = None
        while parts and target is None:
            target = by_loc.get(".".join(parts))
            if target is None:
                parts.pop()
        if target is None:
            form.errors.append(msg)
        else:
            target.error = f"{target.error}; {msg}" if target.error else msg


def _set(data: dict[Any, Any], path: list[str | int], value: Any) -> None:
    cur = data
    for p in path[:-1]:
        cur = cur.setdefault(p, {})
    cur[path[-1]] = value


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(isinstance(k, int) for k in node):
            items = [_listify(node[k]) for k in sorted(node)]
            return [i for i in items if i not in ({}, None, "")]
        return {k: _listify(v) for k, v in node.items()}
    return node


def parse_form(form: Form, values: dict[str, str]) -> tuple[dict[str, Any], list[tuple[FormField, str]]]:
    """The model's data from a posted form; plus fields whose text could not even be read (bad JSON). A sub-model
    that may be left out is left out when nothing in it was filled or ticked: an unticked box alone (a browser sends
    none, the form reads it as "no") made a hearing of the permit's compliant decision, which then wanted its time."""
    data: dict[Any, Any] = {}
    problems: list[tuple[FormField, str]] = []
    filled: set[str] = set()
    for f in form.fields():
        if f.variant is not None and values.get(f.variant[0]) != f.variant[1]:
            continue
        raw = values.get(f.name, "")
        if f.kind == "checkbox":
            ticked = raw in ("true", "on", "1")
            _set(data, f.path, ticked)
            if ticked:
                filled.add(f.name)
            continue
        if f.kind == "multi":
            chosen = [o for o in f.options if values.get(f"{f.name}.{o}") in ("true", "on", "1")]
            if chosen:
                _set(data, f.path, chosen)
                filled.add(f.name)
            continue
        if f.kind == "hidden":
            _set(data, f.path, f.value)
            continue
        raw = raw.strip() if f.kind != "password" else raw
        if raw == "":
            continue
        value: Any = raw
        if f.kind == "datetime":
            try:
                value = datetime.fromisoformat(raw)
                if value.tzinfo is None:
                    value = value.replace(tzinfo=ALMATY)
                value = value.isoformat()
            except ValueError:
                problems.append((f, "not a date and time"))
                continue
        elif f.kind == "lines":
            value = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind == "json":
            try:
                value = json.loads(raw)
            except ValueError:
                problems.append((f, "not valid JSON"))
                continue
        _set(data, f.path, value)
        filled.add(f.name)
    for g in form.groups():
        inside = Form(items=g.items).fields()
        if g.optional and inside and not any(f.name in filled for f in inside):
            _drop(data, inside[0].path[: len(g.loc.split("."))])
    return _listify(data), problems


def _drop(data: dict[Any, Any], path: list[str | int]) -> None:
    cur: Any = data
    for p in path[:-1]:
        cur = cur.get(p) if isinstance(cur, dict) else None
    if isinstance(cur, dict):
        cur.pop(path[-1], None)
