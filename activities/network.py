"""Suspension and restoration of communication services to a number (171 p.120) towards the network and
billing. Locally: the ``subscriber_numbers`` state, with each order kept once in ``network_orders``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from temporalio import activity

from infra.db import session
from infra.outages import raise_if_down
from models.fraud_check import NetworkAction, NetworkOrder, NetworkResult
from models.tables import NetworkOrderRow, SubscriberNumber

__all__ = ["LocalNetwork", "Network", "NetworkActivities", "carry_out"]

log = logging.getLogger(__name__)


def carry_out(order: NetworkOrder, at: datetime) -> NetworkResult:
    """Carry ``order`` out once on the local tables: a repeated order id returns the first result."""
    try:
        with session() as s:
            done = s.get(NetworkOrderRow, order.order_id)
            if done is not None:
                return NetworkResult(
                    order_id=done.order_id, done_at=done.done_at, duplicate=True, number_known=done.number_known
                )
            row = s.get(SubscriberNumber, order.number)
            if row is not None:
                row.services_suspended = order.action is NetworkAction.SUSPEND
                row.changed_by_case = order.case_id
                row.changed_at = at
                s.add(row)
            s.add(
                NetworkOrderRow(
                    order_id=order.order_id,
                    case_id=order.case_id,
                    number=order.number,
                    action=order.action.value,
                    reason=order.reason,
                    number_known=row is not None,
                    done_at=at,
                )
            )
        return NetworkResult(order_id=order.order_id, done_at=at, duplicate=False, number_known=row is not None)
    except IntegrityError:  # a concurrent attempt of the same order won
        return carry_out(order, at)


class Network(Protocol):
    """Suspends or restores a number's services; idempotent by ``order.order_id``.

    ``at`` is the instant of this attempt as the Temporal server scheduled it (the order's time).
    """

    def carry_out(self, order: NetworkOrder, at: datetime) -> NetworkResult: ...


class LocalNetwork:
    """The local subscriber register's service flags; rehearsal outages of ``network`` apply."""

    def carry_out(self, order: NetworkOrder, at: datetime) -> NetworkResult:
        raise_if_down("network", at)
        return carry_out(order, at)


class NetworkActivities:
    """The network's activity."""

    def __init__(self, network: Network) -> None:
        self.network = network

    @activity.defn(name="apply_network_order")
    def apply_network_order(self, order: NetworkOrder) -> NetworkResult:
        """Suspend or restore the number's services; idempotent by ``order.order_id``."""
        at = activity.info().current_attempt_scheduled_time
        result = self.network.carry_out(order, at if at.tzinfo else at.replace(tzinfo=UTC))
        log.info(
            "network order %s (%s) for case %s%s",
            order.order_id,
            order.action.value,
            order.case_id,
            " (already done)" if result.duplicate else "",
        )
        return result
