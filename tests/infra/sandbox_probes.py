"""A workflow that breaks the design on purpose (``tests/infra/test_sandbox.py``): it calls a spec's edge
function, the keyed case id whose key comes from settings, from workflow code. The sandbox must refuse it."""

from __future__ import annotations

from temporalio import workflow

from workflows.fraud_check import fraud_case_id


@workflow.defn
class EdgeCallInWorkflow:
    @workflow.run
    async def run(self, number: str) -> str:
        return fraud_case_id(number)
