"""Registering numbers to individuals (171 p.55-1…55-6) in the operator's one subscriber register.

The numbers go to the same ``subscribers``/``subscriber_numbers`` register the fraud procedure reads;
each registration also records its basis, the signed contract (p.55-6, the ``signed_contracts`` row
written by the EDS signing procedure). Outcomes of applications are kept so that a new application
can refer to a refused one (p.55-5).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.db import session
from infra.pseudonym import pseudonym
from models.individual_numbers import (
    REGISTER_REFUSED,
    ContractSignedRequest,
    NumbersDecisionRecord,
    NumbersHeld,
    NumbersHeldRequest,
    PriorApplication,
    PriorApplicationRequest,
    RegisterNumbersRequest,
    held_by_others,
    over_the_limit,
)
from models.tables import (
    IndividualNumberRegistration,
    NumbersApplicationRecord,
    RegistryIndividual,
    SignedContract,
    Subscriber,
    SubscriberNumber,
)

__all__ = ["LocalNumbersRegister", "NumbersRegister", "NumbersRegisterActivities"]


def _subscriber(s: Session, iin: str) -> Subscriber | None:
    return s.exec(select(Subscriber).where(Subscriber.iin == iin)).first()


def _holdings(s: Session, subscriber_id: int | None, numbers: list[str]) -> tuple[set[str], list[str]]:
    """The subscriber's numbers, and those of ``numbers`` another subscriber holds."""
    q = select(SubscriberNumber.number).where(SubscriberNumber.subscriber_id == subscriber_id)
    mine = set(s.exec(q).all()) if subscriber_id is not None else set()
    return mine, [n for n in numbers if n not in mine and s.get(SubscriberNumber, n) is not None]


class NumbersRegister(Protocol):
    """The register of numbers to individuals and the recorded outcomes of applications (171 p.55-1…55-6)."""

    def held(self, req: NumbersHeldRequest) -> NumbersHeld: ...

    def contract_signed(self, req: ContractSignedRequest) -> bool: ...

    def register(self, req: RegisterNumbersRequest) -> list[str]: ...

    def record_decision(self, req: NumbersDecisionRecord) -> None: ...

    def prior(self, req: PriorApplicationRequest) -> PriorApplication: ...


class LocalNumbersRegister:
    """The ``subscribers`` / ``subscriber_numbers`` register with ``individual_number_registrations``."""

    def held(self, req: NumbersHeldRequest) -> NumbersHeld:
        with session() as s:
            sub = _subscriber(s, req.iin)
            mine, others = _holdings(s, sub.id if sub is not None else None, req.numbers)
        return NumbersHeld(
            count=len(mine),
            already_held=sorted(set(req.numbers) & mine),
            held_by_others=others,
            applicant_ref=pseudonym("applicant", req.iin),
        )

    def contract_signed(self, req: ContractSignedRequest) -> bool:
        with session() as s:
            row = s.get(SignedContract, req.contract_case_id)
        return row is not None and row.iin == req.iin

    def register(self, req: RegisterNumbersRequest) -> list[str]:
        """Register the numbers in one transaction that holds the individual's register entry from the first write:
        what the case checked before (nobody else's numbers, the limit) is checked again under that hold, so two
        applications at once cannot both pass (171 p.55-1). A retry of the same case registers nothing twice."""
        try:
            return self._register(req)
        except IntegrityError:  # another application made the individual's entry first: now it is there to hold
            return self._register(req)

    def _register(self, req: RegisterNumbersRequest) -> list[str]:
        now = datetime.now(UTC)
        with session() as s:
            sub = _subscriber(s, req.iin)
            if sub is None:  # the insert is the first write (a unique IIN: two at once cannot both make one)
                person = s.get(RegistryIndividual, req.iin)
                surname, _, name = (person.full_name if person else "").partition(" ")
                sub = Subscriber(iin=req.iin, surname=surname or "—", name=name or "—")
                s.add(sub)
                s.flush()
            else:  # a write first: PostgreSQL locks the row, SQLite the database, until the commit
                s.exec(update(Subscriber).where(col(Subscriber.id) == sub.id).values(iin=Subscriber.iin))
            assert sub.id is not None
            mine, taken = _holdings(s, sub.id, req.numbers)
            if taken:
                raise ApplicationError(held_by_others(len(taken)), type=REGISTER_REFUSED, non_retryable=True)
            new = [n for n in req.numbers if n not in mine]
            if req.limit is not None and len(mine) + len(new) > req.limit:
                refusal = over_the_limit(len(mine) + len(new), req.limit)
                raise ApplicationError(refusal, type=REGISTER_REFUSED, non_retryable=True)
            for phone in new:
                s.add(SubscriberNumber(number=phone, subscriber_id=sub.id, changed_by_case=req.case_id, changed_at=now))
            for phone in req.numbers:
                if s.get(IndividualNumberRegistration, phone) is None:
                    s.add(
                        IndividualNumberRegistration(
                            phone=phone,
                            iin=req.iin,
                            case_id=req.case_id,
                            contract_case_id=req.contract_case_id,
                            registered_at=now,
                        )
                    )
        return list(req.numbers)

    def record_decision(self, req: NumbersDecisionRecord) -> None:
        with session() as s:
            if s.get(NumbersApplicationRecord, req.case_id) is None:
                s.add(
                    NumbersApplicationRecord(
                        case_id=req.case_id,
                        applicant=pseudonym("applicant", req.iin),
                        outcome=req.outcome,
                        reason=req.reason,
                        refers_to_case_id=req.refers_to_case_id,
                    )
                )

    def prior(self, req: PriorApplicationRequest) -> PriorApplication:
        with session() as s:
            row = s.get(NumbersApplicationRecord, req.case_id)
        if row is None:
            return PriorApplication(case_id=req.case_id)
        return PriorApplication(
            case_id=req.case_id,
            outcome=row.outcome,
            reason=row.reason,
            same_applicant=row.applicant == pseudonym("applicant", req.iin),
        )


class NumbersRegisterActivities:
    """The numbers register's activities."""

    def __init__(self, register: NumbersRegister) -> None:
        self.register = register

    @activity.defn(name="numbers_held")
    def numbers_held(self, req: NumbersHeldRequest) -> NumbersHeld:
        """How many numbers the individual holds; which requested numbers are already theirs or someone else's."""
        return self.register.held(req)

    @activity.defn(name="contract_signed")
    def contract_signed(self, req: ContractSignedRequest) -> bool:
        """Whether the contract-signing case ended with a signed application of this individual."""
        return self.register.contract_signed(req)

    @activity.defn(name="register_numbers")
    def register_numbers(self, req: RegisterNumbersRequest) -> list[str]:
        """Register the numbers to the individual in the subscriber register (a retry registers nothing twice)."""
        return self.register.register(req)

    @activity.defn(name="record_numbers_decision")
    def record_numbers_decision(self, req: NumbersDecisionRecord) -> None:
        """Keep the outcome of an application (once per case)."""
        self.register.record_decision(req)

    @activity.defn(name="prior_application")
    def prior_application(self, req: PriorApplicationRequest) -> PriorApplication:
        """The recorded outcome of an earlier application and whether it was this applicant's."""
        return self.register.prior(req)
