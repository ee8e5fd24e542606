"""The state registries through the e-government gateway (58 Annex item 8), for the subscriber procedures,
and the Mobile Citizens Database.

Locally the registries are the ``registry_persons`` table (identity documents, consent to access
restricted personal data; legal entities by BIN) and the Mobile Citizens Database is the
``mobile_citizens`` table: a connected number appears there, i.e. in the applicant's account.
``add_person`` seeds the registry for the demo and the tests.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select
from temporalio import activity

from infra.db import session
from infra.pseudonym import pseudonym
from models.subscriber import ConnectNumberRequest, IdentityCheck, IdentityCheckRequest, PersonRef
from models.tables import MobileCitizenNumber, RegistryPerson

__all__ = ["add_person", "check_identity", "connect_number", "connected_numbers", "numbers_of"]

GROUND_IDENTITY = "58 Annex item 9 subitem 1"
GROUND_CONSENT = "58 Annex item 9 subitem 2"


def add_person(id_number: str, full_name: str, *, kind: str = "individual",
               document_valid_until: datetime | None = None, consent: bool = True) -> None:
    """Put (or replace) a person or legal entity in the local registry."""
    with session() as s:
        row = s.get(RegistryPerson, id_number) or RegistryPerson(id_number=id_number, full_name=full_name)
        row.full_name, row.kind = full_name, kind
        row.document_valid_until, row.consent_restricted_data = document_valid_until, consent
        s.add(row)


def _aware(v: datetime) -> datetime:
    return v if v.tzinfo else v.replace(tzinfo=UTC)


@activity.defn
async def check_identity(req: IdentityCheckRequest) -> IdentityCheck:
    """The refusal grounds of 58 Annex item 9: identity data/documents, and consent to restricted data."""
    ref = pseudonym("applicant", req.id_number)
    with session() as s:
        row = s.get(RegistryPerson, req.id_number)
    if row is None:
        return IdentityCheck(found=False, applicant_ref=ref, cite=GROUND_IDENTITY,
                             refusal="the applicant is not in the national register of identification numbers "
                                     "(Law on national registers of identification numbers)")
    if row.kind == "individual":
        if row.document_valid_until is None or _aware(row.document_valid_until) < req.at:
            return IdentityCheck(found=True, applicant_ref=ref, full_name=row.full_name, cite=GROUND_IDENTITY,
                                 refusal="the applicant has no valid identity document (Law on identity documents)")
        if not row.consent_restricted_data:
            return IdentityCheck(found=True, applicant_ref=ref, full_name=row.full_name, cite=GROUND_CONSENT,
                                 refusal="no consent to access restricted personal data "
                                         "(Law on personal data and their protection, art. 8)")
    return IdentityCheck(found=True, applicant_ref=ref, full_name=row.full_name)


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
        row = MobileCitizenNumber(phone=req.phone, iin=req.iin, case_id=req.case_id, channel=req.channel,
                                  connected_at=datetime.now(UTC))
        s.add(row)
        return row.connected_at
