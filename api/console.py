"""The back-office console: server-rendered jinja2 pages under ``/console`` (no JavaScript build).

Sign-in with a staff, supervisor or auditor key opens a session kept on the server (``api.sessions``; the
cookie, signed by itsdangerous, carries only its random id, the CSRF token and the language); every form
carries the session's CSRF token; every page carries a Content-Security-Policy whose nonce its inline styles
hold (no scripts); texts come from the kk/ru/en catalogues (``api.i18n``).

An action is Post/Redirect/Get: the Update's answer is awaited, then the case's own work after it (``infra.cases.
wait_until_settled``), then the browser is sent to the case page, which shows the new state; a case still working
(an outside system retrying) shows "processing" and refreshes itself (a ``<meta http-equiv="refresh">``, no script)
while no form is on the page. Who decides is the signed-in user: the form shows it read-only and the server sets it.
Every instant is shown in Asia/Almaty with its offset, to the minute (``rules.calendar.almaty_text``).
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from sqlmodel import col, select
from temporalio.client import Client
from temporalio.service import RPCError

from api import case_page
from api.auth import CONSOLE_ROLES, Principal, verify_key
from api.cases import (
    CASE_ID_PATTERN,
    document_response,
    get_case,
    send_event,
    start_case,
    timeline,
    working_days_left,
)
from api.context import AppContext
from api.deadline_view import explain, picture
from api.forms import Form, FormField, build_form, parse_form
from api.headers import console_csp, new_nonce
from api.i18n import DEFAULT, LANGUAGES, N_, activity_label, actor_said, gettext, label, say
from api.problems import ProblemError, status_title
from api.sessions import SESSION_ID, close_session, open_session, session_principal
from api.temporal import problem_from_temporal
from infra import assignments
from infra.calendar import current_calendar
from infra.cases import case_work
from infra.db import session as db_session
from models.case import CaseView, action_said
from models.procedure import ProcedureSpec
from models.tables import SmsOutbox
from models.types import RUN_ID_PATTERN
from rules import law
from rules.calendar import ALMATY, almaty_text
from rules.identifiers import masked_number
from rules.text import Sentence, path_shown

__all__ = ["build_console"]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


_START_FLASH = {"opened": "Case started", "joined": "Recorded in the running case"}


class LoginRequired(Exception):
    """The page needs a signed-in console user."""


@cache
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True
    )
    env.filters["local"] = _local
    env.filters["shown"] = case_page.shown
    env.filters["masked"] = masked_number
    env.globals["act_title"] = law.act_title
    env.globals["document_title"] = document_title
    env.globals["term_title"] = term_title
    env.globals["activity_label"] = activity_label
    env.globals["action_said"] = action_said
    env.globals["findings"] = case_page.findings
    env.globals["event_title"] = case_page.event_title
    env.globals["calendar_in_force"] = current_calendar
    env.filters["day"] = lambda moment: moment.astimezone(ALMATY).date().isoformat() if moment else ""
    return env


def _local(moment: datetime | None, fmt: str | None = None) -> str:
    """An instant for a person: Asia/Almaty, to the minute, with its offset (``2026-12-01 14:05 +05:00``). ``fmt``,
    which templates once gave, is ignored: every instant on every page reads the same way."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite gives back naive UTC
        moment = moment.replace(tzinfo=UTC)
    return almaty_text(moment)


def _lang(request: Request) -> str:
    lang = request.session.get("lang")
    if lang in LANGUAGES:
        return str(lang)
    accept = request.headers.get("accept-language", "").lower()
    for part in accept.split(","):
        code = part.split(";")[0].strip()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


RECORDED_TITLES = {
    "MVNO permit ": N_("MVNO permit {number}"),
    "Administrative case ": N_("Administrative case {number}"),  # a complaint's: the appealed case's id
}
"""Document titles a case records with a value in them (the permit's number, the appealed case's id): the fixed part is
translated, the value kept. Every other title a case records is a fixed text, translated as it is."""


