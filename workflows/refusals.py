"""A case's refusal of an Update, said in the reader's language: a validator's ``ValueError`` whose text is a
``rules.text.Sentence`` reaches the edge as the same failure (its type, its English message) with the sentence's
template and values as the failure's details, which the API reads back (``api.temporal.problem_from_temporal``) and
the console says in its language. A rejected Update is not recorded in the history and validators do not run on
replay: no history changes.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from rules.text import Sentence

__all__ = ["SaidRefusals"]


class _SaidInbound(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        try:
            self.next.handle_update_validator(input)
        except ValueError as exc:
            said = exc.args[0] if exc.args else None
            if not isinstance(said, Sentence):
                raise
            raise ApplicationError(str(said), said.data(), type=type(exc).__name__) from None


class SaidRefusals(Interceptor):
    """The worker interceptor that gives a validator's sentence to the edge with its refusal."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _SaidInbound
