"""The versioned HTTP API (``/v1``), generated from the procedure registry.

For each procedure: ``POST /v1/procedures/{key}/cases`` (body: the procedure's input model) and
``POST /v1/procedures/{key}/cases/{case_id}/events/{event}`` per event (body: the event's model), so the
OpenAPI schema documents every payload. Generic: ``GET /v1/cases`` (visibility), ``GET /v1/cases/{id}``,
``GET /v1/cases/{id}/documents/{doc_id}`` (and ``….p7s``, the detached CMS signature).

This module deliberately has no ``from __future__ import annotations``: the endpoints' body annotations
are the specs' models, evaluated when each endpoint is defined.
"""

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from api.auth import CASE_READERS, Principal
from api.cases import (
    CASE_ID_PATTERN,
    CaseRef,
    CaseSummary,
    EventResult,
    TimelineEntry,
    document_response,
    get_case,
    list_cases,
    outside_calls,
    send_event,
    start_case,
    timeline,
)
from api.context import AppContext
from api.examples import openapi_examples
from api.idempotency import HEADER, Idempotency, replayed_event, replayed_start
from api.limits import bounded
from api.problems import Problem, ProblemError
from api.security import authenticated, require
from api.temporal import problem_from_temporal
from infra import assignments
from infra.cases import CaseError, PendingCall, case_view, sent_as
from models.base import Model
from models.case import CaseView
from models.identification import EdsSignatureEvent
from models.procedure import EventSpec, ProcedureSpec
from models.types import RUN_ID_PATTERN

__all__ = ["build_router"]

log = logging.getLogger("api")

_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": Problem, "content": {"application/problem+json": {}}} for s in (401, 403, 404, 409, 422, 503)
}
CaseId = Annotated[str, Path(pattern=CASE_ID_PATTERN, description="the case's id (pseudonymous)")]
RunId = Annotated[
    str | None,
    Query(
        pattern=RUN_ID_PATTERN,
        description="the run of an earlier case where the id names several (a fraud case closed and opened again, a "
        "check and the next; the `run_id` of each case in `audit export`); by default the id's latest case",
    ),
]
IdemKey = Annotated[str | None, Header(alias=HEADER, description="makes retries safe: same key, same response")]


class EventInfo(BaseModel):
    """An event a procedure's cases accept, and who may send it."""

    name: str
    title: str
    cite: str
    roles: list[str]
    may_send: bool
    has_body: bool


class AssignmentRequest(Model):
    """Give the case to a staff member: a supervisor may give any case; a staff member takes a case nobody holds or
    hands on one they hold."""

    assignee: str = Field(min_length=1, max_length=200, description="the staff member's key id or key holder's name")


class Assignment(BaseModel):
    """Who holds a case now, who gave it to them and when; with the earlier assignments."""

    case_id: str
    assignee: str | None = None
    assignee_key_id: str | None = None
    assigned_by: str | None = None
    assigned_at: datetime | None = None
    earlier: list["Assignment"] = []


def _assignment(case_id: str) -> Assignment:
    rows = assignments.history(case_id)
    views = [
        Assignment(
            case_id=case_id,
            assignee=r.assignee_name,
            assignee_key_id=r.assignee_key,
            assigned_by=f"{r.assigned_by_name} (key {r.assigned_by_key})",
            assigned_at=r.assigned_at.replace(tzinfo=UTC) if r.assigned_at.tzinfo is None else r.assigned_at,
        )
        for r in rows
    ]
    if not views:
        return Assignment(case_id=case_id)
    return views[-1].model_copy(update={"earlier": views[:-1][::-1]})


class PayloadToSign(BaseModel):
    """The text an EDS signature of the case is made over (a detached CMS over these UTF-8 bytes)."""

    case_id: str
    data: str = Field(description="the exact text to sign, UTF-8; the signature is sent with the event as base64")


class ProcedureInfo(BaseModel):
    """A procedure the API serves."""

    key: str
    title: str
    act_key: str
    start_roles: list[str]
    may_start: bool
    events: list[EventInfo]