def document_title(title: str, lang: str) -> str:
    """A document title as a case recorded it (English), in ``lang``."""
    translated = gettext(lang, title)
    if translated != title:
        return translated
    for prefix, msgid in RECORDED_TITLES.items():
        if title.startswith(prefix):
            return gettext(lang, msgid).format(number=title.removeprefix(prefix))
    return title


_NUMBERED = re.compile(r"(?P<base>[a-z_]+)_(?P<n>\d+)")


def term_title(name: str, lang: str) -> str:
    """A term's name (its label, else its key) in ``lang``, in words where no catalogue has it (``api.i18n.label``);
    a term opened again under a numbered key (a permit's renewed validity, ``permit_validity_2``) as its first's name
    and the number."""
    if gettext(lang, name) == name and (m := _NUMBERED.fullmatch(name)):
        return f"{label(lang, m['base'])} ({m['n']})"
    return label(lang, name)


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


STALE_FORM = N_(
    "This form was opened before you last signed in (or in another session): nothing was sent. Check it and send it "
    "again."
)
"""What a form sent with a CSRF token of another session is told: a start or a decision comes back as filled."""
STALE_SIGN_IN = N_("This sign-in page is from an earlier session: nothing was sent. Sign in again.")
SESSION_ENDED = N_(
    "Your session had ended (signed out, or unused too long): nothing was sent. Sign in again to go back to the "
    "form, and send it again."
)
"""What the sign-in page says to a clerk whose form met no session (``_login_required``)."""


ANOTHER_CASE = (
    "A newer case holds this id now: the form was for the case before it, and nothing was sent. The page shows the "
    "newer case."
)
"""What a case page says when a form posted from an earlier case's page met a newer case under the id."""


class AnotherCase(Exception):
    """A form posted for a case that a newer case under its id has replaced since."""


class StaleForm(Exception):
    """A form posted without this session's CSRF token; its fields, for a form that can be shown again as filled."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(STALE_FORM)
        self.values = values


async def _form(request: Request) -> dict[str, str]:
    """The posted fields; ``StaleForm`` (403) without this session's CSRF token."""
    data = await request.form()
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    token = request.session.get("csrf")
    sent = values.pop("csrf_token", "")
    if not isinstance(token, str) or not hmac.compare_digest(token, sent):
        raise StaleForm(values)
    return values


