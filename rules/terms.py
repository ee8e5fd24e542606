"""Every legal term of the procedures with its citation: the undated view of ``rules.law``.

``TERMS`` holds each term's value under the latest version (that is law) of the act declaring it, for callers
that do not yet ask for a day; new code asks ``rules.law.term(key, on=day, act=...)``. A term declared by several
acts (the complaint terms of 58 p.10 and 665/NK p.10) appears once, with the citations of all of them; their
amounts must agree. Units never mix: working days, calendar days, minutes and years are different things.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules import law
from rules.lawdata import Direction, Unit

__all__ = ["TERMS", "Direction", "Term", "Unit", "term"]


@dataclass(frozen=True)
class Term:
    """A legal term: an amount in one unit, what it governs, and where the law says so."""

    key: str
    amount: int
    unit: Unit
    cite: str
    text: str
    direction: Direction = Direction.AFTER
    # True where the seeds do not give the value and an operator must confirm it (see ``note``).
    to_be_confirmed: bool = False
    note: str = ""

    def describe(self) -> str:
        """Human-readable form, e.g. ``2 working days (665/NK p.6)``."""
        unit = self.unit.value.replace("_", " ")
        when = " before" if self.direction is Direction.BEFORE else ""
        return f"{self.amount} {unit}{when} ({self.cite})"


def _undated() -> dict[str, Term]:
    terms: dict[str, Term] = {}
    for key, values in law.book().latest_terms().items():
        first = values[0]
        if any((v.amount, v.unit, v.direction) != (first.amount, first.unit, first.direction) for v in values):
            acts = ", ".join(v.act for v in values)
            raise ValueError(f"term {key} differs between acts {acts}: ask rules.law.term(key, on=..., act=...)")
        cites = list(dict.fromkeys(v.reference for v in values))
        terms[key] = Term(
            key=key,
            amount=first.amount,
            unit=first.unit,
            cite="; ".join(cites),
            text=first.text,
            direction=first.direction,
            to_be_confirmed=any(v.to_be_confirmed for v in values),
            note=first.note,
        )
    return terms


TERMS: dict[str, Term] = _undated()


def term(key: str) -> Term:
    """The term called ``key``; an unknown key is a programming error and says which keys exist."""
    try:
        return TERMS[key]
    except KeyError:
        raise KeyError(f"unknown term {key!r}; known: {', '.join(sorted(TERMS))}") from None
