"""Orders to the operator's network (171 p.120): services to the number suspended, or restored after a lift."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.network import NetworkActivities
    from models.fraud_check import NetworkAction, NetworkOrder

from workflows.fraud_check.base import FraudCase, Status

__all__ = ["NetworkOrders"]


class NetworkOrders(FraudCase):
    """171 p.120: the network suspends or restores the number's services."""

    async def _network(self, action: NetworkAction, reason: str) -> None:
        order = NetworkOrder(
            order_id=f"{workflow.info().workflow_id}:{self.cycle}:{action.value}",
            case_id=workflow.info().workflow_id,
            number=self.number,
            action=action,
            reason=reason,
        )
        result = await self.outside(NetworkActivities.apply_network_order, order, what="network")
        if action is NetworkAction.SUSPEND:
            self.suspension = result
            self.set_status(Status.SUSPENDED)  # the lift may come now, even while the centre is still unreachable
        else:
            self.restoration = result
