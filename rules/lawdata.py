"""The vocabulary of the law as data: the records read from ``rules/data/law/<act>.toml`` and the answers built on
them.

Records (``Act``, ``Version``, ``ParagraphData``, ``TermData`` …) are what a data file declares, checked by
``rules.lawfiles``; answers (``GoverningVersion``, ``Paragraph``, ``TermValue``, ``Text``) are frozen pydantic
models that ``rules.law`` returns and that a case may record in its history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from rules.text import Sentence

__all__ = [
    "Abolition",
    "Act",
    "ActNotInForce",
    "AfterHours",
    "CountsFrom",
    "Direction",
    "GoverningVersion",
    "LawNotInForce",
    "Paragraph",
    "ParagraphData",
    "ParagraphNotInForce",
    "Provision",
    "TermData",
    "TermNotInForce",
    "TermValue",
    "Text",
    "Unit",
    "ValueData",
    "Version",
    "Wording",
    "in_force_from",
    "in_force_in",
    "split_reference",
]

Lang = Literal["en", "ru", "kk"]


class Unit(StrEnum):
    """The unit a term is counted in."""

    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MINUTES = "minutes"
    YEARS = "years"


class Direction(StrEnum):
    """Whether a term runs after its start ("within N days") or before it ("no later than N days before")."""

    AFTER = "after"
    BEFORE = "before"


class CountsFrom(StrEnum):
    """What a term is counted from."""

    RECEIPT = "receipt"
    """The receipt of an application or complaint: the act's after-hours roll applies when the act rolls."""
    EVENT = "event"
    """An event (a notice, a decision, a report): counting starts the day after it; no roll."""


_DAYS_AFTER = re.compile(r"(\d+) calendar days after publication")
Value = int | str | list[str] | dict[str, int | str]


def in_force_from(published: date, rule: str) -> date:
    """First day of force under ``rule``: "N calendar days after publication" means publication + N + 1 days.

    The N days start the day after publication and the act applies once they have expired; "day after
    publication" means publication + 1.
    """
    if rule == "day after publication":
        return published + timedelta(days=1)
    m = _DAYS_AFTER.fullmatch(rule)
    if not m:
        raise ValueError(f"unknown in_force rule {rule!r} (use 'N calendar days after publication')")
    return published + timedelta(days=int(m.group(1)) + 1)


@dataclass(frozen=True)
class Version:
    """One wording of an act, in force from a rule applied to its (possibly assumed) publication date."""

    id: str
    basis: str
    published: date
    published_assumed: bool
    in_force_rule: str
    reference: tuple[str, ...] = ()
    source: str = ""
    expected: bool = False
    note: str = ""

    @property
    def in_force_from(self) -> date:
        """First day this version governs."""
        return in_force_from(self.published, self.in_force_rule)


@dataclass(frozen=True)
class Abolition:
    """The act that abolishes this one, and when the abolition takes effect."""

    by: str
    published: date
    published_assumed: bool
    in_force_rule: str
    source: str = ""

    @property
    def in_force_from(self) -> date:
        """First day the act no longer governs."""
        return in_force_from(self.published, self.in_force_rule)


@dataclass(frozen=True)
class AfterHours:
    """Whether receipts after office hours or on a day off are registered on the next working day under this act."""

    rolls: bool
    reference: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Wording:
    """A paragraph's text from one version on: what it says in short and whether the engine executes it."""

    since: str
    title: str
    executed: bool
    reason: str = ""
    in_seed: bool = True
    subitems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParagraphData:
    """A paragraph (or annex item) with its wordings in order and its repeal, if any."""

    id: str
    wordings: tuple[Wording, ...]
    repealed: str | None = None

    @property
    def subitems(self) -> frozenset[str]:
        return frozenset(s for w in self.wordings for s in w.subitems)


@dataclass(frozen=True)
class ValueData:
    """A term's amount from one version on (``amount`` None: the term is repealed from that version)."""

    since: str
    amount: int | None
    reference: tuple[str, ...] = ()
    law: str = ""
    reference_note: str = ""
    to_be_confirmed: bool = False
    note: str = ""


@dataclass(frozen=True)
class TermData:
    """A legal term and its dated values."""

    key: str
    text: str
    unit: Unit
    direction: Direction
    counts_from: CountsFrom
    values: tuple[ValueData, ...]


@dataclass(frozen=True)
class Provision:
    """A refusal ground or an item (channel, form, requirement, condition …) with its texts."""

    id: str
    kind: str
    since: str
    reference: tuple[str, ...]
    en: str
    ru: str = ""
    kk: str = ""
    from_seed: tuple[str, ...] = ()
    value: Value | None = None
    law: str = ""
    note: str = ""


