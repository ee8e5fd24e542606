"""Outside-world steps of a complaint: looking up the appealed case, forwarding to the considering body,
the administrative case built from the appealed case's history, the instruction to the appealed case, the notices
that tell the appealed case a complaint about it is pending or concluded, and the complainant's personal account.

The activities reach Temporal through the worker's own client (``activity.client()``), so they talk to
the same cluster and namespace as the worker, with the same data converter and codec.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

from temporalio import activity
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from audit.admin_case import admin_case_bundle, fetch_from_store, signature_from_store
from infra.cases import CaseError, registered_case
from infra.pseudonym import pseudonym
from infra.store import load_document, record_forward, store_document
from models import search_attributes as sa
from models.case import (
    ACTION_CASE_CLOSED,
    ACTION_REFUSED,
    BEGUN_CASE_MEMO,
    ComplaintInstruction,
    ComplaintRecord,
    DocumentRef,
    InstructionRecord,
)
from models.complaint import AppealedCase, InstructionOutcome, InstructRequest, NoticeOutcome, NoticeRequest
from rules.law import cite

__all__ = [
    "build_administrative_case",
    "complainant_account",
    "describe_appealed_case",
    "forward_to_review_body",
    "instruct_appealed_case",
    "tell_appealed_case",
]

T = TypeVar("T")


@activity.defn
async def describe_appealed_case(case_id: str, run_id: str | None = None) -> AppealedCase:
    """Whether the appealed case exists (its run ``run_id`` where the complaint names one), its procedure and status
    (from visibility, no personal data)."""
    try:
        desc = await activity.client().get_workflow_handle(case_id, run_id=run_id).describe()
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return AppealedCase(case_id=case_id, run_id=run_id, exists=False)
        raise
    attrs = desc.typed_search_attributes
    first_run_id = desc.raw_description.workflow_execution_info.first_run_id or None
    running = desc.status is WorkflowExecutionStatus.RUNNING
    if desc.status is WorkflowExecutionStatus.CONTINUED_AS_NEW and first_run_id is not None:
        # the run named went on in a new run: the same case (a permit's next year), or the next case of its chain (a
        # fraud case's next check), which is not the one the complaint is about
        latest = await _latest_of_case(activity.client(), case_id, first_run_id, desc.run_id, desc)
        running = latest is not None and latest.status is WorkflowExecutionStatus.RUNNING
    return AppealedCase(
        case_id=case_id,
        run_id=run_id,
        latest_run_id=desc.run_id,
        first_run_id=first_run_id,
        exists=True,
        procedure=attrs.get(sa.PROCEDURE) or desc.workflow_type,
        status=attrs.get(sa.STATUS),
        running=running,
    )


@activity.defn
def forward_to_review_body(case_id: str, body: str, doc_ids: list[str]) -> datetime:
    """Hand the complaint and its documents to the considering body (locally: a row); once per complaint."""
    return record_forward(case_id, body, doc_ids, datetime.now(UTC))


async def _addressed(client: Client, req: InstructRequest | NoticeRequest) -> WorkflowHandle[Any, Any] | None:
    """Where an Update to the appealed case goes: the running run of the case the complaint is about, which follows
    the case through its continuations as new (a permit's yearly run); ``None`` once another case holds the id: one
    opened later, or the next case of the same chain (a fraud case's next check, ``BEGUN_CASE_MEMO``). Only the run
    named where the server does not say the chain."""
    if req.first_run_id is None:
        return client.get_workflow_handle(req.case_id, run_id=req.run_id)
    latest = await _latest_of_case(client, req.case_id, req.first_run_id, req.case_run_id or req.run_id)
    if latest is None:
        return None
    return client.get_workflow_handle(req.case_id, run_id=latest.run_id, first_execution_run_id=req.first_run_id)


async def _latest_of_case(
    client: Client,
    case_id: str,
    first_run_id: str,
    case_run: str | None,
    described: WorkflowExecutionDescription | None = None,
) -> WorkflowExecutionDescription | None:
    """The id's latest run while it continues the case of run ``case_run`` (of the chain begun by ``first_run_id``;
    ``described`` its description where the caller has it), else ``None``: a case opened since under the id, or
    begun in the chain after that case ended, is another case. With no run to compare, the chain stands for the case;
    a server that does not say the chain continues it."""
    latest = await client.get_workflow_handle(case_id).describe()
    if (latest.raw_description.workflow_execution_info.first_run_id or first_run_id) != first_run_id:
        return None
    if case_run is None or case_run == latest.run_id:
        return latest
    its = described or await client.get_workflow_handle(case_id, run_id=case_run).describe()
    return latest if await _begun_after(its) == await _begun_after(latest) else None


async def _begun_after(desc: WorkflowExecutionDescription) -> str | None:
    """The run the case of run ``desc`` began after, where it began in a chain after another case ended (its start
    memo: ``BEGUN_CASE_MEMO``); ``None`` for a case begun with its chain."""
    try:
        begun = (await desc.memo()).get(BEGUN_CASE_MEMO)
    except ApplicationError:  # a memo written in clear (not by us)
        return None
    return begun.get("after_run") if isinstance(begun, dict) else None


@activity.defn
async def instruct_appealed_case(req: InstructRequest) -> InstructionOutcome:
    """Deliver an upheld complaint's instruction to the appealed case as a recorded Update."""
    instruction = ComplaintInstruction(
        complaint_id=req.complaint_id,
        decision=req.decision,
        action=req.action,
        reasons=req.reasons,
        decided_at=req.decided_at,
    )
    try:
        handle = await _addressed(activity.client(), req)
        if handle is None:
            return InstructionOutcome(delivered=False, action_taken=ACTION_CASE_CLOSED)
        record = await handle.execute_update(
            "complaint_instruction",
            instruction,
            result_type=InstructionRecord,
            id=f"{req.complaint_id}/instruction",  # a retried activity does not deliver twice
        )
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return InstructionOutcome(delivered=False, action_taken=ACTION_CASE_CLOSED)
        raise
    except WorkflowUpdateFailedError as exc:
        return InstructionOutcome(delivered=False, action_taken=ACTION_REFUSED.format(cause=exc.cause))
    return InstructionOutcome(delivered=True, action_taken=record.action_taken)


@activity.defn
async def tell_appealed_case(req: NoticeRequest) -> NoticeOutcome:
    """Tell the appealed case that a complaint about it was registered or concluded, as a recorded Update (once per
    complaint and stage: the Update id is ``<complaint id>/<stage>``)."""
    try:
        handle = await _addressed(activity.client(), req)
        if handle is None:
            return NoticeOutcome(delivered=False, note="the appealed case is closed")
        await handle.execute_update(
            "complaint_notice",
            req.notice,
            result_type=ComplaintRecord,
            id=f"{req.notice.complaint_id}/{req.notice.stage}",
        )
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            return NoticeOutcome(delivered=False, note="the appealed case is closed")
        raise
    except WorkflowUpdateFailedError as exc:
        return NoticeOutcome(delivered=False, note=f"the appealed case refused it: {exc.cause}")
    return NoticeOutcome(delivered=True)


@activity.defn
def complainant_account(iin: str) -> str:
    """The complainant's personal account on the portal: the pseudonym of the IIN that the state registries give
    an applicant (``activities.state_registry``), so a person finds every document in one account."""
    return pseudonym("applicant", iin)


HEARTBEAT_EVERY = 5.0
"""Seconds between the heartbeats of a long activity (well under its heartbeat timeout)."""


async def _heartbeating(work: Awaitable[T]) -> T:
    """Await ``work``, heartbeating every ``HEARTBEAT_EVERY`` seconds until it is done."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        task.cancel()  # a cancelled activity (heartbeat timeout, worker shutdown) stops its work too


async def _appeal_cite(complaint_id: str) -> str:
    """The p.10 the complaint is registered under (its ``case`` memo), or both acts' for a complaint not found so."""
    try:
        act = (await registered_case(activity.client(), complaint_id)).act_key
    except CaseError:
        act = None
    return cite(act, "p.10") if act else f"{cite('58', 'p.10')}; {cite('665/NK', 'p.10')}"


async def _run_of_the_appealed_chain(case_id: str, first_run_id: str, latest_run_id: str | None) -> str | None:
    """The id's latest run while it continues the case the complaint is about (``None``), else the run described
    at the complaint's registration: a case opened since under the id is another case, and so is a fraud case's next
    check (adversarial runs, 2026-12-05: the administrative case was the newer case's, then the next check's)."""
    same_case = await _latest_of_case(activity.client(), case_id, first_run_id, latest_run_id)
    return None if same_case is not None else latest_run_id


@activity.defn
async def build_administrative_case(
    appealed_case_id: str, run_id: str | None = None, first_run_id: str | None = None, latest_run_id: str | None = None
) -> DocumentRef:
    """The administrative case of the appealed case, generated from its workflow history by the audit
    code (``audit.admin_case``) and stored as a ZIP document of the complaint (once per complaint).

    Async because it reads the history through the worker's client; our tables, the documents and the ZIP are
    handled on threads, and the activity heartbeats meanwhile, so a worker that dies is noticed after the
    heartbeat timeout the complaint sets (``workflows.outside.CASE_FILE_HEARTBEAT``), not after the attempt's."""
    complaint_id = activity.info().workflow_id or "complaint"
    doc_id = f"{complaint_id}/administrative-case"
    doc = await asyncio.to_thread(load_document, doc_id)
    if doc is None:
        if run_id is None and first_run_id is not None:
            run_id = await _run_of_the_appealed_chain(appealed_case_id, first_run_id, latest_run_id)
        bundle = await _heartbeating(
            admin_case_bundle(activity.client(), appealed_case_id, fetch_from_store, signature_from_store, run_id)
        )
        doc = await asyncio.to_thread(
            store_document,
            doc_id=doc_id,
            case_id=complaint_id,
            kind="administrative_case",
            title=f"Administrative case {appealed_case_id}",
            cite=await _appeal_cite(complaint_id),
            content=bundle,
            sha256=hashlib.sha256(bundle).hexdigest(),
            created_at=datetime.now(UTC),
            media_type="application/zip",
        )
    return DocumentRef(
        doc_id=doc.doc_id, kind=doc.kind, title=doc.title, sha256=doc.sha256, cite=doc.cite, created_at=doc.created_at
    )
