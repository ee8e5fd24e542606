"""The law in force on a day: acts, paragraphs, terms, grounds and items, read from ``rules/data/law/*.toml``.

Pure: no clock, no Temporal, no I/O beyond the package's data files. Every answer is a frozen pydantic model
that a case can record in its history (e.g. ``terms_of(act, on=registration_day)`` at registration). Citations are
built by ``cite()`` from paragraph ids checked against the act's data, so code never spells a citation itself.

"Which law governs" is asked for a day: ``governing_day()`` turns a receipt into that day (the registration day
when the act rolls after-hours receipts, else the receipt's local date); ``governing_version()``, ``paragraph()``,
``term()`` and ``terms_of()`` answer for it. Announced versions (``expected = true``) never govern.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from rules.lawdata import (
    Act,
    ActNotInForce,
    AmbiguousTerm,
    CountsFrom,
    Direction,
    GoverningVersion,
    LawNotInForce,
    Paragraph,
    ParagraphData,
    ParagraphNotInForce,
    Provision,
    TermData,
    TermNotInForce,
    TermValue,
    Text,
    Unit,
    ValueData,
    Version,
    in_force_in,
    split_reference,
)
from rules.lawfiles import LawFileError, load_act
from rules.text import Sentence

if TYPE_CHECKING:  # the calendar (and the holidays package) loads only where a day is counted
    from rules.calendar import WorkingCalendar

__all__ = [
    "Act",
    "ActNotInForce",
    "AmbiguousTerm",
    "CountsFrom",
    "Direction",
    "GoverningVersion",
    "LawBook",
    "LawFileError",
    "LawNotInForce",
    "Paragraph",
    "ParagraphNotInForce",
    "TermNotInForce",
    "TermValue",
    "Text",
    "Unit",
    "Version",
    "act",
    "act_of_version",
    "act_title",
    "acts",
    "book",
    "cite",
    "cite_range",
    "coverage",
    "governing_day",
    "governing_version",
    "ground",
    "item",
    "items",
    "migration_refusal",
    "number",
    "paragraph",
    "term",
    "terms_at_version",
    "terms_missing",
    "terms_of",
]


def _days(day: date) -> str:
    return day.isoformat()


def _from(day: date, assumed: bool) -> str:
    """The day a version applies from, said with its doubt where its publication date is assumed."""
    return Sentence("{day} (publication date assumed)", day=_days(day)) if assumed else _days(day)


def _not_applied(key: str, pid: str, on: date, why: str) -> Sentence:
    return Sentence("{key} {paragraph} does not apply on {day}: {why}", key=key, paragraph=pid, day=_days(on), why=why)


class LawBook:
    """A set of acts read from data files; the module's functions answer from the package's own book."""

    def __init__(self, acts: Iterable[Act]) -> None:
        self.acts: dict[str, Act] = {}
        for a in acts:
            if a.key in self.acts:
                raise ValueError(f"act {a.key} declared twice ({self.acts[a.key].file}, {a.file})")
            self.acts[a.key] = a
        units: dict[str, tuple[str, TermData]] = {}
        for a in self.acts.values():
            for t in a.terms.values():
                seen = units.setdefault(t.key, (a.key, t))
                if (seen[1].unit, seen[1].direction) != (t.unit, t.direction):
                    raise ValueError(f"term {t.key}: {seen[0]} and {a.key} declare different units or directions")

    @classmethod
    def from_files(cls, paths: Iterable[Path | str]) -> LawBook:
        """A book of the given data files."""
        return cls(load_act(p) for p in paths)

    # -- acts and versions ------------------------------------------------------------------------------

    def act(self, key: str) -> Act:
        """The act called ``key``; an unknown key says which exist."""
        try:
            return self.acts[key]
        except KeyError:
            raise KeyError(f"unknown act {key!r}; known: {', '.join(self.acts)}") from None

    def version_on(self, key: str, day: date) -> Version:
        """The version of ``key`` that governs ``day``; raises ``ActNotInForce`` (not yet in force, or abolished)."""
        a = self.act(key)
        if a.abolished is not None and day >= a.abolished.in_force_from:
            raise ActNotInForce(
                key,
                day,
                Sentence(
                    "act {key} ({title}) was abolished by {by}, in force from {since}; an application registered on "
                    "{day} cannot be accepted under it",
                    key=key,
                    title=Sentence.own(a.title, **a.titles),
                    by=a.abolished.by,
                    since=_from(a.abolished.in_force_from, a.abolished.published_assumed),
                    day=_days(day),
                ),
            )
        governing = [v for v in a.versions if not v.expected and v.in_force_from <= day]
        if not governing:
            first = next((v for v in a.versions if not v.expected), a.versions[0])
            raise ActNotInForce(
                key,
                day,
                Sentence(
                    "act {key} is not in force on {day}; its first version ({version}) applies from {since}",
                    key=key,
                    day=_days(day),
                    version=first.id,
                    since=_days(first.in_force_from),
                ),
            )
        return governing[-1]

    def governing_version(self, key: str, day: date) -> GoverningVersion:
        """The version of ``key`` in force on ``day`` (the day that governs the case)."""
        v = self.version_on(key, day)
        return GoverningVersion(
            act_key=key, version_id=v.id, basis=v.basis, in_force_from=v.in_force_from, assumed=v.published_assumed
        )

    def latest_version(self, key: str) -> Version:
        """The act's latest version that is law (not ``expected``), whatever the day; abolished acts included."""
        return [v for v in self.act(key).versions if not v.expected][-1]

    def governing_day(self, key: str, received_at: datetime, calendar: WorkingCalendar) -> date:
        """The day that governs a receipt: the registration day if the act rolls after-hours receipts, else the
        receipt's local date (Asia/Almaty)."""
        if self.act(key).after_hours.rolls:
            return calendar.registration_day(received_at)
        return calendar.to_local(received_at).date()

    # -- paragraphs and citations -----------------------------------------------------------------------

    def _paragraph_answer(self, a: Act, p: ParagraphData, version_id: str) -> Paragraph:
        w = in_force_in(a, p, version_id)
        assert w is not None
        return Paragraph(
            act=a.key,
            id=p.id,
            citation=f"{a.key} {p.id}",
            title=w.title,
            introduced_by=p.wordings[0].since,
            wording_of=w.since,
            in_force_from=a.version(w.since).in_force_from,
            executed=w.executed,
            reason=w.reason,
            in_seed=w.in_seed,
            repealed_by=p.repealed,
        )

    def paragraph(self, key: str, pid: str, on: date) -> Paragraph:
        """Paragraph ``pid`` of act ``key`` in its wording of ``on``; raises ``ParagraphNotInForce`` saying from
        when it applies, or since when it no longer does."""
        a = self.act(key)
        p, _ = split_reference(a, pid)
        try:
            v = self.version_on(key, on)
        except ActNotInForce as exc:
            raise ParagraphNotInForce(key, on, _not_applied(key, pid, on, exc.args[0])) from None
        if in_force_in(a, p, v.id) is None:
            if p.repealed is not None and a.rank(p.repealed) <= a.rank(v.id):
                r = a.version(p.repealed)
                why = Sentence(
                    "it was repealed by {version} ({basis}), in force from {since}",
                    version=r.id,
                    basis=r.basis,
                    since=_days(r.in_force_from),
                )
            else:
                i = a.version(p.wordings[0].since)
                why = Sentence(
                    "it was added by {version} ({basis}), which applies from {since}",
                    version=i.id,
                    basis=i.basis,
                    since=_from(i.in_force_from, i.published_assumed),
                )
            raise ParagraphNotInForce(key, on, _not_applied(key, pid, on, why))
        return self._paragraph_answer(a, p, v.id)

    def cite(self, key: str, *parts: str) -> str:
        """A citation like ``665/NK p.7, p.9; Annex 1 item 10``: consecutive paragraphs (``p.``) are separated by
        commas, anything else by semicolons. Every part must be a paragraph id of the act, with an optional
        declared subitem (``Annex 1 item 10(1)``), or the head of a group of them (``Annex 4``); else
        ``LookupError``."""
        if not parts:
            raise ValueError("cite: name at least one paragraph")
        a = self.act(key)
        for part in parts:
            if not any(pid.startswith(part + " ") for pid in a.paragraphs):
                split_reference(a, part)
        text = parts[0]
        for before, part in pairwise(parts):
            text += (", " if before.startswith("p.") and part.startswith("p.") else "; ") + part
        return f"{key} {text}"

    def span(self, key: str, first: str, last: str) -> list[str]:
        """The paragraph ids from ``first`` to ``last`` in the order of the act (both included); ``LookupError`` for
        an unknown id, ``ValueError`` when ``last`` does not come after ``first``."""
        a = self.act(key)
        ids = list(a.paragraphs)
        for part in (first, last):
            if part not in a.paragraphs:
                split_reference(a, part)
                raise LookupError(f"act {key}: a range is cited between paragraphs, not subitems ({part!r})")
        start, end = ids.index(first), ids.index(last)
        if end <= start:
            raise ValueError(f"act {key}: {last!r} does not come after {first!r}")
        return ids[start : end + 1]

    def cite_range(self, key: str, first: str, last: str) -> str:
        """A run of consecutive paragraphs, e.g. ``171 p.55-1…p.55-6`` (both ends checked, see ``span``)."""
        self.span(key, first, last)
        return f"{key} {first}…{last}"

    def coverage(self, key: str) -> list[Paragraph]:
        """Every paragraph of the act in its latest wording (expected versions included): executed or why not."""
        a = self.act(key)
        answers = []
        for p in a.paragraphs.values():
            last = p.wordings[-1].since
            answers.append(self._paragraph_answer(a, p, last))
        return answers

    # -- terms --------------------------------------------------------------------------------------------

    def _value(self, a: Act, t: TermData, v: ValueData) -> TermValue:
        assert v.amount is not None
        if v.law:
            reference = v.law
        else:
            reference = self.cite(a.key, *v.reference)
            if v.reference_note:
                reference += f" ({v.reference_note})"
        return TermValue(
            key=t.key,
            act=a.key,
            version=v.since,
            in_force_from=a.version(v.since).in_force_from,
            amount=v.amount,
            unit=t.unit,
            direction=t.direction,
            counts_from=t.counts_from,
            rolls=t.counts_from is CountsFrom.RECEIPT and a.after_hours.rolls,
            reference=reference,
            paragraphs=v.reference,
            law=v.law,
            text=t.text,
            to_be_confirmed=v.to_be_confirmed,
            note=v.note,
        )

    def _value_in(self, a: Act, t: TermData, version_id: str) -> ValueData | None:
        rank = a.rank(version_id)
        current = None
        for v in t.values:
            if a.rank(v.since) <= rank:
                current = v
        return current if current is not None and current.amount is not None else None

    def acts_declaring(self, key: str) -> list[str]:
        """The acts whose data declare term ``key``."""
        return [a.key for a in self.acts.values() if key in a.terms]

    def term(self, key: str, on: date, act: str | None = None) -> TermValue:
        """The value of term ``key`` in force on ``on`` under ``act`` (which may be left out when one act
        declares the term). Raises ``ActNotInForce`` or ``TermNotInForce`` saying from when it applies."""
        declaring = self.acts_declaring(key)
        if not declaring:
            known = sorted({k for a in self.acts.values() for k in a.terms})
            raise KeyError(f"unknown term {key!r}; known: {', '.join(known)}")
        if act is None:
            if len(declaring) > 1:
                raise AmbiguousTerm(key, declaring)
            act = declaring[0]
        a = self.act(act)
        if key not in a.terms:
            raise KeyError(f"act {act} declares no term {key!r}; it is declared by {', '.join(declaring)}")
        t = a.terms[key]
        v = self.version_on(act, on)
        value = self._value_in(a, t, v.id)
        if value is None:
            future = [x for x in t.values if a.rank(x.since) > a.rank(v.id) and x.amount is not None]
            if future:
                f = a.version(future[0].since)
                why = f"its first value comes with {f.id} ({f.basis}), which applies from {_days(f.in_force_from)}"
            else:
                why = f"it has no value under {v.id}"
            raise TermNotInForce(act, on, f"term {key} of act {act} does not apply on {_days(on)}: {why}")
        return self._value(a, t, value)

    def terms_of(self, key: str, on: date) -> dict[str, TermValue]:
        """Every term of act ``key`` with a value on ``on``: the snapshot a case records at registration."""
        return self.terms_at_version(key, self.version_on(key, on).id)

    def terms_at_version(self, key: str, version_id: str) -> dict[str, TermValue]:
        """Every term of act ``key`` with a value under ``version_id`` (a law migration's target, or a draft's)."""
        a = self.act(key)
        a.version(version_id)  # KeyError naming the known versions
        answers = {}
        for t in a.terms.values():
            value = self._value_in(a, t, version_id)
            if value is not None:
                answers[t.key] = self._value(a, t, value)
        return answers

    def latest_terms(self) -> dict[str, list[TermValue]]:
        """Each term's values under every declaring act's latest version that is law (the undated view)."""
        answers: dict[str, list[TermValue]] = {}
        for a in self.acts.values():
            latest = self.latest_version(a.key)
            for t in a.terms.values():
                value = self._value_in(a, t, latest.id)
                if value is not None:
                    answers.setdefault(t.key, []).append(self._value(a, t, value))
        return answers

    # -- grounds and items --------------------------------------------------------------------------------

    def _text(self, a: Act, p: Provision, on: date | None) -> Text:
        if on is not None:
            v = self.version_on(a.key, on)
            if a.rank(p.since) > a.rank(v.id):
                since = a.version(p.since)
                raise ParagraphNotInForce(
                    a.key, on, f"{a.key} {p.kind} {p.id} applies from {_days(since.in_force_from)} ({since.id})"
                )
        return Text(
            act=a.key,
            id=p.id,
            kind=p.kind,
            reference=self.cite(a.key, *p.reference) if p.reference else p.law,
            en=p.en,
            ru=p.ru,
            kk=p.kk,
            from_seed=p.from_seed,
            value=p.value,
            law=p.law,
            since=p.since,
            note=p.note,
        )

    def ground(self, key: str, gid: str, on: date | None = None) -> Text:
        """Refusal ground ``gid`` of act ``key`` (checked to be in force on ``on`` when given)."""
        a = self.act(key)
        if gid not in a.grounds:
            raise KeyError(f"act {key} has no ground {gid!r}; known: {', '.join(a.grounds)}")
        return self._text(a, a.grounds[gid], on)

    def grounds(self, key: str) -> list[Text]:
        """Every refusal ground of the act, in the order of the act."""
        a = self.act(key)
        return [self._text(a, g, None) for g in a.grounds.values()]

    def item(self, key: str, iid: str, on: date | None = None) -> Text:
        """Item ``iid`` of act ``key`` (a channel, form, requirement, permit condition …)."""
        a = self.act(key)
        if iid not in a.items:
            raise KeyError(f"act {key} has no item {iid!r}; known: {', '.join(a.items)}")
        return self._text(a, a.items[iid], on)

    def items(self, key: str, kind: str | None = None) -> list[Text]:
        """The act's items, of one ``kind`` when given, in the order of the act."""
        a = self.act(key)
        return [self._text(a, i, None) for i in a.items.values() if kind is None or i.kind == kind]


