"""The legal acts, their versions and dates of force; which version governs a registration date.

A view over ``rules.law`` kept for today's callers: the data live in ``rules/data/law/<act>.toml`` (one file per
act, format in ``rules/data/law/README.md``). An act "enters into force upon expiry of N calendar days after the
day of its first official publication": the N days start the day after publication, so the act governs from
publication + N + 1 days. Publication dates that the seeds do not give are placeholders in the data files, and
every answer built on one says ``assumed=True``.
"""

from __future__ import annotations

from datetime import date

from rules import law
from rules.law import ActNotInForce, GoverningVersion
from rules.lawdata import Act
from rules.lawdata import Version as ActVersion

__all__ = ["Act", "ActNotInForce", "ActVersion", "GoverningVersion", "acts", "governing_version"]


def acts() -> dict[str, Act]:
    """All acts by key."""
    return dict(law.acts())


def governing_version(act_key: str, registration_day: date) -> GoverningVersion:
    """The version of ``act_key`` in force on ``registration_day``; raises ``ActNotInForce`` otherwise."""
    return law.governing_version(act_key, registration_day)
