"""The subscriber register: who a number is registered to and every number registered to that subscriber
(171 p.118). Locally the ``subscribers`` / ``subscriber_numbers`` tables, seeded with demo subscribers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import select
from temporalio import activity

from infra.db import session
from models.fraud_check import SubscriberLookup, SubscriberRecord
from models.tables import Subscriber, SubscriberNumber

__all__ = [
    "DEMO_SUBSCRIBERS",
    "DemoSubscriber",
    "LocalSubscriberRegister",
    "SubscriberRegister",
    "SubscriberRegisterActivities",
    "find_subscriber",
    "seed_demo_subscribers",
]


@dataclass(frozen=True)
class DemoSubscriber:
    surname: str
    name: str
    patronymic: str | None
    iin: str
    numbers: tuple[str, ...]


# Made-up people with valid IIN check digits; the first one holds a SIM box's worth of numbers.
DEMO_SUBSCRIBERS: tuple[DemoSubscriber, ...] = (
    DemoSubscriber(
        "Ахметов",
        "Ерлан",
        "Серикович",
        "850315300128",
        ("+77010000101", "+77010000102", "+77010000103", "+77470000104"),
    ),
    DemoSubscriber("Смагулова", "Айгерим", None, "900720450124", ("+77020000201",)),
    DemoSubscriber("Ким", "Виктор", "Андреевич", "781101400237", ("+77050000301", "+77770000302")),
)


def seed_demo_subscribers(extra: tuple[DemoSubscriber, ...] = ()) -> int:
    """Insert the demo subscribers (and ``extra``) that are not there yet; returns how many were added."""
    added = 0
    with session() as s:
        for d in DEMO_SUBSCRIBERS + extra:
            if s.exec(select(Subscriber).where(Subscriber.iin == d.iin)).first():
                continue
            sub = Subscriber(iin=d.iin, surname=d.surname, name=d.name, patronymic=d.patronymic)
            s.add(sub)
            s.flush()
            assert sub.id is not None
            for n in d.numbers:
                s.add(SubscriberNumber(number=n, subscriber_id=sub.id))
            added += 1
    return added


def find_subscriber(number: str) -> SubscriberRecord:
    """The registry's record of ``number``'s subscriber; ``found=False`` when the number is not ours."""
    with session() as s:
        row = s.get(SubscriberNumber, number)
        if row is None:
            return SubscriberRecord(number=number, found=False, numbers=[number])
        sub = s.get(Subscriber, row.subscriber_id)
        assert sub is not None
        numbers = s.exec(
            select(SubscriberNumber.number)
            .where(SubscriberNumber.subscriber_id == sub.id)
            .order_by(SubscriberNumber.number)  # type: ignore[arg-type]
        ).all()
        return SubscriberRecord(
            number=number,
            found=True,
            surname=sub.surname,
            name=sub.name,
            patronymic=sub.patronymic,
            iin=sub.iin,
            numbers=list(numbers),
        )


class SubscriberRegister(Protocol):
    """The subscriber a number is registered to, with every number registered to that subscriber."""

    def find(self, number: str) -> SubscriberRecord: ...


class LocalSubscriberRegister:
    """The ``subscribers`` / ``subscriber_numbers`` tables (the demo subscribers seeded on first use)."""

    def find(self, number: str) -> SubscriberRecord:
        seed_demo_subscribers()
        return find_subscriber(number)


class SubscriberRegisterActivities:
    """The subscriber register's activity."""

    def __init__(self, register: SubscriberRegister) -> None:
        self.register = register

    @activity.defn(name="lookup_subscriber")
    def lookup_subscriber(self, req: SubscriberLookup) -> SubscriberRecord:
        """Surname, name, patronymic, IIN and all numbers registered to the subscriber of ``req.number``."""
        return self.register.find(req.number)
