"""The Mobile Citizens Database (act 58): a connected number appears in the person's e-government account.

Locally the ``mobile_citizens`` table. ``connect_number`` is idempotent per case.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select
from temporalio import activity

from infra.db import session
from models.egov_number_connection import ConnectNumberRequest
from models.identification import PersonRef
from models.tables import MobileCitizenNumber

__all__ = ["connect_number", "connected_numbers", "numbers_of"]


def numbers_of(iin: str) -> list[str]:
    """The numbers connected to a person's e-government account."""
    with session() as s:
        return sorted(r.phone for r in s.exec(select(MobileCitizenNumber).where(MobileCitizenNumber.iin == iin)))


@activity.defn
async def connected_numbers(req: PersonRef) -> list[str]:
    """The numbers in the Mobile Citizens Database for a person."""
    return numbers_of(req.iin)


@activity.defn
async def connect_number(req: ConnectNumberRequest) -> datetime:
    """Enter the number in the Mobile Citizens Database (replacing ``replaces``); idempotent per case."""
    with session() as s:
        row = s.get(MobileCitizenNumber, req.phone)
        if row is not None and row.case_id == req.case_id:
            return row.connected_at
        if req.replaces:
            old = s.get(MobileCitizenNumber, req.replaces)
            if old is not None and old.iin == req.iin:
                s.delete(old)
        if row is not None:  # the number moved to another person: the latest connection wins
            s.delete(row)
            s.flush()
        row = MobileCitizenNumber(
            phone=req.phone, iin=req.iin, case_id=req.case_id, channel=req.channel, connected_at=datetime.now(UTC)
        )
        s.add(row)
        return row.connected_at