def build_router(ctx: AppContext) -> APIRouter:
    """Every ``/v1`` route for the procedures in ``ctx``."""
    router = APIRouter(prefix="/v1", responses=_ERRORS)
    readers = require(CASE_READERS, "read cases")
    assigners = require(assignments.ASSIGNABLE, "assign cases")
    for spec in ctx.procedures.values():
        _add_start(router, ctx, spec)
        for event in spec.events:
            _add_event(router, ctx, spec, event)

    @router.get(
        "/procedures",
        response_model=list[ProcedureInfo],
        tags=["procedures"],
        summary="The procedures, their events, and what the calling key may do",
    )
    async def procedures(principal: Annotated[Principal, Depends(authenticated)]) -> list[ProcedureInfo]:
        return [
            ProcedureInfo(
                key=s.key,
                title=s.title,
                act_key=s.act_key,
                start_roles=sorted(s.start_roles),
                may_start=principal.may(s.start_roles),
                events=[
                    EventInfo(
                        name=e.name,
                        title=e.title,
                        cite=e.cite,
                        roles=sorted(e.roles),
                        may_send=principal.may(e.roles),
                        has_body=e.model is not None,
                    )
                    for e in s.events
                ],
            )
            for s in ctx.procedures.values()
        ]

    @router.get("/cases", response_model=list[CaseSummary], tags=["cases"], summary="List and filter cases")
    async def cases(
        principal: Annotated[Principal, Depends(readers)],
        procedure: Annotated[str | None, Query(max_length=64)] = None,
        status: Annotated[str | None, Query(max_length=64)] = None,
        overdue: bool | None = None,
        running: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[CaseSummary]:
        client = await ctx.gateway.client()
        return await list_cases(
            client, ctx.procedures, procedure=procedure, status=status, overdue=overdue, running=running, limit=limit
        )

    @router.get(
        "/cases/{case_id}",
        response_model=CaseView,
        tags=["cases"],
        summary="A case: status, deadlines with terms and citations, pending events, documents",
    )
    async def case(
        case_id: CaseId, principal: Annotated[Principal, Depends(readers)], run_id: RunId = None
    ) -> CaseView:
        client = await ctx.gateway.client()
        return await get_case(client, case_id, ctx.procedures, run_id)

    @router.get(
        "/cases/{case_id}/payload-to-sign",
        response_model=PayloadToSign,
        tags=["cases"],
        summary="What an EDS signature the case asks for is made over (the CMS's signed data)",
        description="For the events that carry a detached CMS signature (the e-government connection's "
        "`sign_request`, the mailbox's `confirm_with_eds`): the exact text to sign, UTF-8. Staff, supervisors and "
        "auditors read it for any case; an operator system for a case of its organisation when it is the one that "
        "sends the signature (else 404, as for a case that does not exist).",
    )
    async def payload_to_sign(
        case_id: CaseId, principal: Annotated[Principal, Depends(authenticated)]
    ) -> PayloadToSign:
        client = await ctx.gateway.client()
        missing = ProblemError(404, "no such case")
        try:
            view = await case_view(client, case_id)
        except CaseError:
            raise missing from None
        spec = ctx.procedures.get(view.procedure)
        if spec is None:
            raise missing
        if not principal.may(CASE_READERS):
            caller = principal.caller
            # only the sender of the signature: another system the case hears from (a biometric provider) reads
            # nothing of it, and learns no more than of a case that does not exist
            signed = [e for e in spec.events if e.model is EdsSignatureEvent]
            senders = [e for e in signed if caller is not None and caller.may(e.roles)]
            if caller is None or not any(caller.is_party(view.parties, e.roles, spec.designated) for e in senders):
                raise missing
        try:
            text = await client.get_workflow_handle(case_id).query("payload_to_sign", result_type=str)
        except WorkflowQueryFailedError:
            raise ProblemError(404, "this case asks for no EDS signature over a text of its own") from None
        except RPCError as exc:
            raise problem_from_temporal(exc) from None
        return PayloadToSign(case_id=case_id, data=text)

    @router.get(
        "/cases/{case_id}/timeline",
        response_model=list[TimelineEntry],
        tags=["cases"],
        summary="The case's timeline from its history: events, decisions, deadlines, breaches, documents",
    )
    async def case_timeline(
        case_id: CaseId, principal: Annotated[Principal, Depends(readers)], run_id: RunId = None
    ) -> list[TimelineEntry]:
        client = await ctx.gateway.client()
        view = await get_case(client, case_id, ctx.procedures, run_id)
        return await timeline(client, case_id, view)

    @router.get(
        "/cases/{case_id}/assignment",
        response_model=Assignment,
        tags=["cases"],
        summary="Who holds the case now (assigned by whom, when), and the earlier assignments",
    )
    async def case_assignment(case_id: CaseId, principal: Annotated[Principal, Depends(readers)]) -> Assignment:
        client = await ctx.gateway.client()
        await get_case(client, case_id, ctx.procedures)
        return _assignment(case_id)

    @router.put(
        "/cases/{case_id}/assignment",
        response_model=Assignment,
        tags=["cases"],
        summary="Assign the case to a staff member (supervisors: any case; staff: a case nobody or they hold)",
    )
    async def assign_case(
        case_id: CaseId,
        body: Annotated[AssignmentRequest, Body(openapi_examples=openapi_examples(AssignmentRequest))],
        principal: Annotated[Principal, Depends(assigners)],
    ) -> Assignment:
        client = await ctx.gateway.client()
        await get_case(client, case_id, ctx.procedures)
        try:
            assignments.assign(
                case_id, body.assignee, by_key=principal.key_id, by_name=principal.name, roles=principal.roles
            )
        except assignments.AssignmentRefused as exc:
            raise ProblemError(exc.status, exc.message) from None
        return _assignment(case_id)

    @router.get(
        "/cases/{case_id}/outside-calls",
        response_model=list[PendingCall],
        tags=["cases"],
        summary="Calls to outside systems the case waits on: attempts, since when, last error, next attempt",
    )
    async def case_outside_calls(
        case_id: CaseId, principal: Annotated[Principal, Depends(readers)]
    ) -> list[PendingCall]:
        client = await ctx.gateway.client()
        await get_case(client, case_id, ctx.procedures)
        return await outside_calls(client, case_id)

    @router.get(
        "/cases/{case_id}/documents/{doc_ref:path}",
        tags=["cases"],
        response_class=Response,
        summary="A document of the case, or its detached CMS signature (…/{doc_id}.p7s)",
        responses={200: {"content": {"text/html": {}, "application/pkcs7-signature": {}}}},
    )
    async def document(
        case_id: CaseId,
        doc_ref: Annotated[str, Path(max_length=300)],
        principal: Annotated[Principal, Depends(readers)],
    ) -> Response:
        return document_response(case_id, doc_ref)

    return router


def _answered(event: EventSpec | None, result: Any, principal: Principal) -> Any:
    """What the caller is answered of an Update's result: the event's ``answer`` (minimised as the case view is)."""
    if event is None or event.answer is None or result is None:
        return result
    return event.answer(result, principal.caller.acts_as_operator(event.roles))


def _start_event(spec: ProcedureSpec, body: BaseModel) -> EventSpec | None:
    """The event a start carries as its Update, if the procedure starts with one."""
    return spec.event(spec.start.with_update(body)[0]) if spec.start.with_update is not None else None


def _add_start(router: APIRouter, ctx: AppContext, spec: ProcedureSpec) -> None:
    model: type[BaseModel] = spec.input_model
    who = bounded(require(spec.start_roles, f"start {spec.key} cases"))

    async def start(
        request: Request,
        body: Annotated[model, Body(openapi_examples=openapi_examples(model))],  # type: ignore[valid-type]
        principal: Annotated[Principal, Depends(who)],
        idempotency_key: IdemKey = None,
    ) -> Response:
        idem = Idempotency(request, principal, idempotency_key, await request.body())
        rec = idem.claim()
        client = await ctx.gateway.client()
        if rec is not None and rec.status_code is not None:
            ref = await replayed_start(client, spec, body, rec)
            ref.result = _answered(_start_event(spec, body), ref.result, principal)
            return idem.respond(rec.status_code, ref, location=ref.href, replayed=True)
        ref = await start_case(
            client,
            spec,
            body,
            ctx.task_queue,
            actor=principal.describe(),
            request=idem.update_id,
            retry=idem.retry,
            caller=principal.caller,
        )
        status = 201 if ref.created else 200
        idem.succeeded(status, case_id=ref.case_id, run_id=ref.run_id, update_id=ref.update_id, answer=ref.answer)
        log.info("case %s %s by key %s", ref.case_id, ref.answer, principal.key_id)
        ref.result = _answered(_start_event(spec, body), ref.result, principal)
        return idem.respond(status, ref, location=ref.href)

    router.add_api_route(
        f"/procedures/{spec.key}/cases",
        start,
        methods=["POST"],
        tags=[spec.key],
        response_model=CaseRef,
        status_code=201,
        summary=f"Start a case: {spec.title}",
        operation_id=f"start_{spec.key}",
        description="201 with the new case (`answer: opened`); 200 when the start joined the running case "
        "(`joined`, e.g. a further report about the same number), found the same application's case (`existing`, "
        "`closed`) or already holds this message (`duplicate`). The case id is derived from the input.",
        responses={200: {"model": CaseRef, "description": "the start joined or found a case"}},
    )


def _add_event(router: APIRouter, ctx: AppContext, spec: ProcedureSpec, event: EventSpec) -> None:
    who = bounded(require(event.roles, f"send {event.name}"))

    async def send(
        request: Request,
        case_id: CaseId,
        principal: Annotated[Principal, Depends(who)],
        body: BaseModel | None,
        idempotency_key: str | None,
    ) -> Response:
        idem = Idempotency(request, principal, idempotency_key, await request.body())
        rec = idem.claim()
        client = await ctx.gateway.client()
        if rec is not None and rec.status_code is not None:
            replayed = await replayed_event(client, event, rec)
            replayed.result = _answered(event, replayed.result, principal)
            return idem.respond(rec.status_code, replayed, replayed=True)
        result = await send_event(client, spec, event, case_id, body, update_id=idem.update_id, caller=principal.caller)
        sent = sent_as(principal.caller, idem.update_id)  # the Update id the case recorded, its sender's key first
        idem.succeeded(200, case_id=case_id, run_id=result.run_id, update_id=sent)
        log.info("case %s took %s from key %s", case_id, event.name, principal.key_id)
        result.result = _answered(event, result.result, principal)
        return idem.respond(200, result)

    if event.model is not None:
        model: type[BaseModel] = event.edge_model or event.model

        async def endpoint(
            request: Request,
            case_id: CaseId,
            body: Annotated[model, Body(openapi_examples=openapi_examples(model))],  # type: ignore[valid-type]
            principal: Annotated[Principal, Depends(who)],
            idempotency_key: IdemKey = None,
        ) -> Response:
            return await send(request, case_id, principal, body, idempotency_key)
    else:

        async def endpoint(  # type: ignore[misc]
            request: Request,
            case_id: CaseId,
            principal: Annotated[Principal, Depends(who)],
            idempotency_key: IdemKey = None,
        ) -> Response:
            return await send(request, case_id, principal, None, idempotency_key)

    router.add_api_route(
        f"/procedures/{spec.key}/cases/{{case_id}}/events/{event.name}",
        endpoint,
        methods=["POST"],
        tags=[spec.key],
        response_model=EventResult,
        summary=event.title + (f" ({event.cite})" if event.cite else ""),
        operation_id=f"{spec.key}_{event.name}",
        description=f"Allowed to: {', '.join(sorted(event.roles))}. 404 for a case that does not exist or of which "
        "the calling operator system's organisation is not a party (the same answer). 409 when the event does not "
        "fit the case's state now, 422 when the case's validator refuses the payload (the detail says why; to an "
        "operator system only where it names nothing but what it sent).",
    )
