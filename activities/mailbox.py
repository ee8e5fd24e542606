"""The unified system of electronic subscriber mailboxes (act 71, abolished by 305/NK), locally a table.

Kept so that cases registered while the act was in force finish under their rules and replay.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select
from temporalio import activity

from infra.db import session
from models.electronic_mailbox import CreateMailboxRequest, MailboxStepRequest
from models.tables import Mailbox

__all__ = ["create_mailbox", "mark_mailbox"]


@activity.defn
async def create_mailbox(req: CreateMailboxRequest) -> bool:
    """Create the mailbox (71 p.7) under a login unique among all users (p.11); False if the login is taken."""
    with session() as s:
        row = s.get(Mailbox, req.login)
        if row is not None:
            return row.case_id == req.case_id
        if s.exec(select(Mailbox).where(Mailbox.case_id == req.case_id)).first() is not None:
            return False
        s.add(Mailbox(login=req.login, case_id=req.case_id, holder_id=req.holder_id, created_at=datetime.now(UTC)))
    return True


@activity.defn
async def mark_mailbox(req: MailboxStepRequest) -> datetime:
    """Record the EDS confirmation (p.12) or the entry in the single database (p.13); first instant wins."""
    with session() as s:
        row = s.exec(select(Mailbox).where(Mailbox.case_id == req.case_id)).one()
        field = "confirmed_at" if req.step == "confirmed" else "included_at"
        if getattr(row, field) is None:
            setattr(row, field, datetime.now(UTC))
            s.add(row)
        value: datetime = getattr(row, field)
        return value
