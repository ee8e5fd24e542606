"""The console's pages for a working day: the work queue (the landing page), finding a case, incidents, the
supervisors' inbox of escalations and overview (charts, CSV exports, the compliance report).

Who sees what (``docs/DESIGN-NOTES.md``, "HTTP API and console"): every console user (staff, supervisor, auditor)
has the work queue, the search and the incidents; looking people up (IIN/BIN, phone, name) is for staff and
supervisors, who serve them, while auditors find cases by case id and application number; the inbox and the
overview are for supervisors and auditors, and only a supervisor acknowledges an escalation; the CSV exports and
the compliance report are for supervisors and auditors. No list shows personal data.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from temporalio.client import Client
from temporalio.service import RPCError

from api import console as c
from api import inbox, incidents, overview, queue, search
from api.auth import Principal
from api.context import AppContext
from api.i18n import gettext
from api.listing import instant, procedures_clause
from api.problems import ProblemError
from api.temporal import problem_from_temporal
from audit.history import parse_history
from audit.report import ComplianceReport, build_report, render_report_html
from models.procedure import Role
from rules.calendar import ALMATY
from rules.text import Sentence

__all__ = ["ACKNOWLEDGE_ROLES", "OVERVIEW_ROLES", "PERSONAL_SEARCH_ROLES", "add_work_pages", "almaty"]

PERSONAL_SEARCH_ROLES = frozenset({Role.STAFF, Role.SUPERVISOR})
"""Who may find cases by a person's IIN/BIN, phone number or name."""
OVERVIEW_ROLES = frozenset({Role.SUPERVISOR, Role.AUDITOR})
"""Who sees the inbox, the overview, the CSV exports and the compliance report."""
ACKNOWLEDGE_ROLES = frozenset({Role.SUPERVISOR})
"""Who acknowledges an escalation."""
WEEKS = (4, 8, 13, 26)
REPORT_MAX_CASES = 300
"""The most histories the console reads for a compliance report; larger selections: ``audit report``."""