@dataclass(frozen=True)
class Act:
    """An act as its data file declares it."""

    key: str
    title: str
    order: str
    seed: str
    file: str
    versions: tuple[Version, ...]
    after_hours: AfterHours
    paragraphs: Mapping[str, ParagraphData]
    terms: Mapping[str, TermData]
    grounds: Mapping[str, Provision]
    items: Mapping[str, Provision]
    abolished: Abolition | None = None
    titles: Mapping[str, str] = field(default_factory=dict)
    """The act's title in Kazakh and Russian (``kk``, ``ru``); ``title`` is the English one."""

    def title_in(self, lang: str) -> str:
        """The act's title in ``lang`` (kk, ru, en), English when the file gives none in that language."""
        return self.titles.get(lang, self.title)

    @property
    def abolished_by(self) -> str | None:
        return self.abolished.by if self.abolished else None

    @property
    def abolished_from(self) -> date | None:
        return self.abolished.in_force_from if self.abolished else None

    @property
    def abolished_assumed(self) -> bool:
        return self.abolished.published_assumed if self.abolished else False

    def version(self, version_id: str) -> Version:
        for v in self.versions:
            if v.id == version_id:
                return v
        raise KeyError(
            Sentence(
                "act {key} has no version {version}; known: {known}",
                key=self.key,
                version=repr(version_id),
                known=", ".join(self.version_ids),
            )
        )

    @property
    def version_ids(self) -> tuple[str, ...]:
        return tuple(v.id for v in self.versions)

    def rank(self, version_id: str) -> int:
        """Position of a version in the order of force (0 = the first)."""
        return self.version_ids.index(self.version(version_id).id)

    def resolve(self, part: str) -> tuple[ParagraphData, str | None]:
        """The paragraph a citation part names (``p.7``, ``Annex 1 item 10(1)``) and its subitem, if any."""
        if part in self.paragraphs:
            return self.paragraphs[part], None
        m = re.fullmatch(r"(.+)\(([^()]+)\)", part)
        if m and m.group(1) in self.paragraphs and m.group(2) in self.paragraphs[m.group(1)].subitems:
            return self.paragraphs[m.group(1)], m.group(2)
        raise LookupError(part)


# --- consistency -------------------------------------------------------------------------------------


def in_force_in(act: Act, p: ParagraphData, version_id: str) -> Wording | None:
    """The wording of ``p`` in force in ``version_id`` (None: not yet introduced, or repealed)."""
    rank = act.rank(version_id)
    if p.repealed is not None and act.rank(p.repealed) <= rank:
        return None
    current = None
    for w in p.wordings:
        if act.rank(w.since) <= rank:
            current = w
    return current


def split_reference(act: Act, part: str) -> tuple[ParagraphData, str | None]:
    """The paragraph named by a citation part of ``act``; an unknown part is a ``LookupError`` that says so."""
    try:
        return act.resolve(part)
    except LookupError:
        raise LookupError(
            f"act {act.key} has no paragraph {part!r} (see {act.file}); known: {', '.join(act.paragraphs)}"
        ) from None


# --- answers ---------------------------------------------------------------------------------------


class LawNotInForce(ValueError):
    """Something of the law asked for a day on which it does not apply."""

    def __init__(self, act_key: str, day: date, message: str) -> None:
        super().__init__(message)
        self.act_key = act_key
        self.day = day


class ActNotInForce(LawNotInForce):
    """No version of the act governs the day asked (not yet in force, or abolished)."""


class ParagraphNotInForce(LawNotInForce):
    """The paragraph is not part of the act on the day asked (added later, repealed, or the act is not in force)."""


class TermNotInForce(LawNotInForce):
    """The term has no value on the day asked."""


class AmbiguousTerm(ValueError):
    """The term is declared by several acts and the question did not say which."""

    def __init__(self, key: str, acts: list[str]) -> None:
        super().__init__(f"term {key} is declared by acts {', '.join(acts)}: say which act")
        self.key = key
        self.acts = acts


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)  # built when first used: `--help` uses none


class GoverningVersion(_Answer):
    """The answer to "which version governs": recorded on every case."""

    act_key: str
    version_id: str
    basis: str
    in_force_from: date
    assumed: bool
    """A publication date behind this answer is a placeholder."""


class Paragraph(_Answer):
    """A paragraph in the wording in force on a day (or, from ``coverage()``, its latest wording)."""

    act: str
    id: str
    citation: str
    """e.g. ``171 p.119``."""
    title: str
    introduced_by: str
    """The version that added the paragraph."""
    wording_of: str
    """The version whose wording applies."""
    in_force_from: date
    """First day of that wording."""
    executed: bool
    """Whether the engine executes this wording."""
    reason: str = ""
    """Why it is not executed."""
    in_seed: bool = True
    """False: named by the seed but its text is not in it."""
    repealed_by: str | None = None


class TermValue(_Answer):
    """A legal term's value in force on a day under one act, with everything needed to count it."""

    key: str
    act: str
    version: str
    """The version from which this value applies."""
    in_force_from: date
    amount: int
    unit: Unit
    direction: Direction
    counts_from: CountsFrom
    rolls: bool
    """True: the start is a receipt and the act registers after-hours receipts on the next working day."""
    reference: str
    """The citation shown with a deadline, e.g. ``171 p.119``."""
    paragraphs: tuple[str, ...] = ()
    """The act's paragraphs that state the value (checked against the data)."""
    law: str = ""
    """An outside law the value comes from, e.g. ``Law on public services art. 25 p.2``."""
    text: str
    to_be_confirmed: bool = False
    note: str = ""

    def describe(self) -> str:
        """Human-readable form, e.g. ``2 working days (171 p.119)``."""
        before = " before" if self.direction is Direction.BEFORE else ""
        return f"{self.amount} {self.unit.value.replace('_', ' ')}{before} ({self.reference})"


class Text(_Answer):
    """A refusal ground or an item of an act, with its texts and reference."""

    act: str
    id: str
    kind: str
    reference: str
    """e.g. ``665/NK Annex 1 item 10(1)``."""
    en: str
    ru: str = ""
    kk: str = ""
    from_seed: tuple[str, ...] = ()
    """The languages whose text is the seed's own words; the others are ours, to be checked."""
    value: int | str | list[str] | dict[str, int | str] | None = None
    law: str = ""
    since: str
    note: str = ""

    def text(self, lang: Lang = "en") -> str:
        """The text in ``lang``, falling back to English where the data have none."""
        return str(getattr(self, lang)) or self.en
