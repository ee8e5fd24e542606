"""Reading the law's data files (``rules/data/law/<act>.toml``, format in its ``README.md``) into checked records.

A file is checked as a whole when it is read: unknown keys are refused (a typo never passes silently), every
version named by a wording, a value, a ground or an item exists, and every paragraph a reference names exists
and is in force in the version that cites it. Errors name the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from rules.lawdata import (
    Abolition,
    Act,
    AfterHours,
    CountsFrom,
    Direction,
    ParagraphData,
    Provision,
    TermData,
    Unit,
    ValueData,
    Version,
    Wording,
    in_force_from,
    in_force_in,
    split_reference,
)

__all__ = ["LawFileError", "load_act"]


class _Table:
    """One TOML table, read key by key; what is left unread at the end is an unknown key."""

    def __init__(self, where: str, data: Mapping[str, Any]) -> None:
        self.where = where
        self.data = dict(data)

    def fail(self, message: str) -> ValueError:
        return ValueError(f"{self.where}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.fail(f"missing {key!r}")
            return default
        value = self.data.pop(key)
        if kind is date and not (isinstance(value, date) and type(value) is date):
            raise self.fail(f"{key} must be a date YYYY-MM-DD")
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"{key} has the wrong type ({type(value).__name__})")
        return value

    def strs(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [])
        if not all(isinstance(v, str) and v for v in value):
            raise self.fail(f"{key} must be a list of strings")
        return tuple(value)

    def tables(self, key: str) -> list[_Table]:
        rows = self.get(key, list, [])
        return [_Table(f"{self.where} {key}[{i}]", row) for i, row in enumerate(rows)]

    def done(self) -> None:
        if self.data:
            raise self.fail(f"unknown keys {sorted(self.data)}")


def _published(t: _Table) -> tuple[date, bool]:
    real = t.get("published", date, None)
    assumed = t.get("published_assumed", date, None)
    if (real is None) == (assumed is None):
        raise t.fail("give exactly one of published (the real date) or published_assumed (a placeholder)")
    return (real, False) if real is not None else (assumed, True)


def _version(t: _Table) -> Version:
    published, assumed = _published(t)
    rule = t.get("in_force", str)
    in_force_from(published, rule)  # the rule must parse
    v = Version(
        id=t.get("id", str),
        basis=t.get("basis", str),
        published=published,
        published_assumed=assumed,
        in_force_rule=rule,
        reference=t.strs("reference"),
        source=t.get("source", str, ""),
        expected=t.get("expected", bool, False),
        note=t.get("note", str, ""),
    )
    if not (v.reference or v.source):
        raise t.fail(f"version {v.id}: give the reference of its date of force (reference or source)")
    t.done()
    return v


def _wording(t: _Table, since: str) -> Wording:
    executed = t.get("executed", bool)
    w = Wording(
        since=since,
        title=t.get("title", str),
        executed=executed,
        reason=t.get("reason", str, ""),
        in_seed=t.get("in_seed", bool, True),
        subitems=t.strs("subitems"),
    )
    if not executed and not w.reason:
        raise t.fail("a paragraph not executed needs its reason")
    return w


def _paragraph(t: _Table) -> ParagraphData:
    pid = t.get("id", str)
    later = t.tables("wording")
    first = _wording(t, t.get("since", str))
    repealed = t.get("repealed", str, None)
    t.done()
    wordings = [first]
    for w in later:
        wordings.append(_wording(w, w.get("since", str)))
        w.done()
    return ParagraphData(id=pid, wordings=tuple(wordings), repealed=repealed)


def _term(t: _Table) -> TermData:
    key = t.get("key", str)
    values = []
    for v in t.tables("value"):
        repealed = v.get("repealed", bool, False)
        amount = None if repealed else v.get("amount", int)
        if amount is not None and amount <= 0:
            raise v.fail("amount must be positive")
        value = ValueData(
            since=v.get("since", str),
            amount=amount,
            reference=v.strs("reference"),
            law=v.get("law", str, ""),
            reference_note=v.get("reference_note", str, ""),
            to_be_confirmed=v.get("to_be_confirmed", bool, False),
            note=v.get("note", str, ""),
        )
        if amount is not None and not (value.reference or value.law):
            raise v.fail(f"term {key}: a value needs its reference (paragraphs of the act, or law)")
        if value.to_be_confirmed and not value.note:
            raise v.fail(f"term {key}: a value to be confirmed needs a note saying why")
        v.done()
        values.append(value)
    if not values:
        raise t.fail(f"term {key} has no value")
    try:
        term = TermData(
            key=key,
            text=t.get("text", str),
            unit=Unit(t.get("unit", str)),
            direction=Direction(t.get("direction", str)),
            counts_from=CountsFrom(t.get("counts_from", str)),
            values=tuple(values),
        )
    except ValueError as exc:
        raise t.fail(f"term {key}: {exc}") from None
    t.done()
    return term


def _provision(t: _Table, kind: str | None) -> Provision:
    p = Provision(
        id=t.get("id", str),
        kind=kind or t.get("kind", str),
        since=t.get("since", str),
        reference=t.strs("reference"),
        en=t.get("en", str),
        ru=t.get("ru", str, ""),
        kk=t.get("kk", str, ""),
        from_seed=t.strs("from_seed") if "from_seed" in t.data else (),
        value=t.get("value", (int, str, list, dict), None),
        law=t.get("law", str, ""),
        note=t.get("note", str, ""),
    )
    if not (p.reference or p.law):
        raise t.fail(f"{p.id}: give its reference (paragraphs of the act, or law: where else it comes from)")
    if unknown := set(p.from_seed) - {"en", "ru", "kk"}:
        raise t.fail(f"{p.id}: from_seed names unknown languages {sorted(unknown)}")
    if missing := [lang for lang in p.from_seed if not getattr(p, lang)]:
        raise t.fail(f"{p.id}: from_seed names languages without a text {missing}")
    t.done()
    return p


def _unique(where: str, what: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"{where}: {what} {i!r} declared twice")
        seen.add(i)


class LawFileError(ValueError):
    """A law file (``rules/data/law``) that cannot be read or contradicts itself: its name, where, and what."""


def load_act(path: Path | str, text: str | None = None) -> Act:
    """Read and check one act's data file (``text`` given: the file's content, ``path`` only names it)."""
    name = Path(path).name
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8") if text is None else text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    top = _Table(name, raw)
    versions = sorted((_version(t) for t in top.tables("version")), key=lambda v: v.in_force_from)
    if not versions:
        raise top.fail("an act needs at least one version")
    abolished = None
    if "abolished" in top.data:
        t = _Table(f"{name} abolished", top.get("abolished", dict))
        published, assumed = _published(t)
        abolished = Abolition(t.get("by", str), published, assumed, t.get("in_force", str), t.get("source", str, ""))
        in_force_from(published, abolished.in_force_rule)
        t.done()
    ah = _Table(f"{name} after_hours", top.get("after_hours", dict))
    after_hours = AfterHours(ah.get("rolls", bool), ah.strs("reference"), ah.get("reason", str))
    ah.done()
    paragraphs = [_paragraph(t) for t in top.tables("paragraph")]
    terms = [_term(t) for t in top.tables("term")]
    grounds = [_provision(t, "ground") for t in top.tables("ground")]
    items = [_provision(t, None) for t in top.tables("item")]
    for what, ids in (
        ("version", [v.id for v in versions]),
        ("paragraph", [p.id for p in paragraphs]),
        ("term", [t.key for t in terms]),
        ("ground", [g.id for g in grounds]),
        ("item", [i.id for i in items]),
    ):
        _unique(name, what, ids)
    act = Act(
        key=top.get("key", str),
        title=top.get("title", str),
        titles={lang: text for lang in ("kk", "ru") if (text := top.get(f"title_{lang}", str, None))},
        order=top.get("order", str),
        seed=top.get("seed", str),
        file=name,
        versions=tuple(versions),
        after_hours=after_hours,
        paragraphs={p.id: p for p in paragraphs},
        terms={t.key: t for t in terms},
        grounds={g.id: g for g in grounds},
        items={i.id: i for i in items},
        abolished=abolished,
    )
    top.done()
    _check(act)
    return act


def _check_reference(act: Act, where: str, parts: Iterable[str], version_id: str) -> None:
    for part in parts:
        try:
            p, _ = split_reference(act, part)
        except LookupError as exc:
            raise ValueError(f"{act.file}: {where}: {exc}") from None
        if in_force_in(act, p, version_id) is None:
            raise ValueError(f"{act.file}: {where}: {act.key} {part} is not in force in {version_id}")


def _check(act: Act) -> None:
    """Versions named exist; references name paragraphs in force where they are cited; values are in order."""
    known = set(act.version_ids)

    def version(where: str, vid: str) -> str:
        if vid not in known:
            raise ValueError(f"{act.file}: {where}: unknown version {vid!r}; known: {', '.join(act.version_ids)}")
        return vid

    for p in act.paragraphs.values():
        ranks = [act.rank(version(f"paragraph {p.id}", w.since)) for w in p.wordings]
        if ranks != sorted(set(ranks)):
            raise ValueError(f"{act.file}: paragraph {p.id}: wordings must follow the order of the versions")
        if p.repealed is not None and act.rank(version(f"paragraph {p.id}", p.repealed)) <= ranks[0]:
            raise ValueError(f"{act.file}: paragraph {p.id}: repealed before it was introduced")
    for v in act.versions:
        _check_reference(act, f"version {v.id}", v.reference, v.id)
    last = act.versions[-1].id
    _check_reference(act, "after_hours", act.after_hours.reference, last)
    for t in act.terms.values():
        ranks = [act.rank(version(f"term {t.key}", value.since)) for value in t.values]
        if ranks != sorted(set(ranks)):
            raise ValueError(f"{act.file}: term {t.key}: values must follow the order of the versions")
        for value in t.values:
            _check_reference(act, f"term {t.key} since {value.since}", value.reference, value.since)
    for kind, provisions in (("ground", act.grounds), ("item", act.items)):
        for g in provisions.values():
            _check_reference(act, f"{kind} {g.id}", g.reference, version(f"{kind} {g.id}", g.since))