def _user(request: Request) -> Principal:
    principal = session_principal(request.session)
    if principal is None or not principal.may(CONSOLE_ROLES):
        raise LoginRequired()
    return principal


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = _lang(request)
    principal = session_principal(request.session)
    nonce = new_nonce()
    # the language links lead back here; a page rendered for a posted form names its own page (``here``)
    here = context.pop("here", None) or path_shown(request.url.path) + (
        f"?{request.url.query}" if request.url.query else ""
    )  # the language links: a number put in the path is not repeated (the query is the clerk's own search)
    context.setdefault("refresh", None)
    context.setdefault("label", functools.partial(label, lang))
    html = (
        _env()
        .get_template(template)
        .render(
            request=request,
            _=lambda text: gettext(lang, text),
            actor=lambda text: actor_said(lang, text),
            lang=lang,
            languages=LANGUAGES,
            csrf=_csrf(request),
            user=principal,
            flash=request.session.pop("flash", None),
            path=here,
            csp_nonce=nonce,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": console_csp(nonce)})


ERROR_HINTS = {
    401: N_("Sign in to see this page."),
    403: N_("Your role may not do this. Ask a supervisor if you need it."),
    404: N_("There is no such page, case or document."),
    405: N_("This page cannot be used this way."),
    409: N_("The case cannot take this now."),
    413: N_("What was sent is too large."),
    422: N_("What was sent cannot be accepted."),
}
"""What an error means for the person who met it, by status; other statuses (5xx) read as a failure of ours."""
SERVER_HINT = N_("The system could not answer now. Try again in a moment; if it keeps failing, tell the operator.")


def error_page(request: Request, status: int, detail: str, hint: str | None = None) -> HTMLResponse:
    """An error as a console page: the navigation (for whoever is signed in), the language links and the problem in
    the page's language. The detail is shown translated when the catalogue knows it, else as given, marked English."""
    lang = _lang(request)
    title = status_title(status)
    if detail.lower() == title.lower():  # Starlette's own "Not Found": the title says it already
        detail = ""
    translated = say(lang, detail) if detail else ""
    return _page(
        request,
        "error.html",
        status,
        code=status,
        title=title,
        hint=hint if hint is not None else ERROR_HINTS.get(status, SERVER_HINT if status >= 500 else ""),
        detail=translated,
        detail_lang=lang if translated != detail or lang == "en" else "en",
    )


def _flash(request: Request, text: str) -> None:
    request.session["flash"] = text


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def build_console(app: FastAPI, ctx: AppContext) -> None:
    """Add the console's routes to ``app``."""
    router = APIRouter(prefix="/console", include_in_schema=False)

    @app.exception_handler(StaleForm)
    async def _stale_form(request: Request, exc: StaleForm) -> Response:
        return error_page(request, 403, STALE_FORM, hint="")  # not a role's refusal: the form came too late

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if request.method != "POST":
            return _redirect("/console/login?" + urlencode({"next": request.url.path}))
        # a form sent after the session ended: back to the page it was on (its URL takes no GET), and the sign-in
        # page says that nothing was sent
        request.session["ended"] = True
        return _redirect("/console/login?" + urlencode({"next": _form_page(request.url.path)}))

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return _redirect("/console/")

    @router.get("/login")
    async def login_page(request: Request, next: str = "/console/") -> HTMLResponse:
        ended = SESSION_ENDED if request.session.pop("ended", False) else None
        return _page(request, "login.html", next=_safe_next(next), ended=ended)

    @router.post("/login")
    async def login(request: Request) -> Response:
        try:
            values = await _form(request)
        except StaleForm as stale:  # the key is not echoed back
            next_page = _safe_next(stale.values.get("next", ""))
            return _page(request, "login.html", 403, next=next_page, error=STALE_SIGN_IN)
        principal = verify_key(values.get("api_key", ""))
        if principal is None or not principal.may(CONSOLE_ROLES):
            return _page(
                request,
                "login.html",
                401,
                next=_safe_next(values.get("next", "")),
                error="Unknown key, or the key is not a staff, supervisor or auditor key",
            )
        lang = request.session.get("lang")
        close_session(request.session)  # a fresh session (and CSRF token) after sign-in
        request.session.clear()
        request.session.update({SESSION_ID: open_session(principal.key_id), "csrf": secrets.token_urlsafe(24)})
        if lang:
            request.session["lang"] = lang
        return _redirect(_safe_next(values.get("next", "")))

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        await _form(request)
        lang = request.session.get("lang")
        close_session(request.session)  # the server forgets it: a copy of the cookie opens nothing
        request.session.clear()
        if lang:  # the clerk's language is not the session's: the sign-in page and the next session keep it
            request.session["lang"] = lang
        return _redirect("/console/login")

    @router.get("/lang/{code}")
    async def set_language(request: Request, code: str, next: str = "/console/") -> Response:
        if code in LANGUAGES:
            request.session["lang"] = code
        return _redirect(_safe_next(next))

    from api.console_work import add_work_pages  # its pages use this module's helpers

    add_work_pages(router, ctx)  # the work queue ("/"), search, incidents, inbox, overview

    async def render_case(
        request: Request,
        case_id: str,
        status: int = 200,
        posted: case_page.Posted | None = None,
        run_id: str | None = None,
    ) -> HTMLResponse:
        """The case page; ``run_id`` opens an earlier case of an id that names several (else the latest)."""
        principal = _user(request)
        if not _valid_case_id(case_id) or (run_id is not None and not re.fullmatch(RUN_ID_PATTERN, run_id)):
            raise ProblemError(404, "no such case")
        client = await ctx.gateway.client()
        # What the case is doing is read before its state: a case seen settled is shown as it settled or later (the
        # other order could show a state older than the settling, on a page that then does not follow the case).
        try:
            work = await case_work(client, case_id, run_id)
        except RPCError as exc:
            raise problem_from_temporal(exc) from None
        view = await get_case(client, case_id, ctx.procedures, run_id)
        spec = ctx.procedures[view.procedure]
        own = await case_page.own_view(client, spec, case_id, run_id)
        entries = await timeline(client, case_id, view)
        now = datetime.now(UTC)
        _ = _translator(request)
        days_left = {s.key: working_days_left(s.due, now) for s in view.deadlines if case_page.live(s)}
        lang = _lang(request)
        words = functools.partial(label, lang)  # a term's key without a translation in words, not as the key
        known = case_page.prefill(view, own, lang)
        forms = [] if view.closed else case_page.event_forms(spec, view.pending_events, principal, posted, known, lang)
        refusal = None  # a refused event whose form is not on the page (it no longer fits): said above the case
        if posted is not None and posted[0] not in {e.name for e, f in forms if f is not None}:
            event = spec.event(posted[0])
            refusal = (event.title, posted[3] or [_("the form's values were not understood")])
        may = {e.name for e in spec.events if principal.may(e.roles)}
        its = await case_page.span(client, view, work, run_id)
        with db_session() as s:
            sms = [
                m
                for m in s.exec(
                    select(SmsOutbox).where(SmsOutbox.case_id == case_id).order_by(col(SmsOutbox.accepted_at))
                )
                if its.holds(m.accepted_at)
            ]
        holder = assignments.current(case_id) if its.latest else None
        may_assign = not view.closed and assignments.may_assign(principal.key_id, principal.roles, holder)
        refresh = None
        if work.busy and not forms:  # nothing to type on the page: it follows the case by itself
            refresh = 2 if all(c.attempt <= 1 for c in work.calls) else 10
        return _page(
            request,
            "case.html",
            status,
            view=view,
            spec=spec,
            own=own,
            partial=case_page.partial(view.procedure),
            steps=case_page.next_steps(spec, view, own, may),
            explained={st.key: explain(st, words) for st in view.deadlines},
            pictures={st.key: picture(st, now, words) for st in view.deadlines},
            live={st.key for st in view.deadlines if case_page.live(st)},
            by_key={st.key: st for st in view.deadlines},
            timeline=entries,
            days_left=days_left,
            forms=forms,
            work=work,
            calls=work.calls,
            refresh=refresh,
            sms=sms,
            holder=holder,
            people=[
                p
                for p in (assignments.people() if may_assign else [])
                if assignments.may_assign(principal.key_id, principal.roles, holder, p.key_id)
            ],
            me=principal.key_id,
            earlier=not its.latest,
            concluded_since=await case_page.concluded_since(client, view),
            refusal=refusal,
            # also after a posted form: its language links lead to the case page
            here=f"/console/cases/{case_id}" + (f"?run={run_id}" if run_id else ""),
            run=run_id,
        )

    @router.get("/cases/{case_id}")
    async def case_page_(request: Request, case_id: str, run: str | None = None) -> HTMLResponse:
        return await render_case(request, case_id, run_id=run)

    async def _case_form(request: Request, case_id: str) -> tuple[Principal, dict[str, str], Client, CaseView]:
        """A form posted to a case page: who sends it, its values, and the case (404 when there is none).
        ``AnotherCase`` when the page was an earlier case's: its chain (the form's ``case_chain``) is no longer the
        id's (an adversarial run, 2026-12-05: a lift typed on a closed case's page lifted the next case's
        suspension)."""
        principal = _user(request)
        values = await _form(request)
        chain = values.pop("case_chain", "")
        if not _valid_case_id(case_id):
            raise ProblemError(404, "no such case")
        client = await ctx.gateway.client()
        view = await get_case(client, case_id, ctx.procedures)
        if chain and view.first_run_id and chain != view.first_run_id:
            raise AnotherCase(values)
        return principal, values, client, view

    @router.post("/cases/{case_id}/events/{event_name}")
    async def post_event(request: Request, case_id: str, event_name: str) -> Response:
        try:
            principal, values, client, view = await _case_form(request, case_id)
        except StaleForm as stale:  # the case page again, the decision's form as the clerk filled it
            said = gettext(_lang(request), STALE_FORM)
            return await render_case(request, case_id, 403, posted=(event_name, stale.values, None, [said]))
        except AnotherCase:  # the newer case's page, saying why nothing was sent (its forms empty)
            said = gettext(_lang(request), ANOTHER_CASE)
            return await render_case(request, case_id, 409, posted=(event_name, {}, None, [said]))
        spec = ctx.procedures[view.procedure]
        try:
            event = spec.event(event_name)
        except KeyError:
            raise ProblemError(404, "no such event for this procedure") from None
        if not principal.may(event.roles):
            raise ProblemError(403, Sentence("this key may not send {event}", event=event.name))
        values.update(case_page.fixed(event, principal))  # who decides is the signed-in user, whatever the form says
        payload: BaseModel | None = None
        if event.model is not None:
            form = build_form(event.model, values)
            data, problems = parse_form(form, values)
            try:
                payload = event.model.model_validate(data)
            except ValidationError as exc:
                unread = _unread(request, problems)
                return await render_case(request, case_id, 422, posted=(event.name, values, exc, unread))
        try:
            await send_event(client, spec, event, case_id, payload, caller=principal.caller)
        except ProblemError as exc:
            if exc.status >= 500:
                raise
            detail = say(_lang(request), exc.detail)
            return await render_case(request, case_id, exc.status, posted=(event.name, values, None, [detail]))
        await case_page.settle(client, case_id)
        _flash(request, "Decision recorded")
        return _redirect(f"/console/cases/{case_id}")

    @router.post("/cases/{case_id}/assign")
    async def post_assign(request: Request, case_id: str) -> Response:
        try:
            principal, values, _, view = await _case_form(request, case_id)
        except AnotherCase:
            raise ProblemError(409, ANOTHER_CASE) from None
        if view.closed:
            raise ProblemError(409, "a closed case is not assigned")
        try:
            assignments.assign(
                case_id,
                values.get("assignee", ""),
                by_key=principal.key_id,
                by_name=principal.name,
                roles=principal.roles,
            )
        except assignments.AssignmentRefused as exc:
            raise ProblemError(exc.status, exc.message) from None
        _flash(request, "Case assigned")
        return _redirect(f"/console/cases/{case_id}")

    def barred(spec: ProcedureSpec, principal: Principal) -> set[str]:
        """The events of ``spec`` the key may not send (a start's way in among them: a fraud case's centre
        information is the antifraud centre's)."""
        return {e.name for e in spec.events if principal.caller is not None and not principal.caller.may(e.roles)}

    def start_form(spec: ProcedureSpec, principal: Principal, values: dict[str, str] | None = None, **kw: Any) -> Form:
        """The start form of ``spec``, offering only the ways in (union variants named as events) the key may send."""
        return build_form(spec.input_model, values, **kw).without_variants(barred(spec, principal))

    @router.get("/start/{key}")
    async def start_page(request: Request, key: str) -> HTMLResponse:
        principal = _user(request)
        spec = _startable(ctx, key, principal)
        return _page(request, "start.html", spec=spec, form=start_form(spec, principal))

    @router.post("/start/{key}")
    async def start(request: Request, key: str) -> Response:
        principal = _user(request)
        spec = _startable(ctx, key, principal)
        try:
            values = await _form(request)
        except StaleForm as stale:  # the start form again, as the clerk filled it
            said = gettext(_lang(request), STALE_FORM)
            form = start_form(spec, principal, stale.values, extra_errors=[said], lang=_lang(request))
            return _page(request, "start.html", 403, spec=spec, form=form)
        action = values.pop("_action", "")
        if action.startswith(("add:", "remove:")):  # a repeated group grows or shrinks; nothing is sent
            verb, _, name = action.partition(":")
            current = int(values.get(f"_count.{name}", "1") or 1)
            values[f"_count.{name}"] = str(max(0, current + (1 if verb == "add" else -1)))
            return _page(request, "start.html", spec=spec, form=start_form(spec, principal, values))
        form = start_form(spec, principal, values)
        switches, not_this_key = [g.switch for g in form.groups() if g.switch], barred(spec, principal)
        if chosen := next((values[w] for w in switches if values.get(w) in not_this_key), None):
            # a way in the form no longer offers (a stale page, a hand-made request): said, the rest kept
            form.errors.append(say(_lang(request), Sentence("this key may not send {event}", event=chosen)))
            return _page(request, "start.html", 403, spec=spec, form=form)
        data, problems = parse_form(form, values)
        try:
            inp = spec.input_model.model_validate(data)
        except ValidationError as exc:
            form = start_form(
                spec, principal, values, error=exc, extra_errors=_unread(request, problems), lang=_lang(request)
            )
            return _page(request, "start.html", 422, spec=spec, form=form)
        client = await ctx.gateway.client()
        try:
            ref = await start_case(
                client, spec, inp, ctx.task_queue, actor=principal.describe(), caller=principal.caller
            )
        except ProblemError as exc:
            if exc.status not in (403, 409, 422):
                raise
            # refused at the intake (a receipt in the future, a law without the start's paragraphs), in conflict
            # with what is recorded (a fraud report's ref another case took in), or for a way in this key may not
            # send: the form again, as the clerk filled it, with the reason above it in the page's language
            shown = say(_lang(request), exc.detail)
            form = start_form(spec, principal, values, extra_errors=[shown], lang=_lang(request))
            return _page(request, "start.html", exc.status, spec=spec, form=form)
        await case_page.settle(client, ref.case_id)
        _flash(request, _START_FLASH.get(ref.answer, "This application has a case already"))
        return _redirect(f"/console/cases/{ref.case_id}")

    @router.get("/outbox")
    async def outbox(request: Request, case_id: str = "") -> HTMLResponse:
        _user(request)
        with db_session() as s:
            q = select(SmsOutbox).order_by(col(SmsOutbox.accepted_at).desc()).limit(200)
            if case_id:
                q = q.where(SmsOutbox.case_id == case_id)
            rows = list(s.exec(q))
        return _page(request, "outbox.html", rows=rows, case_id=case_id)

    @router.get("/cases/{case_id}/documents/{doc_ref:path}")
    async def document(request: Request, case_id: str, doc_ref: str) -> Response:
        _user(request)
        return document_response(case_id, doc_ref)

    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.include_router(router)


def _translator(request: Request) -> Callable[[str], str]:
    lang = _lang(request)
    return lambda text: gettext(lang, text)


def _unread(request: Request, problems: list[tuple[FormField, str]]) -> list[str]:
    """The fields whose text could not even be read (``parse_form``), as messages in the page's language."""
    _ = _translator(request)
    return [f"{_(f.label)}: {_(m)}" for f, m in problems]


def _valid_case_id(case_id: str) -> bool:
    return bool(re.match(CASE_ID_PATTERN, case_id))


def _safe_next(target: str) -> str:
    """Only our own console pages as redirect targets (no open redirect)."""
    return target if target.startswith("/console/") and "//" not in target and "\\" not in target else "/console/"


_POSTED_FROM = re.compile(r"(?P<page>/console/cases/[^/]+)/(?:events/[^/]+|assign)|(?P<inbox>/console/inbox)/.*")


def _form_page(path: str) -> str:
    """The page whose form posts to ``path``: a case's decision or assignment comes from the case page, an
    acknowledgement from the inbox; a start form posts to its own page."""
    m = _POSTED_FROM.fullmatch(path)
    return _safe_next((m["page"] or m["inbox"]) if m else path)


def _startable(ctx: AppContext, key: str, principal: Principal) -> ProcedureSpec:
    spec = ctx.procedures.get(key)
    if spec is None:
        raise ProblemError(404, "no such procedure")
    if not principal.may(spec.start_roles):
        raise ProblemError(403, Sentence("this key may not start {procedure} cases", procedure=key))
    return spec