def act_of_version(version_id: str) -> Act | None:
    """The act one of whose versions is ``version_id`` (as a case records it), or None."""
    return next((a for a in book().acts.values() if version_id in a.version_ids), None)


def act_title(version_id: str | None, lang: str) -> str | None:
    """The title, in ``lang``, of the act whose version a case recorded; None for an unknown version."""
    found = act_of_version(version_id) if version_id else None
    return found.title_in(lang) if found else None


def package_files() -> list[Path]:
    """The data files shipped in the package, in name order."""
    root = importlib.resources.files("rules").joinpath("data/law")
    return sorted((Path(str(f)) for f in root.iterdir() if f.name.endswith(".toml")), key=lambda p: p.name)


@cache
def book() -> LawBook:
    """The package's law, read once; ``LawFileError`` naming the file and the place when a law file is wrong."""
    try:
        return LawBook.from_files(package_files())
    except ValueError as exc:  # every check of the files names the file and the place
        raise LawFileError(str(exc)) from exc


def act(key: str) -> Act:
    """The act called ``key``."""
    return book().act(key)


def acts() -> Mapping[str, Act]:
    """Every act by key."""
    return book().acts


def governing_day(key: str, received_at: datetime, calendar: WorkingCalendar) -> date:
    """The day that governs a receipt under act ``key`` (see ``LawBook.governing_day``)."""
    return book().governing_day(key, received_at, calendar)


