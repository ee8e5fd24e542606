"""What the subscriber-side procedures share: the attempts a code allows, error causes, result documents."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.biometrics import BiometricActivities
    from activities.documents import render_document
    from activities.eds import EdsActivities
    from activities.otp import OtpActivities
    from activities.personal_account import PersonalAccountActivities
    from models.case import DocumentRef
    from models.documents import DeliverDocumentRequest, RenderDocumentRequest
    from models.eds import SignatureCheck, VerifySignatureRequest
    from models.identification import (
        SESSION_REUSED,
        BiometricCheck,
        BiometricRecordRequest,
        BiometricReport,
        EdsSignatureEvent,
        IssuedSecret,
        SecretCheck,
        SecretEntry,
        VerifySecretRequest,
    )
    from workflows.case import CaseWorkflow

__all__ = [
    "BIOMETRIC_SESSION_REUSED_REFUSED",
    "OTP_MAX_ATTEMPTS",
    "RESULT_DOCUMENT_ACTIVITIES",
    "biometric_report_at_the_edge",
    "biometric_verdict",
    "cause_type",
    "entered_secret",
    "result_document",
    "signature_check",
]

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


BIOMETRIC_SESSION_REUSED_REFUSED = "biometric-session-reused-refused"
"""``workflow.patched`` id: a biometric report whose session is another case's (or was recorded with another
verdict) fails its Update with ``BiometricSessionReused`` and the case keeps waiting for its own verdict. Without
the marker, that refusal blocks the step like any outside system's permanent refusal (what the code did before)."""


async def biometric_report_at_the_edge(client: Any, case_id: str, report: BiometricReport) -> BiometricReport:
    """The API's edge: a provider's session id is no personal number. It is recorded in clear in
    ``biometric_checks`` and named in refusals, and an adversarial run (2026-12-04) had an IIN taken in as one. Only
    an id that is a number as a whole is refused: the provider makes its ids and cannot change one we refuse."""
    from infra.cases import refused  # at the edge only
    from rules.identifiers import personal_number_whole

    if kind := personal_number_whole(report.session_id):
        raise refused("session_id holds what reads as {kind}; a session id names no person", kind=kind)
    return report


async def biometric_verdict(case: CaseWorkflow, report: BiometricReport) -> BiometricCheck:
    """The provider's verdict on this case's identification session, recorded for this case: the one reported now.

    A verdict belongs to one (case, session): a session recorded for another case, or with another verdict, is
    refused by the activity (``SESSION_REUSED``), and the Update reporting it fails with that type and the
    activity's message (it names only the session the provider sent); nothing of the case changes (58 p.9;
    almatel-eds step 6).
    """
    request = BiometricRecordRequest(case_id=workflow.info().workflow_id, report=report)
    record = BiometricActivities.record_biometric_check
    try:
        return await case.outside(record, request, what="biometrics", expected=(SESSION_REUSED,))
    except ActivityError as exc:
        kind, message = cause_type(exc)
        if kind != SESSION_REUSED:
            raise
        if workflow.patched(BIOMETRIC_SESSION_REUSED_REFUSED):
            raise ApplicationError(message, type=SESSION_REUSED, non_retryable=True) from None
        # A case whose history met the refusal before the patch: it blocked the step, then called again.
        assert isinstance(exc.cause, ApplicationError)
        await case._block("biometrics", exc.cause)
        return await case.outside(record, request, what="biometrics")


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


async def entered_secret(case: CaseWorkflow, secret: IssuedSecret, entry: SecretEntry) -> SecretCheck:
    """The code or link the subscriber entered (as its digest) against the one issued, at the case's own instant."""
    return await case.outside(
        OtpActivities.verify_secret,
        VerifySecretRequest(secret_id=secret.secret_id, digest=entry.digest, at=workflow.now()),
        what="one_time_codes",
        timeout=case.timings.local_timeout,
    )


async def signature_check(
    case: CaseWorkflow, payload: str, event: EdsSignatureEvent, iin: str | None
) -> SignatureCheck:
    """The subscriber's CMS signature over ``payload``, checked to be valid (and the holder's of ``iin``, if given)."""
    return await case.outside(
        EdsActivities.verify_signature,
        VerifySignatureRequest(data=payload.encode(), signature=event.signature, expected_iin=iin),
        what="eds",
    )
