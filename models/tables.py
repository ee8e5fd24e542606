"""SQLModel tables of the local outside world. Never imported by workflow code (DESIGN pitfalls)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["SupervisorNotification"]


def _now() -> datetime:
    return datetime.now(UTC)


class SupervisorNotification(SQLModel, table=True):
    """A breached legal term reported to a supervisor; one row per case and deadline."""

    __tablename__ = "supervisor_notifications"
    __table_args__ = (UniqueConstraint("case_id", "deadline_key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True)
    procedure: str
    deadline_key: str
    cite: str
    due: datetime
    breached_at: datetime
    created_at: datetime = Field(default_factory=_now)