def governing_version(key: str, day: date) -> GoverningVersion:
    """The version of act ``key`` in force on ``day``; raises ``ActNotInForce``."""
    return book().governing_version(key, day)


def paragraph(key: str, pid: str, on: date) -> Paragraph:
    """Paragraph ``pid`` of act ``key`` on ``on``; raises ``ParagraphNotInForce``."""
    return book().paragraph(key, pid, on)


def cite(key: str, *parts: str) -> str:
    """A checked citation, e.g. ``cite("665/NK", "p.7", "Annex 1 item 10")``."""
    return book().cite(key, *parts)


def cite_range(key: str, first: str, last: str) -> str:
    """A checked citation of consecutive paragraphs, e.g. ``cite_range("171", "p.55-1", "p.55-6")``."""
    return book().cite_range(key, first, last)


def coverage(key: str) -> list[Paragraph]:
    """Every paragraph of act ``key``: executed, or why not."""
    return book().coverage(key)


def term(key: str, on: date, act: str | None = None) -> TermValue:
    """The value of term ``key`` on ``on`` (under ``act`` when several acts declare it)."""
    return book().term(key, on, act)


def terms_of(key: str, on: date) -> dict[str, TermValue]:
    """Every term of act ``key`` in force on ``on``."""
    return book().terms_of(key, on)


