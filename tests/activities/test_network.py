"""Orders to the network, local implementation (``activities.network``, 171 p.120): carried out once, and the
subscriber register follows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from activities.network import carry_out
from activities.subscriber_registry import DEMO_SUBSCRIBERS, seed_demo_subscribers
from infra.db import session
from models.fraud_check import NetworkAction, NetworkOrder
from models.tables import SubscriberNumber

T0 = datetime(2030, 1, 9, 5, 0, tzinfo=UTC)  # far from any workflow test's clock


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
