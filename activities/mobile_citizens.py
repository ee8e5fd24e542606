"""The Mobile Citizens Database (act 58): a connected number appears in the person's e-government account.

Locally the ``mobile_citizens`` table. Connecting is idempotent per case.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlmodel import select
from temporalio import activity

from infra.db import session
from models.egov_number_connection import ConnectNumberRequest
from models.identification import PersonRef
from models.tables import MobileCitizenNumber

__all__ = [
    "LocalMobileCitizensDatabase",
    "MobileCitizensActivities",
    "MobileCitizensDatabase",
    "numbers_of",
]


def numbers_of(iin: str) -> list[str]:
    """The numbers connected to a person's e-government account (local table)."""
    with session() as s:
        return sorted(r.phone for r in s.exec(select(MobileCitizenNumber).where(MobileCitizenNumber.iin == iin)))


class MobileCitizensDatabase(Protocol):
    """Which numbers a person has connected, and connecting one (replacing another); idempotent per case."""

    def numbers_of(self, iin: str) -> list[str]: ...

    def connect(self, req: ConnectNumberRequest) -> datetime: ...


class LocalMobileCitizensDatabase:
    """The ``mobile_citizens`` table."""

    def numbers_of(self, iin: str) -> list[str]:
        return numbers_of(iin)

    def connect(self, req: ConnectNumberRequest) -> datetime:
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
                phone=req.phone,
                iin=req.iin,
                case_id=req.case_id,
                channel=req.channel,
                connected_at=datetime.now(UTC),
            )
            s.add(row)
            return row.connected_at


class MobileCitizensActivities:
    """The Mobile Citizens Database's activities."""

    def __init__(self, database: MobileCitizensDatabase) -> None:
        self.database = database

    @activity.defn(name="connected_numbers")
    def connected_numbers(self, req: PersonRef) -> list[str]:
        """The numbers in the Mobile Citizens Database for a person."""
        return self.database.numbers_of(req.iin)

    @activity.defn(name="connect_number")
    def connect_number(self, req: ConnectNumberRequest) -> datetime:
        """Enter the number in the Mobile Citizens Database (replacing ``replaces``); idempotent per case."""
        return self.database.connect(req)
