"""The local outside systems of the fraud case: antifraud centre, network, subscriber registry (171 p.118, p.120)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from activities.antifraud import CENTRE_UNAVAILABLE, deliver, messages_for_case
from activities.network import carry_out
from activities.subscriber_registry import DEMO_SUBSCRIBERS, find_subscriber, seed_demo_subscribers
from infra import outages
from infra.db import session
from models.fraud_check import CentreMessage, NetworkAction, NetworkOrder, NoticeKind
from models.tables import SubscriberNumber

T0 = datetime(2030, 1, 9, 5, 0, tzinfo=UTC)  # far from any workflow test's clock


def message(case: str) -> CentreMessage:
    return CentreMessage(
        message_id=f"{case}:1:not_confirmed",
        case_id=case,
        kind=NoticeKind.NOT_CONFIRMED,
        number="+77011112233",
        cite="171 p.120",
        evidence=["e"],
    )


def test_the_centre_keeps_a_message_once_whatever_the_retries() -> None:
    case = f"fraud_check-{uuid.uuid4().hex[:20]}"
    first = deliver(message(case), T0)
    again = deliver(message(case), T0 + timedelta(minutes=3))
    assert not first.duplicate and again.duplicate and again.received_at == first.received_at == T0
    assert len(messages_for_case(case)) == 1


def test_a_centre_that_is_down_refuses_until_the_window_ends() -> None:
    case = f"fraud_check-{uuid.uuid4().hex[:20]}"
    outages.begin("antifraud_centre", T0, timedelta(hours=1), "test")
    try:
        with pytest.raises(ApplicationError) as exc:
            deliver(message(case), T0 + timedelta(minutes=59))
        assert exc.value.type == CENTRE_UNAVAILABLE and not exc.value.non_retryable
        assert messages_for_case(case) == []
        assert not deliver(message(case), T0 + timedelta(hours=1)).duplicate
        assert deliver(message(f"{case}x"), T0 - timedelta(seconds=1))  # before the window too
    finally:
        assert outages.end("antifraud_centre") >= 1


def test_registry_gives_every_number_of_the_subscriber() -> None:
    seed_demo_subscribers()
    assert seed_demo_subscribers() == 0  # seeding twice adds nothing
    demo = DEMO_SUBSCRIBERS[0]
    rec = find_subscriber(demo.numbers[-1])
    assert rec.found and (rec.surname, rec.name, rec.patronymic, rec.iin) == (
        demo.surname,
        demo.name,
        demo.patronymic,
        demo.iin,
    )
    assert rec.numbers == sorted(demo.numbers)
    unknown = find_subscriber("+77089999999")
    assert not unknown.found and unknown.numbers == ["+77089999999"] and unknown.iin is None


def test_a_network_order_is_carried_out_once_and_changes_the_registry() -> None:
    seed_demo_subscribers()
    number = DEMO_SUBSCRIBERS[2].numbers[1]
    case = f"fraud_check-{uuid.uuid4().hex[:20]}"
    order = NetworkOrder(
        order_id=f"{case}:1:suspend", case_id=case, number=number, action=NetworkAction.SUSPEND, reason="confirmed"
    )
    done = carry_out(order, T0)
    assert not done.duplicate and done.number_known
    with session() as s:
        row = s.get(SubscriberNumber, number)
        assert row is not None and row.services_suspended and row.changed_by_case == case
    again = carry_out(order, T0 + timedelta(hours=1))
    assert again.duplicate and again.done_at == T0
    restore = order.model_copy(update={"order_id": f"{case}:1:restore", "action": NetworkAction.RESTORE})
    assert not carry_out(restore, T0 + timedelta(hours=2)).duplicate
    with session() as s:
        row = s.get(SubscriberNumber, number)
        assert row is not None and not row.services_suspended