def terms_at_version(key: str, version_id: str) -> dict[str, TermValue]:
    """Every term of act ``key`` with a value under ``version_id``."""
    return book().terms_at_version(key, version_id)


def migration_refusal(key: str, version_id: str, counted: Iterable[str]) -> str:
    """Why a case of act ``key`` that counts by the terms ``counted`` may not move onto ``version_id`` (empty: it
    may): an unknown version, an announced one (``expected``: not law yet), or one that gives none of those terms —
    an older version, before the amendment that brought the case's procedure in (171/2015 has no ch.3 and no fraud
    check: an adversarial run, 2026-12-03, moved a fraud case onto it)."""
    try:
        version = book().act(key).version(version_id)
    except (KeyError, LookupError, ValueError) as exc:
        return exc.args[0] if exc.args and isinstance(exc.args[0], Sentence) else str(exc).strip("'\"")
    if version.expected:
        return Sentence(
            "{version} is an announced version, not law yet: a dry run may show it, a case may not move",
            version=version_id,
        )
    return terms_missing(key, version_id, counted)


def terms_missing(key: str, version_id: str, counted: Iterable[str]) -> str:
    """Why version ``version_id`` of act ``key`` (which must exist) cannot govern a case that counts by the terms
    ``counted``: it gives none of them (empty: it gives them). Every version gives all of a procedure's terms or none
    (``tests/rules/test_law.py``)."""
    wanted = list(counted)
    if wanted and not set(wanted) & set(book().terms_at_version(key, version_id)):
        return Sentence(
            "{version} gives none of the terms the case counts by ({terms}): its procedure does not run under that "
            "version",
            version=version_id,
            terms=", ".join(wanted),
        )
    return ""


def ground(key: str, gid: str, on: date | None = None) -> Text:
    """Refusal ground ``gid`` of act ``key``."""
    return book().ground(key, gid, on)


def item(key: str, iid: str, on: date | None = None) -> Text:
    """Item ``iid`` of act ``key``."""
    return book().item(key, iid, on)


def number(key: str, iid: str, on: date | None = None) -> int:
    """The value of item ``iid`` of act ``key``, which must be a number (e.g. 171's ten-number limit)."""
    value = item(key, iid, on).value
    if not isinstance(value, int):
        raise TypeError(f"{key} {iid}: its value must be a number")
    return value


def items(key: str, kind: str | None = None) -> list[Text]:
    """The items of act ``key`` (of one ``kind`` when given)."""
    return book().items(key, kind)