def almaty(moment: datetime | None) -> str:
    """An instant in Asia/Almaty with its offset, to the minute (``2027-03-29 18:30 +05:00``)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ALMATY)
    return local.strftime("%Y-%m-%d %H:%M ") + local.isoformat()[-6:]


def _require(principal: Principal, roles: frozenset[str], what: Sentence) -> None:
    if not principal.may(roles):
        raise ProblemError(403, Sentence("this key may not {what}", what=what))


def _csv(body: str, name: str) -> Response:
    return Response(
        "\ufeff" + body,  # a byte-order mark: spreadsheets then read the file as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def add_work_pages(router: APIRouter, ctx: AppContext) -> None:
    """Add the pages to the console's router (``api.console.build_console``)."""
    env = c._env()
    env.filters["almaty"] = almaty
    env.globals["inbox_open"] = inbox.open_count

    @router.get("/")
    async def work_queue(request: Request, scope: str = "") -> Response:
        legacy = {k: v for k, v in request.query_params.items() if k in ("procedure", "status", "overdue", "closed")}
        if legacy:  # the former case list's filters: the search page has them now
            return c._redirect("/console/search?" + urlencode(_legacy_search(legacy)))
        principal = c._user(request)
        client = await ctx.gateway.client()
        scope = scope if scope in ("mine", "team") else "mine"
        error = None
        try:
            wq = await queue.work_queue(client, ctx.procedures, principal.key_id, scope)
        except ProblemError as exc:  # Temporal unreachable, or a server without visibility listing: say so
            if exc.status < 500:
                raise
            wq, error = None, exc.detail
        startable = [s for s in ctx.procedures.values() if principal.may(s.start_roles)]
        return c._page(
            request,
            "queue.html",
            wq=wq,
            error=error,
            scope=scope,
            groups=queue.GROUPS,
            procedures=ctx.procedures,
            startable=startable,
        )

    @router.get("/search")
    async def search_page(request: Request) -> HTMLResponse:
        principal = c._user(request)
        form, bad = _search_form(request, ctx)
        personal = principal.may(PERSONAL_SEARCH_ROLES)
        client = await ctx.gateway.client()
        result = await search.search(client, ctx.procedures, form, personal=personal)
        params = form.model_dump(mode="json", exclude={"page"})
        return c._page(
            request,
            "search.html",
            422 if bad else 200,
            form=form,
            bad=bad,
            result=result,
            personal=personal,
            exports=principal.may(OVERVIEW_ROLES),
            procedures=ctx.procedures,
            statuses=search.statuses_of(ctx.procedures, form.procedure),
            query=urlencode({k: v if v is not None else "" for k, v in params.items()}),
        )

    @router.get("/search.csv")
    async def search_csv(request: Request) -> Response:
        principal = c._user(request)
        _require(principal, OVERVIEW_ROLES, Sentence("export case lists"))
        form, _bad = _search_form(request, ctx)
        client = await ctx.gateway.client()
        result = await search.search(
            client, ctx.procedures, form, personal=principal.may(PERSONAL_SEARCH_ROLES), paged=False
        )
        return _csv(search.csv_of(list(result.rows), search.CSV_COLUMNS), "cases.csv")

    @router.get("/incidents")
    async def incidents_page(request: Request, page: int = 1) -> HTMLResponse:
        c._user(request)
        client = await ctx.gateway.client()
        page = max(1, page)
        items, total, truncated = await incidents.incidents(client, ctx.procedures, page)
        pages = max(1, -(-total // incidents.INCIDENTS_PAGE))
        return c._page(
            request,
            "incidents.html",
            items=items,
            total=total,
            page=min(page, pages),
            pages=pages,
            truncated=truncated,
            procedures=ctx.procedures,
        )

    @router.get("/inbox")
    async def inbox_page(request: Request, all: str = "") -> HTMLResponse:
        principal = c._user(request)
        _require(principal, OVERVIEW_ROLES, Sentence("read the supervisors' inbox"))
        rows, open_count = await asyncio.to_thread(lambda: inbox.escalations(include_acknowledged=bool(all)))
        return c._page(
            request,
            "inbox.html",
            rows=rows,
            open_count=open_count,
            show_all=bool(all),
            may_acknowledge=principal.may(ACKNOWLEDGE_ROLES),
            procedures=ctx.procedures,
        )

    @router.post("/inbox/{notification_id}/acknowledge")
    async def acknowledge(request: Request, notification_id: int) -> Response:
        principal = c._user(request)
        await c._form(request)
        _require(principal, ACKNOWLEDGE_ROLES, Sentence("acknowledge escalations"))
        row = await asyncio.to_thread(inbox.acknowledge, notification_id, principal.describe())
        if row is None:
            raise ProblemError(404, "no such escalation")
        c._flash(request, "Acknowledged")
        return c._redirect("/console/inbox")

    @router.get("/overview")
    async def overview_page(request: Request, weeks: int = 8) -> HTMLResponse:
        principal = c._user(request)
        _require(principal, OVERVIEW_ROLES, Sentence("see the overview"))
        weeks = weeks if weeks in WEEKS else 8
        client = await ctx.gateway.client()
        ov = await overview.overview(client, ctx.procedures, weeks)
        lang = c._lang(request)
        met, breached = gettext(lang, "met on time"), gettext(lang, "breached")
        top = max([v for p in ov.procedures for v in (*p.met.values(), *p.breached.values())] + [1])
        charts = [(p, overview.week_chart(p, ov.weeks, top, met, breached)) for p in ov.procedures]
        title = {k: gettext(lang, s.title) for k, s in ctx.procedures.items()}
        overdue = overview.overdue_chart([(title[p.procedure], p.overdue_now) for p in ov.procedures])
        return c._page(
            request,
            "overview.html",
            ov=ov,
            charts=charts,
            overdue=overdue,
            weeks=weeks,
            week_choices=WEEKS,
            procedures=ctx.procedures,
        )

    @router.get("/overview/breaches.csv")
    async def breaches_csv(request: Request, weeks: int = 8) -> Response:
        principal = c._user(request)
        _require(principal, OVERVIEW_ROLES, Sentence("export breaches"))
        client = await ctx.gateway.client()
        ov = await overview.overview(client, ctx.procedures, weeks if weeks in WEEKS else 8)
        return _csv(search.csv_of(list(ov.breaches), overview.BREACH_COLUMNS), "breaches.csv")

    @router.get("/overview/report.{fmt}")
    async def compliance_report(request: Request, fmt: str, weeks: int = 8) -> Response:
        principal = c._user(request)
        _require(principal, OVERVIEW_ROLES, Sentence("read the compliance report"))
        if fmt not in ("html", "json"):
            raise ProblemError(404, "the report is report.html or report.json")
        client = await ctx.gateway.client()
        rep = await _report(client, ctx, weeks if weeks in WEEKS else 8)
        if fmt == "json":
            body, media = rep.model_dump_json(indent=1), "application/json"
        else:
            body, media = render_report_html(rep, c._lang(request)), "text/html; charset=utf-8"
        return Response(
            body, media_type=media, headers={"Content-Disposition": f'attachment; filename="compliance-report.{fmt}"'}
        )


def _search_form(request: Request, ctx: AppContext) -> tuple[search.SearchForm, list[str]]:
    form, bad = search.parse_form(dict(request.query_params))
    if form.procedure and form.procedure not in ctx.procedures:
        bad.append("procedure")
        form = form.model_copy(update={"procedure": ""})
    if form.status and form.status not in search.statuses_of(ctx.procedures, form.procedure):
        bad.append("status")
        form = form.model_copy(update={"status": ""})
    return form, bad


def _legacy_search(params: dict[str, str]) -> dict[str, str]:
    out = {k: params[k] for k in ("procedure", "status") if params.get(k)}
    out["state"] = "all" if params.get("closed") else "open"
    if params.get("overdue"):
        out["overdue"] = "1"
    return out


async def _report(client: Client, ctx: AppContext, weeks: int) -> ComplianceReport:
    """The compliance report over the cases started in the last ``weeks`` weeks (from their histories)."""
    since = datetime.now(UTC) - timedelta(weeks=weeks)
    query = f"{procedures_clause(ctx.procedures)} AND StartTime >= {instant(since)}"
    try:
        ids = list(dict.fromkeys([wf.id async for wf in client.list_workflows(query, limit=REPORT_MAX_CASES + 1)]))
        if len(ids) > REPORT_MAX_CASES:
            raise ProblemError(
                422,
                f"more than {REPORT_MAX_CASES} cases started in these weeks: "
                "use `audit report --since …` for a report this large",
            )
        histories = [await client.get_workflow_handle(i).fetch_history() for i in ids]
    except RPCError as exc:
        raise problem_from_temporal(exc) from None
    return build_report([parse_history(h) for h in histories], datetime.now(UTC))
