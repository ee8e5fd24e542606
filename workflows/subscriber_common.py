"""What the subscriber-side procedures share: the attempts a code allows, error causes, result documents."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.documents import render_document
    from activities.personal_account import PersonalAccountActivities
    from models.case import DocumentRef
    from models.documents import DeliverDocumentRequest, RenderDocumentRequest
    from workflows.case import CaseWorkflow

__all__ = ["OTP_MAX_ATTEMPTS", "RESULT_DOCUMENT_ACTIVITIES", "cause_type", "result_document"]

OTP_MAX_ATTEMPTS = 3
"""Wrong entries allowed for one code before the request fails (58 p.9); an operator setting, not in the act."""
RESULT_DOCUMENT_ACTIVITIES = (render_document, PersonalAccountActivities.deliver_to_personal_account)
"""What ``result_document`` calls (the procedures using it list these among their activities)."""


def cause_type(err: BaseException) -> tuple[str | None, str]:
    """The application error type and message behind a failed activity.

    A failed activity arrives as ``ActivityError`` with the ``ApplicationError`` as its cause; a failed
    local activity may arrive as the ``ApplicationError`` itself. Both are looked through.
    """
    node: BaseException | None = err
    while node is not None:
        if isinstance(node, ApplicationError) and node.type:
            return node.type, node.message
        node = node.cause if isinstance(node, ActivityError | ApplicationError) and node.cause else node.__cause__
    return None, str(err)


async def result_document(
    case: CaseWorkflow,
    *,
    kind: str,
    title: str,
    outcome: str,
    reason: str | None,
    cite: str,
    recipient: str,
    details: dict[str, str] | None = None,
) -> DocumentRef:
    """Render the case's result (or reasoned refusal) and put it in the applicant's personal account."""
    wid = workflow.info().workflow_id
    doc = await case.outside(
        render_document,
        RenderDocumentRequest(
            doc_id=f"{wid}/{kind}",
            case_id=wid,
            kind=kind,
            title=title,
            template="subscriber_result.html.j2",
            cite=cite,
            context={"outcome": outcome, "reason": reason, "details": details or {}},
        ),
        what="documents",
        timeout=case.timings.document_timeout,
    )
    await case.outside(
        PersonalAccountActivities.deliver_to_personal_account,
        DeliverDocumentRequest(doc_id=doc.doc_id, case_id=wid, recipient=recipient),
        what="personal_account",
    )
    return doc
