"""The unified system of electronic subscriber mailboxes (act 71, abolished by 305/NK), locally a table.

Kept so that cases registered while the act was in force finish under their rules and replay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlmodel import select
from temporalio import activity

from infra.db import session
from models.electronic_mailbox import CreateMailboxRequest, MailboxStepRequest
from models.tables import Mailbox

__all__ = ["LocalMailboxSystem", "MailboxActivities", "MailboxSystem"]


class MailboxSystem(Protocol):
    """Creating a mailbox under a login unique among all users, and recording its later steps."""

    def create(self, req: CreateMailboxRequest) -> bool: ...

    def mark(self, req: MailboxStepRequest) -> datetime: ...


class LocalMailboxSystem:
    """The ``mailboxes`` table."""

    def create(self, req: CreateMailboxRequest) -> bool:
        with session() as s:
            row = s.get(Mailbox, req.login)
            if row is not None:
                return row.case_id == req.case_id
            if s.exec(select(Mailbox).where(Mailbox.case_id == req.case_id)).first() is not None:
                return False
            s.add(Mailbox(login=req.login, case_id=req.case_id, holder_id=req.holder_id, created_at=datetime.now(UTC)))
        return True

    def mark(self, req: MailboxStepRequest) -> datetime:
        with session() as s:
            row = s.exec(select(Mailbox).where(Mailbox.case_id == req.case_id)).one()
            field = "confirmed_at" if req.step == "confirmed" else "included_at"
            if getattr(row, field) is None:
                setattr(row, field, datetime.now(UTC))
                s.add(row)
            value: datetime = getattr(row, field)
            return value


class MailboxActivities:
    """The mailbox system's activities."""

    def __init__(self, system: MailboxSystem) -> None:
        self.system = system

    @activity.defn(name="create_mailbox")
    def create_mailbox(self, req: CreateMailboxRequest) -> bool:
        """Create the mailbox (71 p.7) under a login unique among all users (p.11); False if the login is taken."""
        return self.system.create(req)

    @activity.defn(name="mark_mailbox")
    def mark_mailbox(self, req: MailboxStepRequest) -> datetime:
        """Record the EDS confirmation (p.12) or the entry in the single database (p.13); first instant wins."""
        return self.system.mark(req)
