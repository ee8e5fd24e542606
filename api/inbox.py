"""The supervisors' inbox: the escalations the cases send (``activities.deadlines.notify_supervisor`` writes
``supervisor_notifications``): breached legal terms and steps an outside system refused. A supervisor acknowledges
each; who and when is recorded, and the first acknowledgement stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, update
from sqlmodel import col, select

from infra.db import session
from models.tables import SupervisorNotification

__all__ = ["Escalation", "acknowledge", "escalations", "open_count"]


@dataclass
class Escalation:
    """One row of the inbox."""

    row: SupervisorNotification

    @property
    def kind(self) -> str:
        return "blocked" if self.row.deadline_key.startswith("blocked:") else "breach"

    @property
    def term(self) -> str:
        """The term's key, or for a blocked step the system (``blocked:<system>:<n>``)."""
        key = self.row.deadline_key
        return key.split(":")[1] if self.kind == "blocked" else key


def escalations(*, include_acknowledged: bool, limit: int = 500) -> tuple[list[Escalation], int]:
    """The newest escalations first (the open ones only, unless ``include_acknowledged``), and how many are open."""
    with session() as s:
        q = select(SupervisorNotification).order_by(col(SupervisorNotification.breached_at).desc()).limit(limit)
        if not include_acknowledged:
            q = q.where(col(SupervisorNotification.acknowledged_at).is_(None))
        rows = [Escalation(r) for r in s.exec(q)]
    return rows, open_count()


def open_count() -> int:
    """Escalations no supervisor has acknowledged."""
    with session() as s:
        q = select(func.count()).select_from(SupervisorNotification)
        return int(s.exec(q.where(col(SupervisorNotification.acknowledged_at).is_(None))).one())


def acknowledge(notification_id: int, by: str) -> SupervisorNotification | None:
    """Record that ``by`` acknowledged the escalation (the first acknowledgement stands); None when there is none."""
    table = SupervisorNotification.__table__  # type: ignore[attr-defined]
    with session() as s:  # one conditional UPDATE: of two supervisors at once, the first one stands
        s.connection().execute(
            update(table)
            .where(table.c.id == notification_id, table.c.acknowledged_at.is_(None))
            .values(acknowledged_at=datetime.now(UTC), acknowledged_by=by)
        )
    with session() as s:
        return s.get(SupervisorNotification, notification_id)
