"""The operator's register of subscriber numbers of individuals (171 p.55-1…55-6), locally tables.

Numbers are registered on the basis of a signed contract (p.55-6, the ``signed_contracts`` table
written by the EDS signing procedure); outcomes of applications are kept so that a new application
can refer to a refused one (p.55-5).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select
from temporalio import activity

from infra.db import session
from infra.pseudonym import pseudonym
from models.subscriber import (
    ContractSignedRequest,
    NumbersDecisionRecord,
    NumbersHeld,
    NumbersHeldRequest,
    PriorApplication,
    PriorApplicationRequest,
    RegisterNumbersRequest,
)
from models.tables import NumbersApplicationRecord, SignedContract, SubscriberNumberRecord

__all__ = ["contract_signed", "numbers_held", "prior_application", "record_numbers_decision", "register_numbers"]


@activity.defn
async def numbers_held(req: NumbersHeldRequest) -> NumbersHeld:
    """How many numbers the individual holds; which requested numbers are already theirs or someone else's."""
    with session() as s:
        mine = {r.phone for r in s.exec(select(SubscriberNumberRecord).where(SubscriberNumberRecord.iin == req.iin))}
        others = [p for p in req.numbers
                  if p not in mine and s.get(SubscriberNumberRecord, p) is not None]
    return NumbersHeld(count=len(mine), already_held=sorted(set(req.numbers) & mine), held_by_others=others)


@activity.defn
async def contract_signed(req: ContractSignedRequest) -> bool:
    """Whether the contract-signing case ended with a signed application of this individual."""
    with session() as s:
        row = s.get(SignedContract, req.contract_case_id)
    return row is not None and row.iin == req.iin


@activity.defn
async def register_numbers(req: RegisterNumbersRequest) -> list[str]:
    """Register the numbers to the individual (idempotent: a retry registers nothing twice)."""
    with session() as s:
        for phone in req.numbers:
            if s.get(SubscriberNumberRecord, phone) is None:
                s.add(SubscriberNumberRecord(phone=phone, iin=req.iin, case_id=req.case_id,
                                             contract_case_id=req.contract_case_id, registered_at=datetime.now(UTC)))
    return list(req.numbers)


@activity.defn
async def record_numbers_decision(req: NumbersDecisionRecord) -> None:
    """Keep the outcome of an application (once per case)."""
    with session() as s:
        if s.get(NumbersApplicationRecord, req.case_id) is None:
            s.add(NumbersApplicationRecord(case_id=req.case_id, applicant=pseudonym("applicant", req.iin),
                                           outcome=req.outcome, reason=req.reason,
                                           refers_to_case_id=req.refers_to_case_id))


@activity.defn
async def prior_application(req: PriorApplicationRequest) -> PriorApplication:
    """The recorded outcome of an earlier application and whether it was this applicant's."""
    with session() as s:
        row = s.get(NumbersApplicationRecord, req.case_id)
    if row is None:
        return PriorApplication(case_id=req.case_id)
    return PriorApplication(case_id=req.case_id, outcome=row.outcome, reason=row.reason,
                            same_applicant=row.applicant == pseudonym("applicant", req.iin))
