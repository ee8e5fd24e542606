"""Idempotent writes to our own tables, shared by the activities' local implementations."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from infra.db import session
from models.deadlines import Escalation
from models.tables import SupervisorNotification

__all__ = ["record_escalation"]


def record_escalation(e: Escalation) -> bool:
    """Store an escalation once; returns False when it was already stored (an activity retry)."""
    try:
        with session() as s:
            exists = s.exec(
                select(SupervisorNotification).where(
                    SupervisorNotification.case_id == e.case_id,
                    SupervisorNotification.deadline_key == e.deadline_key,
                )
            ).first()
            if exists:
                return False
            s.add(SupervisorNotification(
                case_id=e.case_id, procedure=e.procedure, deadline_key=e.deadline_key, cite=e.cite,
                due=e.due, breached_at=e.breached_at,
            ))
        return True
    except IntegrityError:
        return False
