"""The legal acts, their versions and dates of force; which version governs a registration date.

The data live in ``rules/data/acts.toml``. An act "enters into force upon expiry of N calendar days
after the day of its first official publication": the N days start the day after publication, so
the act governs from publication + N + 1 days. Publication dates that the seeds do not give are
placeholders in the data file, and every answer built on one says ``assumed=True``.
"""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

__all__ = ["Act", "ActNotInForce", "ActVersion", "GoverningVersion", "acts", "governing_version"]


class ActNotInForce(ValueError):
    """No version of the act governs the date asked (not yet in force, or abolished)."""

    def __init__(self, act_key: str, day: date, message: str) -> None:
        super().__init__(message)
        self.act_key = act_key
        self.day = day


def _in_force_from(published: date, rule: str) -> date:
    if rule == "day after publication":
        return published + timedelta(days=1)
    m = re.fullmatch(r"(\d+) calendar days after publication", rule)
    if not m:
        raise ValueError(f"acts.toml: unknown in_force rule {rule!r}")
    return published + timedelta(days=int(m.group(1)) + 1)


@dataclass(frozen=True)
class ActVersion:
    """One wording of an act."""

    id: str
    basis: str
    published: date
    published_assumed: bool
    in_force_rule: str

    @property
    def in_force_from(self) -> date:
        """First day this version governs."""
        return _in_force_from(self.published, self.in_force_rule)


@dataclass(frozen=True)
class Act:
    """A legal act with its versions in order of force, and its abolition if any."""

    key: str
    title: str
    order: str
    seed: str
    versions: tuple[ActVersion, ...]
    abolished_by: str | None = None
    abolished_from: date | None = None
    abolished_assumed: bool = False


@dataclass(frozen=True)
class GoverningVersion:
    """The answer to "which version governs": recorded on every case."""

    act_key: str
    version_id: str
    basis: str
    in_force_from: date
    assumed: bool  # a publication date behind this answer is a placeholder


def _published(row: dict[str, object], prefix: str = "") -> tuple[date, bool]:
    real = row.get(f"{prefix}published")
    if isinstance(real, date):
        return real, False
    placeholder = row.get(f"{prefix}published_assumed")
    if not isinstance(placeholder, date):
        raise ValueError(f"acts.toml: {row.get('id') or row.get('key')} has no publication date")
    return placeholder, True


@cache
def acts() -> dict[str, Act]:
    """All acts by key, read once from the package data."""
    text = importlib.resources.files("rules").joinpath("data/acts.toml").read_text(encoding="utf-8")
    result: dict[str, Act] = {}
    for row in tomllib.loads(text)["act"]:
        versions = []
        for v in row["version"]:
            published, assumed = _published(v)
            versions.append(ActVersion(v["id"], v["basis"], published, assumed, v["in_force"]))
        versions.sort(key=lambda v: v.in_force_from)
        abolished_from = None
        abolished_assumed = False
        if row.get("abolished_by"):
            pub, abolished_assumed = _published(row, "abolished_")
            abolished_from = _in_force_from(pub, row["abolished_in_force"])
        result[row["key"]] = Act(
            key=row["key"],
            title=row["title"],
            order=row["order"],
            seed=row["seed"],
            versions=tuple(versions),
            abolished_by=row.get("abolished_by"),
            abolished_from=abolished_from,
            abolished_assumed=abolished_assumed,
        )
    return result


def governing_version(act_key: str, registration_day: date) -> GoverningVersion:
    """The version of ``act_key`` in force on ``registration_day``; raises ``ActNotInForce`` otherwise."""
    try:
        act = acts()[act_key]
    except KeyError:
        raise KeyError(f"unknown act {act_key!r}; known: {', '.join(sorted(acts()))}") from None
    if act.abolished_from is not None and registration_day >= act.abolished_from:
        raise ActNotInForce(
            act_key,
            registration_day,
            f"act {act_key} ({act.title}) was abolished by {act.abolished_by}, in force from "
            f"{act.abolished_from.isoformat()}; an application registered on {registration_day.isoformat()} "
            "cannot be accepted under it",
        )
    governing = [v for v in act.versions if v.in_force_from <= registration_day]
    if not governing:
        first = act.versions[0]
        raise ActNotInForce(
            act_key,
            registration_day,
            f"act {act_key} is not in force on {registration_day.isoformat()}; "
            f"its first version applies from {first.in_force_from.isoformat()}",
        )
    v = governing[-1]
    return GoverningVersion(act_key, v.id, v.basis, v.in_force_from, v.published_assumed)
