"""The working calendar in force now: ``holidays.KZ``, the Government's transfers and the operator's override
file (``KZ_CALENDAR_OVERRIDES``), rebuilt only when that file changes.

Read by activities (deadlines, registration, hearing windows) and by the edge (intake checks, the console's
working days left); never by workflow code, which waits on instants recorded by an activity.
"""

from __future__ import annotations

from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.settings import settings
from rules.calendar import WorkingCalendar

__all__ = ["CALENDAR_FILE_INVALID", "current_calendar"]

CALENDAR_FILE_INVALID = "CalendarFileInvalid"
"""The error type of an activity that met a broken override file: non-retryable, so the case blocks visibly
(``CaseWorkflow._block``) until the file is fixed and staff resume the step, instead of retrying unseen."""

_cache: tuple[tuple[str, int, int], WorkingCalendar] | None = None


def current_calendar(path: Path | None = None) -> WorkingCalendar:
    """The calendar as the operator's override file says now; rebuilt only when that file changes.

    A broken file raises ``ValueError`` naming the file and the entry; inside an activity, a non-retryable
    ``ApplicationError`` of type ``CalendarFileInvalid`` (retrying cannot mend a file).
    """
    global _cache
    path = path or settings().calendar_overrides
    try:
        st = path.stat()
        stamp = (str(path), st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        stamp = (str(path), 0, 0)
    if _cache is None or _cache[0] != stamp:
        try:
            cal = WorkingCalendar(path if stamp[1] else None)
        except ValueError as exc:
            if activity.in_activity():
                raise ApplicationError(str(exc), type=CALENDAR_FILE_INVALID, non_retryable=True) from exc
            raise
        _cache = (stamp, cal)
    return _cache[1]
