"""Checks made at the edge (API, command line) before a case starts: is the act in force for the day
the application would be registered? An application that no act version governs (e.g. act 71 after
its abolition by 305/NK) is refused at once, and no case is started. Workflows check again."""

from __future__ import annotations

from datetime import datetime

from infra.calendar import current_calendar
from rules.acts import ActNotInForce, governing_version

__all__ = ["act_in_force"]


def act_in_force(act_key: str, received_at: datetime) -> None:
    """Raise ``ValueError`` (the act's own refusal message) when ``act_key`` does not govern the application."""
    day = current_calendar().registration_day(received_at)
    try:
        governing_version(act_key, day)
    except ActNotInForce as exc:
        raise ValueError(f"refused: {exc}") from None
