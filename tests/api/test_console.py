"""The back-office console (``api.console``). Over HTTP (no browser): sign-in, CSRF, start form with messages
next to fields, decisions only when pending, outbox, language switch.

In Debian's chromium driven by Playwright, with the real MVNO permit (665/NK): sign in, start a permit case
from the demo application (a wrong BIN first, its message next to the field), see the completeness deadline,
record the completeness decision, see the deadline met and the registration SMS in the outbox.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Page, expect
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from infra.calendar import current_calendar
from infra.codec import encode_payloads_json
from infra.db import session as db_session
from infra.store import record_sms
from models.mvno_permit import PermitApplication
from models.sms import SmsRequest
from models.tables import ConsoleSession
from rules.calendar import ALMATY
from rules.identifiers import kz_mobile, masked_number
from rules.text import Sentence
from tests.api.applications import IIN, eventually
from tests.api.browser import FreshBrowser
from tests.api.conftest import TASK_QUEUE, Keys
from tests.cases import stop
from tests.refs import opaque
from tests.workflows.permit_cases import received_working_days_ago

PHONE = "+77011234567"


def complaint_about(case_id: str, **fields: str) -> dict[str, Any]:
    """A complaint's start body about the case ``case_id``, received now; ``fields`` give the rest."""
    return {
        "complaint_number": f"KZ-C-{uuid.uuid4().hex[:8]}",
        "complainant": {"full_name": "Асанов Асан Асанович", "iin": IIN, "phone": PHONE},
        "appealed_case_id": case_id,
        "addressed_to": "provider",
        "received_at": datetime.now(UTC).isoformat(),
        **fields,
    }


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


async def sign_in(http: httpx.AsyncClient, key: str) -> httpx.Response:
    page = await http.get("/console/login")
    return await http.post(
        "/console/login", data={"csrf_token": csrf(page.text), "api_key": key, "next": "/console/outbox"}
    )


async def demo_case(http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment) -> str:
    """A demo completeness-check case received now, started by staff through the API; its id."""
    from tests.api.applications import application

    started = await http.post(
        "/v1/procedures/demo_check/cases",
        json=application(await env.get_current_time()),
        headers={"X-API-Key": keys.staff},
    )
    return str(started.json()["case_id"])


async def test_sign_in_needs_the_csrf_token_and_a_console_role(http: httpx.AsyncClient, keys: Keys) -> None:
    r = await http.get("/console/outbox")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    no_token = await http.post("/console/login", data={"api_key": keys.staff})
    assert no_token.status_code == 403 and "Бұл кіру беті бұрынғы сессиядан" in no_token.text  # Kazakh by default
    assert keys.staff not in no_token.text and 'id="api_key"' in no_token.text  # the sign-in form again, no key
    bank = await sign_in(http, keys.bank)
    assert bank.status_code == 401
    ok = await sign_in(http, keys.staff)
    assert ok.status_code == 303 and ok.headers["location"] == "/console/outbox"
    assert (await http.get("/console/outbox")).status_code == 200
    page = await http.get("/console/outbox")
    out = await http.post("/console/logout", data={"csrf_token": csrf(page.text)})
    assert out.status_code == 303
    assert (await http.get("/console/outbox")).status_code == 303


async def test_a_form_from_before_the_last_sign_in_comes_back_as_filled_not_as_a_role_refusal(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment, api_worker: None
) -> None:
    """A decision or a start typed on a page opened before the clerk signed in again (another tab): its CSRF token is
    the old session's. It was answered "your role may not do this" and the typing was lost (an adversarial run,
    2026-12-04); now nothing is sent, and the form comes back as filled, saying why, with this session's token."""

    await sign_in(http, keys.staff)
    await http.get("/console/lang/en?next=/console/")
    case_id = await demo_case(http, keys, env)
    await eventually(
        lambda: http.get(f"/v1/cases/{case_id}", headers={"X-API-Key": keys.staff}),
        lambda r: "completeness_decision" in r.json()["pending_events"],
    )
    old = csrf((await http.get(f"/console/cases/{case_id}")).text)
    await sign_in(http, keys.staff)  # signed in again elsewhere: a new session, a new token
    typed = {"csrf_token": old, "reason": "the charter is missing its second page"}
    sent = await http.post(f"/console/cases/{case_id}/events/completeness_decision", data=typed)
    assert sent.status_code == 403 and "nothing was sent" in sent.text
    assert "the charter is missing its second page" in sent.text and "Your role may not do this" not in sent.text
    assert csrf(sent.text) != old
    view = await http.get(f"/v1/cases/{case_id}", headers={"X-API-Key": keys.staff})
    assert "completeness_decision" in view.json()["pending_events"]  # nothing was decided
    start = await http.post("/console/start/demo_check", data={"csrf_token": old, "phone": "+77011234567"})
    assert start.status_code == 403 and "nothing was sent" in start.text and 'value="+77011234567"' in start.text
    await stop(env.client.get_workflow_handle(case_id))


async def test_a_form_sent_after_the_session_ended_leads_back_to_its_page_after_signing_in(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    """A decision typed while the session ended (idle, or signed out in another tab) was sent to sign-in with the
    POST's URL as ``next``: signed in, the browser asked for it and met 405, and the sign-in page never said the
    session had ended (an adversarial run, 2026-12-04). Now ``next`` is the page the form was on (the case page, the
    start page), and the sign-in page says, in the page's language, that nothing was sent."""

    await sign_in(http, keys.staff)
    await http.get("/console/lang/ru?next=/console/")
    case_id = await demo_case(http, keys, env)
    token = csrf((await http.get(f"/console/cases/{case_id}")).text)
    backdate("last_seen_at", timedelta(minutes=31))  # the clerk typed for over half an hour
    typed = {"csrf_token": token, "reason": "the charter is missing its second page"}
    sent = await http.post(f"/console/cases/{case_id}/events/completeness_decision", data=typed)
    assert sent.status_code == 303 and sent.headers["location"] == f"/console/login?next=%2Fconsole%2Fcases%2F{case_id}"
    login = await http.get(sent.headers["location"])
    assert 'id="session-ended"' in login.text and "ничего не отправлено" in login.text and 'lang="ru"' in login.text
    assert f'name="next" value="/console/cases/{case_id}"' in login.text
    again = await http.get(sent.headers["location"])
    assert 'id="session-ended"' not in again.text  # said once, not on every later sign-in
    signed = await http.post(
        "/console/login",
        data={"csrf_token": csrf(again.text), "api_key": keys.staff, "next": f"/console/cases/{case_id}"},
    )
    assert signed.headers["location"] == f"/console/cases/{case_id}"
    assert (await http.get(signed.headers["location"])).status_code == 200
    backdate("last_seen_at", timedelta(minutes=31))
    start = await http.post("/console/start/demo_check", data={"csrf_token": token, "phone": "+77011234567"})
    assert start.status_code == 303
    assert start.headers["location"] == "/console/login?next=%2Fconsole%2Fstart%2Fdemo_check"
    assert 'id="session-ended"' in (await http.get(start.headers["location"])).text
    r = await http.get("/console/outbox")  # a page merely opened after the session ended: nothing was lost
    assert r.status_code == 303 and 'id="session-ended"' not in (await http.get(r.headers["location"])).text
    await stop(env.client.get_workflow_handle(case_id))


async def test_signing_out_keeps_the_clerk_s_language(http: httpx.AsyncClient, keys: Keys) -> None:
    """Signing out dropped the language chosen on the console: the sign-in page, and the console after signing in
    again, were in the browser's language (an adversarial run, 2026-12-04)."""
    await sign_in(http, keys.staff)
    await http.get("/console/lang/ru?next=/console/")
    page = await http.get("/console/outbox")
    out = await http.post("/console/logout", data={"csrf_token": csrf(page.text)}, headers={"Accept-Language": "en"})
    login = await http.get(out.headers["location"], headers={"Accept-Language": "en"})
    assert 'lang="ru"' in login.text and "Войти" in login.text
    await sign_in(http, keys.staff)
    assert "Исходящие SMS" in (await http.get("/console/outbox", headers={"Accept-Language": "en"})).text


async def test_a_document_s_hash_is_set_apart_from_its_signature(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    """The documents list read "signatureSHA-256", "подписьSHA-256", "қол қойылмағанSHA-256": the line before the
    hash ends in a tag, which takes its newline (an adversarial run, 2026-12-04)."""
    from tests.api.applications import application

    await sign_in(http, keys.staff)
    started = await http.post(
        "/v1/procedures/demo_check/cases",
        json=application(await env.get_current_time()),
        headers={"X-API-Key": keys.staff},
    )
    case_id, staff = started.json()["case_id"], {"X-API-Key": keys.staff}
    url = f"/v1/procedures/demo_check/cases/{case_id}/events/completeness_decision"
    await eventually(
        lambda: http.post(url, json={"complete": False, "reason": "no charter"}, headers=staff),
        lambda r: r.status_code == 200,
    )
    await eventually(lambda: http.get(f"/v1/cases/{case_id}", headers=staff), lambda r: r.json()["documents"])
    for lang in ("en", "ru", "kk"):
        await http.get(f"/console/lang/{lang}?next=/console/")
        page = await http.get(f"/console/cases/{case_id}")
        documents = re.search(r'<ul id="documents">(.*?)</ul>', page.text, re.S)
        assert documents and "SHA-256" in documents.group(1)
        text = re.sub(r"<[^>]+>", "", documents.group(1))
        assert re.search(r"\S SHA-256", text) and not re.search(r"\SSHA-256", text), (lang, text)


def test_who_decides_is_shown_read_only_whatever_kind_of_field_it_is() -> None:
    """The field a decision names its decider in is filled with the signed-in user, whatever is sent. A long one
    (the fraud analyst, a complaint's ``decided_by``: up to 2000 characters) was drawn as a textarea, which took
    typing that was then replaced (an adversarial run, 2026-12-04): every such field is a read-only line."""
    from api.auth import Principal
    from api.case_page import event_forms
    from api.console import _env
    from workflows.catalogue import PROCEDURES

    anyone = Principal(key_id="k1", name="C. Clerk", roles=frozenset({"staff", "supervisor"}))
    render = _env().from_string('{% import "_form.html" as f with context %}{{ f.render(form) }}')
    seen = 0
    for spec in PROCEDURES:
        forms = event_forms(spec, [e.name for e in spec.events], anyone)
        for event, form in forms:
            if form is None or not event.actor_field:
                continue
            html = render.render(form=form, _=str, csp_nonce="n")
            actor = re.escape(event.actor_field)
            assert re.search(rf'name="{actor}" value="C\. Clerk" readonly', html), (spec.key, event.name, html)
            assert not re.search(rf'<(textarea|select)[^>]*name="{actor}"', html), (spec.key, event.name)
            seen += 1
    assert seen >= 5


async def test_a_start_form_offers_only_the_ways_in_the_key_may_send_and_keeps_a_refused_one(
    env: WorkflowEnvironment, keys: Keys
) -> None:
    """The fraud start form offered staff the antifraud centre's way in (``centre_information``, the centre's key
    only): chosen, the start was refused with a page that lost the form (an adversarial run, 2026-12-04). The form
    now leaves out a variant named as an event the key may not send, and a start refused for its way in shows the
    form again, as filled, with the reason."""
    from api.temporal import Gateway
    from tests.api.conftest import TASK_QUEUE
    from workflows.fraud_check import SPEC as FRAUD

    app = create_app(
        procedures={FRAUD.key: FRAUD}, gateway=Gateway(client=env.client), task_queue=TASK_QUEUE, secret="f"
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        await sign_in(http, keys.staff)
        await http.get("/console/lang/en?next=/console/")
        page = await http.get("/console/start/fraud_check")
        assert page.status_code == 200
        assert 'value="subscriber_report"' in page.text and 'value="internal_detection"' in page.text
        assert "centre_information" not in page.text  # neither the option nor its fieldset
        received = (await env.get_current_time()).astimezone(ALMATY).strftime("%Y-%m-%dT%H:%M")
        values = {
            "csrf_token": csrf(page.text),
            "first.way_in": "centre_information",  # posted anyway, as a stale page or a hand-made request would
            "first.~centre_information.ref": "AFC-1",
            "first.~centre_information.suspect_number": "+77017654321",
            "first.~centre_information.received_at": received,
            "first.~centre_information.description": "the centre's own words",
        }
        refused = await http.post("/console/start/fraud_check", data=values, headers={"Accept": "text/html"})
    assert refused.status_code == 403 and "this key may not send centre_information" in refused.text
    assert 'name="first.way_in"' in refused.text and 'value="subscriber_report"' in refused.text  # the form again


async def test_a_start_the_intake_refuses_shows_the_form_again_with_the_reason(
    env: WorkflowEnvironment, api_worker: None, keys: Keys
) -> None:
    """A start the intake refuses (a receipt in the future, a law without the start's paragraphs, a spec's own check)
    answered the console with the API's problem document: the clerk lost what they typed (found by an adversarial
    review, 2026-12-02). The form comes back as filled, with the reason above it, and no case is started."""
    import dataclasses

    from api.temporal import Gateway
    from infra.cases import REFERENCE_TAKEN, CaseError
    from tests.api.conftest import TASK_QUEUE
    from tests.api.procedures import SPEC

    def refuse(inp: Any) -> None:
        raise ValueError("this applicant's application is handled by the regional office")

    def dated_late(inp: Any) -> None:
        day = inp.received_at.astimezone(ALMATY).date().isoformat()
        late = (  # the permit's (workflows.mvno_permit.spec), a msgid of the catalogues
            "{fields}: dated after the application's receipt on {day} (Asia/Almaty); the documents of an "
            "application exist when it is received"
        )
        raise ValueError(Sentence(late, fields="attachments[0]", day=day))

    async def taken(client: Any, inp: Any) -> Any:
        raise CaseError("conflict", REFERENCE_TAKEN)  # as a fraud report's ref another case took in (409)

    spec = dataclasses.replace(SPEC, intake_check=refuse)
    later = dataclasses.replace(SPEC, key="later_check", intake_check=dated_late)
    conflict = dataclasses.replace(SPEC, key="taken_check", start_at_the_edge=taken)
    procedures = {spec.key: spec, later.key: later, conflict.key: conflict}
    app = create_app(procedures=procedures, gateway=Gateway(client=env.client), task_queue=TASK_QUEUE, secret="r")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        await sign_in(http, keys.staff)
        await http.get("/console/lang/en?next=/console/")
        page = await http.get("/console/start/demo_check")
        received = (await env.get_current_time()).astimezone(ALMATY).strftime("%Y-%m-%dT%H:%M")
        values = {
            "csrf_token": csrf(page.text),
            "applicant.kind": "individual",
            "applicant.~individual.iin": IIN,
            "applicant.~individual.name": "Асан",
            "phone": "+77011234567",
            "received_at": received,
            "_count.attachments": "1",
            "attachments.0.kind": "charter",
            "attachments.0.pages": "2",
        }
        refused = await http.post("/console/start/demo_check", data=values, headers={"Accept": "text/html"})
        await http.get("/console/lang/ru?next=/console/")
        in_russian = await http.post("/console/start/demo_check", data=values, headers={"Accept": "text/html"})
        # a reason said from its template (``rules.text.Sentence``, as the law's and the edge's refusals are)
        await http.get("/console/lang/kk?next=/console/")
        late = await http.post("/console/start/later_check", data=values, headers={"Accept": "text/html"})
        await http.get("/console/lang/ru?next=/console/")
        again = await http.post("/console/start/taken_check", data=values, headers={"Accept": "text/html"})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html")
    assert "refused: this applicant&#39;s application is handled by the regional office" in refused.text
    assert f'value="{received}"' in refused.text and 'value="+77011234567"' in refused.text
    # the reason's frame in the page's language (a reason the catalogue does not have stays as the intake wrote it)
    assert "отказано: this applicant&#39;s application is handled by the regional office" in in_russian.text
    assert late.status_code == 422
    assert "бас тартылды: attachments[0]: өтініш түскен күннен (2026-" in late.text, late.text
    assert "dated after" not in late.text
    # a conflict with what is recorded (409) keeps the form too, where it answered an error page and lost it
    assert again.status_code == 409 and "эта ссылка уже принята для сообщения по другому делу" in again.text
    assert 'value="+77011234567"' in again.text


async def test_start_form_shows_messages_next_to_fields_then_starts_and_decides(
    http: httpx.AsyncClient,
    keys: Keys,
    env: WorkflowEnvironment,
) -> None:
    await sign_in(http, keys.staff)
    await http.get("/console/lang/en?next=/console/")
    page = await http.get("/console/start/demo_check")
    assert page.status_code == 200 and 'name="applicant.~individual.iin"' in page.text
    token = csrf(page.text)
    received = (await env.get_current_time() - timedelta(minutes=5)).astimezone(UTC)
    values = {
        "csrf_token": token,
        "applicant.kind": "individual",
        "applicant.~individual.iin": "900101300127",
        "applicant.~individual.name": "Асан",
        "phone": "+77011234567",
        "received_at": received.strftime("%Y-%m-%dT%H:%M"),
        "_count.attachments": "1",
        "attachments.0.kind": "charter",
        "attachments.0.pages": "0",
    }
    bad = await http.post("/console/start/demo_check", data=values)
    assert bad.status_code == 422
    assert re.search(r'data-loc="applicant\.individual\.iin">.*?class="field-error"', bad.text, re.S)
    assert re.search(r'data-loc="attachments\.0\.pages">.*?class="field-error"', bad.text, re.S)
    assert "900101300127" not in bad.text.replace('value="900101300127"', "")  # only re-filled, never in a message

    grown = await http.post("/console/start/demo_check", data={**values, "_action": "add:attachments"})
    assert 'name="attachments.1.kind"' in grown.text

    # received_at is read as Asia/Almaty wall time
    received_local = received.astimezone(__import__("rules.calendar", fromlist=["ALMATY"]).ALMATY)
    good = {
        **values,
        "applicant.~individual.iin": IIN,
        "attachments.0.pages": "2",
        "received_at": received_local.strftime("%Y-%m-%dT%H:%M"),
    }
    started = await http.post("/console/start/demo_check", data=good)
    assert started.status_code == 303, started.text
    case_url = started.headers["location"]
    page = await http.get(case_url)  # the case's own first steps are done before the redirect: no polling
    assert "Case started" in page.text  # the flash, shown once
    assert 'id="event-completeness_decision"' in page.text and 'id="processing"' not in page.text
    page = await http.get(case_url)
    assert "665/NK p.6" in page.text and "Case started" not in page.text
    # server-rendered for a Content-Security-Policy without inline script or style attributes
    assert "<script" not in page.text and not re.search(r"<[^>]+\sstyle=", page.text)
    assert '<link rel="stylesheet" href="/console/static/case.css">' in page.text
    assert (await http.get("/console/static/case.css")).headers["content-type"].startswith("text/css")
    assert 'id="event-fee_paid"' not in page.text  # the bank's event: not pending, not the staff's
    withdraw = re.search(r'<form[^>]*id="event-withdraw".*?</form>', page.text, re.S)
    assert withdraw and '<input type="checkbox"' not in withdraw.group(0)  # a button, no fields

    token = csrf(page.text)
    refused = await http.post(f"{case_url}/events/completeness_decision", data={"csrf_token": token})
    assert refused.status_code == 422 and "needs the reason" in refused.text
    done = await http.post(
        f"{case_url}/events/completeness_decision", data={"csrf_token": token, "reason": "the charter is missing"}
    )
    assert done.status_code == 303
    page = await http.get(done.headers["location"])  # Post/Redirect/Get: the new state, at once
    assert 'data-status="returned">returned</strong>' in page.text and "Decision recorded" in page.text
    # every code the case records (its status, each term's state, a document's kind, the timeline's kinds) in words
    data = r'<(code|a|script)\b.*?</\1>|<span translate="no">.*?</span>'  # ids, links, the signer's name: data
    shown = re.sub(rf"{data}|<[^>]+>", " ", page.text, flags=re.S)
    codes = [shown[m.start() - 80 : m.end() + 20] for m in re.finditer(r"(?<![\w/.-])[a-z]+_[a-z_]+(?![\w/.-])", shown)]
    assert not codes
    assert "Your application is returned" in page.text
    assert 'id="event-completeness_decision"' not in page.text
    # the same form sent again (a double submit): its form is no longer on the page, so the refusal is said above the
    # case (it was lost: a 409 page that said nothing), and the language links lead to the case page, not the POST
    again = await http.post(
        f"{case_url}/events/completeness_decision", data={"csrf_token": token, "reason": "the charter is missing"}
    )
    assert again.status_code == 409 and 'id="case-refusal"' in again.text
    refusal = re.search(r'<div class="errors" role="alert" id="case-refusal">(.*?)</div></div>', again.text, re.S)
    assert refusal and "Completeness decision: the case is closed: it accepts no more events" in refusal.group(1)
    await http.get("/console/lang/ru?next=/console/")  # the refusal in the page's language (rules.text.Sentence)
    again = await http.post(
        f"{case_url}/events/completeness_decision", data={"csrf_token": token, "reason": "the charter is missing"}
    )
    assert again.status_code == 409 and "дело закрыто: оно больше не принимает событий" in again.text
    await http.get("/console/lang/en?next=/console/")
    langs = re.findall(r'href="/console/lang/[^"]*"', again.text)
    assert langs and all("events" not in link and link.endswith(f'{case_url.split("/")[-1]}"') for link in langs)
    assert "Completeness notice" in page.text and ".p7s" in page.text
    outbox = await http.get("/console/outbox")
    assert "Your application is returned" in outbox.text
    # the recipient's phone number is personal data: the outbox shows its prefix and last two digits only
    assert "+77011234567" not in outbox.text and "+7701•••••67" in outbox.text
    doc = re.search(r'href="(/console/cases/[^"]+/documents/[^"]+)">Completeness notice', page.text)
    assert doc and (await http.get(doc.group(1))).status_code == 200


async def test_a_start_form_s_messages_are_in_the_page_s_language_and_never_repeat_the_value(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    await sign_in(http, keys.staff)
    await http.get("/console/lang/ru?next=/console/")
    page = await http.get("/console/start/demo_check")
    values = {
        "csrf_token": csrf(page.text),
        "applicant.kind": "individual",
        "applicant.~individual.iin": "900101300127",  # its check digit is wrong
        "phone": "+7 999 123 45 67",
        "received_at": "not a moment",
        "_count.attachments": "1",
        "attachments.0.kind": "charter",
        "attachments.0.pages": "0",
    }
    bad = await http.post("/console/start/demo_check", data=values)
    assert bad.status_code == 422

    def error_at(loc: str) -> str:
        within = r"(?:(?!data-loc=).)*?"  # inside this field's block, not the next one's
        m = re.search(rf'data-loc="{re.escape(loc)}">{within}class="field-error"[^>]*>([^<]*)<', bad.text, re.S)
        assert m, loc
        return m.group(1)

    assert (
        error_at("applicant.individual.iin") == "неверная контрольная цифра ИИН: 12-я цифра не соответствует первым 11"
    )
    assert error_at("applicant.individual.name") == "обязательное поле"
    assert error_at("attachments.0.pages") == "должно быть не меньше 1"
    assert error_at("phone") == "не казахстанский мобильный номер (+7 7XX XXX XX XX)"
    assert "не дата и время" in bad.text  # the field that could not even be read, above the form
    shown = re.sub(r'value="[^"]*"', "", bad.text)  # a re-filled input keeps what was typed; no message repeats it
    assert "900101300127" not in shown and "999 123 45 67" not in shown and "not a moment" not in shown


async def test_error_pages_have_the_navigation_and_language_links_and_speak_the_page_s_language(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    html = {"Accept": "text/html"}
    anonymous = await http.get("/console/no-such-page", headers=html)  # before signing in: no navigation to show
    assert anonymous.status_code == 404 and anonymous.headers["content-type"].startswith("text/html")
    assert 'hreflang="ru"' in anonymous.text and 'href="/console/login"' in anonymous.text
    assert re.search(r'id="error-title">Табылмады', anonymous.text)  # Kazakh by default

    await sign_in(http, keys.auditor)
    await http.get("/console/lang/ru?next=/console/")
    forbidden = await http.get("/console/start/demo_check", headers=html)  # an auditor starts no case
    assert forbidden.status_code == 403
    assert re.search(r'id="error-title">Доступ запрещён', forbidden.text)
    assert "Ваша роль не позволяет это сделать" in forbidden.text
    # the reason in the page's language (rules.text.Sentence); a reason the catalogue lacks would be marked English
    assert 'lang="ru">этот ключ не может начинать дела demo_check<' in forbidden.text
    for nav in ("Рабочая очередь", "Найти дело", 'id="nav-inbox"', "Выйти", 'hreflang="kk"', 'hreflang="en"'):
        assert nav in forbidden.text, nav
    assert "/console/lang/kk?next=/console/start/demo_check" in forbidden.text  # a language link comes back here

    missing = await http.get("/console/cases/demo_check-nosuchcase", headers=html)
    assert missing.status_code == 404 and 'lang="ru">такого дела нет<' in missing.text
    assert "Такой страницы, дела или документа нет." in missing.text
    # an IIN typed where a case id goes comes back in no link of the page (an adversarial run, 2026-12-04)
    typed = await http.get("/console/cases/900101300126", headers=html)
    assert typed.status_code == 404 and "900101300126" not in typed.text
    assert "/console/lang/kk?next=/console/cases/%E2%80%A6" in typed.text
    await http.get("/console/lang/en?next=/console/")
    english = await http.get("/console/no-such-page", headers=html)
    assert re.search(r'id="error-title">Not found', english.text) and "Find a case" in english.text
    assert (await http.get("/console/no-such-page")).headers["content-type"] == "application/problem+json"  # scripts


COOKIE = "kz_console"


def captured(http: httpx.AsyncClient) -> str:
    """The console cookie as someone copying it from the browser (a shared computer, a proxy's log) holds it."""
    value = http.cookies.get(COOKIE)
    assert value, "no console cookie"
    return value


async def with_cookie(app: FastAPI, cookie: str, method: str, path: str, **kw: Any) -> httpx.Response:
    """A request from another client that holds only the captured cookie."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://elsewhere") as other:
        other.cookies.set(COOKIE, cookie)
        return await other.request(method, path, **kw)


def backdate(field: str, delta: timedelta) -> None:
    """Move every console session's ``field`` back by ``delta`` (as if that much time had passed)."""
    with db_session() as s:
        for row in s.exec(select(ConsoleSession)):
            setattr(row, field, datetime.now(UTC) - delta)
            s.add(row)


def sessions_kept() -> int:
    with db_session() as s:
        return len(s.exec(select(ConsoleSession)).all())


async def test_sign_out_ends_the_session_on_the_server(http: httpx.AsyncClient, api_app: FastAPI, keys: Keys) -> None:
    plain = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "eyJ4IjogMX0="}]}  # {"x": 1}
    sealed = encode_payloads_json(plain)
    await sign_in(http, keys.staff)
    cookie = captured(http)
    assert (await with_cookie(api_app, cookie, "GET", "/console/outbox")).status_code == 200
    assert (await with_cookie(api_app, cookie, "POST", "/codec/decode", json=sealed)).status_code == 200
    page = await http.get("/console/outbox")
    kept = sessions_kept()
    assert (await http.post("/console/logout", data={"csrf_token": csrf(page.text)})).status_code == 303
    assert sessions_kept() == kept - 1  # the server forgot it
    # the copy taken before signing out still carries a valid signature, and opens nothing
    again = await with_cookie(api_app, cookie, "GET", "/console/outbox")
    assert again.status_code == 303 and again.headers["location"].startswith("/console/login")
    assert (await with_cookie(api_app, cookie, "POST", "/codec/decode", json=sealed)).status_code == 401


async def test_a_session_ends_after_30_idle_minutes_and_after_8_hours_whatever_its_use(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    await sign_in(http, keys.staff)
    backdate("last_seen_at", timedelta(minutes=29))
    assert (await http.get("/console/outbox")).status_code == 200  # used within the idle limit: it goes on
    backdate("last_seen_at", timedelta(minutes=31))
    r = await http.get("/console/outbox")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    await sign_in(http, keys.staff)
    backdate("created_at", timedelta(hours=7, minutes=59))
    assert (await http.get("/console/outbox")).status_code == 200
    backdate("created_at", timedelta(hours=8, minutes=1))  # used a moment ago, but signed in over 8 hours ago
    kept = sessions_kept()
    assert (await http.get("/console/outbox")).status_code == 303
    assert sessions_kept() == kept - 1  # an expired session's row is deleted when it is met


async def test_console_pages_carry_security_headers_and_the_cookie_is_secure(
    http: httpx.AsyncClient, api_app: FastAPI, keys: Keys, env: WorkflowEnvironment
) -> None:
    signed = await sign_in(http, keys.staff)
    set_cookie = signed.headers["set-cookie"].lower()
    assert f"{COOKIE}=" in set_cookie and "; secure" in set_cookie and "httponly" in set_cookie
    assert "samesite=lax" in set_cookie
    from tests.api.applications import application

    started = await http.post(
        "/v1/procedures/demo_check/cases",
        json=application(await env.get_current_time()),
        headers={"X-API-Key": keys.staff},
    )
    pages = ["/console/", "/console/outbox", "/console/start/demo_check", f"/console/cases/{started.json()['case_id']}"]
    for path in [*pages, "/console/cases/no-such-case"]:
        r = await http.get(path, headers={"Accept": "text/html"})
        assert r.status_code in (200, 404) and r.headers["content-type"].startswith("text/html"), (path, r.status_code)
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "script-src" not in csp, csp
        nonce = re.search(r"'nonce-([^']+)'", csp)
        assert nonce and f'<style nonce="{nonce.group(1)}">' in r.text, path  # the page's own styles may apply
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-frame-options"] == "DENY"
    assert r.status_code == 404
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api_app), base_url="https://t") as anonymous:
        login = await anonymous.get("/console/login")
        assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
        api = await anonymous.get("/v1/cases")
        assert api.headers["content-security-policy"].startswith("default-src 'none'")
        assert api.headers["x-content-type-options"] == "nosniff"
    plain = create_app(procedures={}, secret="plain-http", secure_cookie=False)  # scripts/up.py on localhost
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=plain), base_url="http://localhost") as local:
        r = await sign_in(local, keys.staff)
        assert r.status_code == 303 and "secure" not in r.headers["set-cookie"].lower()


async def test_language_switch_and_auditor_sees_no_forms(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    await sign_in(http, keys.auditor)
    await http.get("/console/lang/kk?next=/console/outbox")
    kk = await http.get("/console/outbox")
    assert "Жіберілген SMS" in kk.text and 'lang="kk"' in kk.text
    await http.get("/console/lang/ru?next=//evil.example")
    ru = await http.get("/console/outbox")
    assert "Исходящие SMS" in ru.text
    assert (await http.get("/console/start/demo_check")).status_code == 403
    start = await http.get("/console/lang/en?next=https://evil.example")
    assert start.headers["location"] == "/console/"


async def test_console_case_list_marks_overdue_first(dev_http: httpx.AsyncClient, keys: Keys) -> None:
    from tests.api.applications import application

    late = await dev_http.post(
        "/v1/procedures/demo_check/cases",
        json=application(datetime.now(UTC) - timedelta(days=40)),
        headers={"X-API-Key": keys.staff},
    )
    assert late.status_code == 201
    await sign_in(dev_http, keys.staff)
    await dev_http.get("/console/lang/en?next=/console/")
    page = await eventually(
        lambda: dev_http.get("/console/search?overdue=1"), lambda r: late.json()["case_id"] in r.text
    )
    row = re.search(r'<tr class="overdue"[^>]*>.*?</tr>', page.text, re.S)
    assert row and late.json()["case_id"] in row.group(0) and 'class="badge"' in row.group(0)
    # its term ran out weeks before the case began: the outcome says it once, and when the breach was recorded
    # (it read "breached · breached <the start>", an adversarial run of 2026-12-04)
    case_page = await dev_http.get(f"/console/cases/{late.json()['case_id']}")
    [outcome] = re.findall(r'<td class="status-breached">(.*?)</td>', case_page.text, re.S)
    assert re.fullmatch(r"breached · breach recorded \d{4}-\d\d-\d\d \d\d:\d\d \+05:00", outcome), outcome


async def test_the_case_page_says_a_receipt_was_back_dated_with_no_plural_to_agree(
    dev_http: httpx.AsyncClient, dev_env: WorkflowEnvironment, keys: Keys
) -> None:
    """A receipt three working days before the start is taken as given, and the case page says so: "working days from
    the receipt to the start: 3" (in Russian it read "3 рабочих дней", the number's plural not agreed: an adversarial
    run, 2026-12-03)."""
    received = received_working_days_ago(3, current_calendar())
    app = json.loads(DEMO.read_text(encoding="utf-8"))
    app.update(application_number=f"KZ-BACK-{uuid.uuid4().hex[:8]}", received_at=received.isoformat())
    started = await dev_http.post("/v1/procedures/mvno_permit/cases", json=app, headers={"X-API-Key": keys.staff})
    assert started.status_code == 201, started.text
    case_id = started.json()["case_id"]
    await sign_in(dev_http, keys.staff)
    for lang, said in (
        ("en", "working days from the receipt to the start: 3"),
        ("ru", "рабочих дней от получения до начала дела: 3"),
    ):
        await dev_http.get(f"/console/lang/{lang}?next=/console/")
        page = await dev_http.get(f"/console/cases/{case_id}")
        intake = re.search(r'<p id="intake"[^>]*>(.*?)</p>', page.text, re.S)
        assert intake and said in intake.group(1), page.text[:2000]
    await stop(dev_env.client.get_workflow_handle(case_id))


async def test_a_complaints_start_reads_the_appealed_case_without_its_worker(dev_env: WorkflowEnvironment) -> None:
    """The complaint's start takes its act from the case it appeals as visibility knows it (its procedure, and its
    registration's act once registered): a case whose worker does not answer, or that is not registered yet, still
    gives its act, where a query would have waited on that worker."""
    from infra.cases import RegisteredCase, registered_case, start_case
    from models.complaint import ComplaintInput
    from models.egov_number_connection import Channel, EgovConnectionInput
    from workflows.complaint import SPEC as COMPLAINT
    from workflows.egov_number_connection import SPEC as EGOV

    now = datetime.now(UTC)
    phone = f"+7701{uuid.uuid4().int % 10**7:07d}"
    egov = EgovConnectionInput(iin=IIN, phone=phone, channel=Channel.PORTAL, received_at=now)
    unattended = await start_case(dev_env.client, EGOV, egov, task_queue=f"nobody-polls-{uuid.uuid4().hex[:8]}")
    try:
        assert await registered_case(dev_env.client, unattended.case_id) == RegisteredCase(procedure=EGOV.key)
        raw = json.loads((ROOT / "demo" / "complaint" / "complaint.json").read_text(encoding="utf-8"))
        raw.pop("appealed_application_number")
        raw.update(appealed_case_id=unattended.case_id, received_at=now.isoformat())
        assert COMPLAINT.start_at_the_edge is not None
        named = ComplaintInput.model_validate(raw)
        inp = await asyncio.wait_for(COMPLAINT.start_at_the_edge(dev_env.client, named), 10)
        assert isinstance(inp, ComplaintInput) and inp.act_key == "58"  # the procedure's act, from the catalogue
    finally:
        await dev_env.client.get_workflow_handle(unattended.case_id).terminate("test over")


async def test_a_call_an_outside_system_keeps_failing_shows_on_the_case_page_and_in_the_api(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    from infra import outages
    from tests.api.applications import application

    staff = {"X-API-Key": keys.staff}
    started = await http.post(
        "/v1/procedures/demo_check/cases", json=application(await env.get_current_time()), headers=staff
    )
    assert started.status_code == 201, started.text
    cid = started.json()["case_id"]
    await eventually(
        lambda: http.get(f"/v1/cases/{cid}", headers=staff),
        lambda r: "completeness_decision" in r.json()["pending_events"],
    )
    outages.begin("sms_gateway", await env.get_current_time(), timedelta(hours=1), "gateway maintenance")
    try:
        decided = await http.post(
            f"/v1/procedures/demo_check/cases/{cid}/events/completeness_decision",
            json={"complete": True},
            headers=staff,
        )
        assert decided.status_code == 200, decided.text
        calls = await eventually(
            lambda: http.get(f"/v1/cases/{cid}/outside-calls", headers=staff),
            lambda r: r.status_code == 200 and any(c["attempt"] > 1 for c in r.json()),
        )
        [call] = calls.json()
        assert call["activity"] == "send_sms" and "sms gateway unavailable" in (call["last_error"] or "")
        await sign_in(http, keys.staff)
        await http.get("/console/lang/en?next=/console/")
        page = await http.get(f"/console/cases/{cid}")
        table = re.search(r'<table id="outside-calls">.*?</table>', page.text, re.S)
        assert table and "send_sms" in table.group(0) and "sms gateway unavailable" in table.group(0)
        assert "Waiting on outside systems" in page.text
        # still processing: said so, and the page (with no form on it) follows the case by itself
        processing = re.search(r'<div id="processing".*?</div>', page.text, re.S)
        assert processing and "send_sms" in processing.group(0) and "attempt" in processing.group(0)
        assert (
            re.search(r'<meta http-equiv="refresh" content="\d+">', page.text)
            and '<form method="post" action="/console/cases' not in page.text
        )
    finally:
        outages.end("sms_gateway")
    await eventually(lambda: http.get(f"/v1/cases/{cid}/outside-calls", headers=staff), lambda r: r.json() == [])
    page = await eventually(lambda: http.get(f"/console/cases/{cid}"), lambda r: 'id="processing"' not in r.text)
    assert "http-equiv" not in page.text and 'data-status="awaiting_fee">awaiting fee<' in page.text


# --- in the browser ---------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DEMO = ROOT / "demo" / "mvno_permit" / "application_legal_entity.json"


async def reload_until(page: Page, selector: str, text: str, seconds: float = 30) -> None:
    """Reload a server-rendered page until ``selector`` shows ``text`` (the case moves on in the worker)."""
    for _ in range(int(seconds / 0.25)):
        if text in await page.locator(selector).inner_text():
            return
        await asyncio.sleep(0.25)
        await page.reload()
    await expect(page.locator(selector)).to_contain_text(text)


def form_values(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The demo application as the console's form names (api/forms.py): dotted paths, ``~<kind>`` for the
    applicant's variant, list items by index; a list of phones is one textarea, one number per line."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            inner = f"{name}.~{value['kind']}." if key == "applicant" else f"{name}."
            if key == "applicant":
                out[f"{name}.kind"] = value["kind"]
            out.update(form_values({k: v for k, v in value.items() if k != "kind" or key != "applicant"}, inner))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, item in enumerate(value):
                out.update(form_values(item, f"{name}.{i}."))
        elif isinstance(value, list):
            out[name] = "\n".join(value)
        else:
            out[name] = value
    return out


async def fill(page: Page, values: dict[str, Any]) -> None:
    for name, value in values.items():
        field = page.locator(f'[name="{name}"]')
        await expect(field).to_have_count(1)
        if isinstance(value, bool):
            await field.set_checked(value)
        elif await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(str(value))
        else:
            await field.fill(str(value))


@pytest.mark.browser
async def test_permit_case_through_the_console(browser: FreshBrowser, console_url: str, keys: Keys) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    demo = json.loads(DEMO.read_text())
    received = (datetime.now(UTC) - timedelta(minutes=3)).astimezone(ALMATY)
    demo["application_number"] = opaque("KZ-MVNO-", 10).upper()  # a case of its own per run
    demo["received_at"] = received.strftime("%Y-%m-%dT%H:%M")  # the form's datetime-local, Asia/Almaty
    values = form_values(demo)
    contracts = demo["qualification"]["contracts"]
    assert len(contracts) == 2
    good_bin = demo["applicant"]["bin"]
    phone = kz_mobile(demo["applicant"]["phones"][0])
    PermitApplication.model_validate({**demo, "received_at": received.isoformat()})  # the demo itself is valid

    try:
        page = await browser.new_page(locale="kk-KZ")
        await page.goto(f"{console_url}/console/")
        await expect(page.locator("h1")).to_have_text("Кіру")  # Kazakh by default here
        await page.get_by_role("link", name="English").click()
        await expect(page.locator("h1")).to_have_text("Sign in")
        await page.fill("#api_key", keys.staff)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("h1")).to_have_text("Work queue")  # the landing page: start links there too

        await page.get_by_role("link", name="Permit for a mobile virtual network operator").click()
        # the permit's labels come from the catalogues: Russian here, then back to English
        await page.get_by_role("link", name="Русский").click()
        await expect(page.locator('[data-group="applicant.~legal_entity"]')).to_be_hidden()  # individual first
        await page.select_option('[name="applicant.kind"]', "legal_entity")
        await expect(page.locator('[data-group="applicant.~individual"]')).to_be_hidden()
        await expect(page.locator('[name="applicant.~legal_entity.form"]')).to_have_value("resident")  # default
        await expect(page.locator('label[for="f-applicant.~legal_entity.bin"]')).to_have_text("БИН *")
        await expect(page.locator('[data-group="qualification.contracts"] > legend')).to_have_text("Договоры")
        await expect(page.locator('[name="applicant.kind"] option[value="legal_entity"]')).to_have_text(
            "юридическое лицо"
        )
        await page.screenshot(path=str(ARTIFACTS / "console-permit-form-ru.png"), full_page=True)
        await page.get_by_role("link", name="English").click()
        await expect(page.locator('label[for="f-applicant.~legal_entity.bin"]')).to_have_text("BIN *")

        first = {k: v for k, v in values.items() if not k.startswith("qualification.contracts.1.")}
        wrong_bin = good_bin[:-1] + str((int(good_bin[-1]) + 1) % 10)  # the check digit is off by one
        await fill(page, {**first, "applicant.~legal_entity.bin": wrong_bin})
        await page.get_by_role("button", name="Add another").click()  # the second contract's fieldset
        await expect(page.locator('[data-group="qualification.contracts.1"] > legend')).to_have_text("Contracts 2")
        await expect(page.locator('[name="qualification.contracts.0.contract_number"]')).to_have_value(
            contracts[0]["contract_number"]
        )  # what was typed survives the re-post
        await fill(page, {k: v for k, v in values.items() if k.startswith("qualification.contracts.1.")})
        await page.click("#submit-start")
        error = page.locator('[data-loc="applicant.legal_entity.bin"] .field-error')
        await expect(error).to_be_visible()
        await expect(error).to_contain_text("BIN check digit is wrong")
        await expect(page.locator(".field-error")).to_have_count(1)  # only the BIN is wrong
        await page.screenshot(path=str(ARTIFACTS / "console-permit-start-errors.png"), full_page=True)

        await page.fill('[name="applicant.~legal_entity.bin"]', good_bin)
        await page.click("#submit-start")
        await expect(page.locator(".flash")).to_have_text("Case started")
        await reload_until(page, "#case-status", "completeness check")
        case_id = (await page.locator("#case-id").inner_text()).strip()
        # the permit's own part of the page too says its codes in words (its pre-checks read "completeness_check")
        shown = await page.evaluate("""() => [...document.querySelectorAll('body *:not(code):not(script):not(style)')]
            .filter(e => !e.closest('[translate=no],code') && e.checkVisibility())
            .flatMap(e => [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent))""")
        assert not [t for t in shown if re.search(r"(?<![\w/.-])[a-z]+_[a-z_]+(?![\w/.-])", t)], shown
        row = page.locator("#deadlines tbody tr", has_text="completeness check")
        await expect(row).to_contain_text("665/NK p.6")
        await expect(row).to_contain_text("open")
        cells = await row.locator("td").all_inner_texts()
        cal = current_calendar()  # the calendar the console counts with, outside any workflow
        due_day = cal.add_working_days(cal.registration_day(received), 2)
        assert cells[2] == f"{due_day.isoformat()} 18:30 +05:00"
        assert int(cells[3]) == cal.working_days_between(datetime.now(UTC).astimezone(ALMATY).date(), due_day)
        await page.screenshot(path=str(ARTIFACTS / "console-permit-registered.png"), full_page=True)

        decision = page.locator("#event-completeness_decision")
        await decision.locator('[name="complete"]').check()
        await expect(decision.locator('[name="decided_by"]')).to_have_value("back office (test)")  # who signed in
        await page.click("#submit-completeness_decision")
        await expect(page.locator(".flash")).to_have_text("Decision recorded")
        await reload_until(page, "#case-status", "qualification check")
        row = page.locator("#deadlines tbody tr", has_text="completeness check")
        await expect(row.locator("td").nth(4)).to_contain_text("met")
        await expect(page.locator("#event-completeness_decision")).to_have_count(0)
        await expect(page.locator("#event-qualification_decision")).to_have_count(1)
        # the applicant's SMS, in Kazakh and then Russian (worded by the SMS activity)
        await expect(page.locator("#case-sms")).to_contain_text(f"{demo['application_number']} өтініші")
        await expect(page.locator("#case-sms")).to_contain_text(f"Заявление {demo['application_number']}")
        await page.screenshot(path=str(ARTIFACTS / "console-permit-case.png"), full_page=True)

        await page.get_by_role("link", name="SMS outbox").click()
        sms = page.locator("#outbox tbody tr", has_text=case_id)
        await expect(sms).to_have_count(1)
        await expect(sms).to_contain_text(
            f"Заявление {demo['application_number']} на разрешение оператору мобильной виртуальной сети "
            f"зарегистрировано {cal.registration_day(received).isoformat()}"
        )
        await expect(sms).to_contain_text(masked_number(phone))  # never the whole number
        await expect(sms).not_to_contain_text(phone)
        await page.screenshot(path=str(ARTIFACTS / "console-permit-outbox.png"), full_page=True)
    finally:
        await browser.close()
    assert (ARTIFACTS / "console-permit-case.png").stat().st_size > 10_000


async def test_a_closed_case_says_which_of_its_complaints_ended_since(
    dev_http: httpx.AsyncClient, dev_env: WorkflowEnvironment, keys: Keys
) -> None:
    """A closed case takes no notice of a complaint's conclusion: its page read "pending" for good (an adversarial
    run, 2026-12-05). It now says the complaint ended after the case closed, and how."""
    from models.complaint import Withdrawal
    from tests.api.applications import application
    from tests.api.procedures import SPEC as DEMO_SPEC

    app = application(datetime.now(UTC) - timedelta(minutes=1))
    started = await dev_http.post(f"/v1/procedures/{DEMO_SPEC.key}/cases", json=app, headers={"X-API-Key": keys.staff})
    assert started.status_code == 201, started.text
    case_id = started.json()["case_id"]
    complaint = complaint_about(case_id, appealed="inaction", description="Nothing happens", request="Decide")
    filed = await dev_http.post("/v1/procedures/complaint/cases", json=complaint, headers={"X-API-Key": keys.staff})
    assert filed.status_code == 201, filed.text
    complaint_id = filed.json()["case_id"]
    handle = dev_env.client.get_workflow_handle(case_id)
    await eventually(
        lambda: dev_http.get(f"/v1/cases/{case_id}", headers={"X-API-Key": keys.staff}),
        lambda r: [c["complaint_id"] for c in r.json()["complaints"]] == [complaint_id],
    )
    await handle.execute_update("withdraw")
    await handle.result()
    await dev_env.client.get_workflow_handle(complaint_id).execute_update("withdraw", Withdrawal(reason="done"))
    await dev_env.client.get_workflow_handle(complaint_id).result()
    await sign_in(dev_http, keys.staff)
    await dev_http.get("/console/lang/en?next=/console/")
    page = await dev_http.get(f"/console/cases/{case_id}")
    listed = re.search(r'<ul id="case-complaints">(.*?)</ul>', page.text, re.S)
    assert listed is not None and "concluded after this case closed" in listed.group(1), page.text[:3000]
    assert "pending" not in listed.group(1)
    # the complaint names no run: its page links the run it read, never whichever case holds the id later (it
    # linked the id's latest case: the next adversarial run, 2026-12-05)
    complaint_page = await dev_http.get(f"/console/cases/{complaint_id}")
    read = (await handle.describe()).run_id
    assert f'id="appealed-case" href="/console/cases/{case_id}?run={read}"' in complaint_page.text


async def test_an_earlier_case_under_a_reused_id_opens_by_its_run(
    dev_http: httpx.AsyncClient, dev_env: WorkflowEnvironment, keys: Keys
) -> None:
    """An id can name several cases (a fraud case closed and opened again under its number's id; here the demo
    procedure's id is reused as Temporal allows). The console's search lists each and opens each by its run, and the
    API reads the earlier one with ``?run_id=``: both rows opened the running case, and the API showed only the
    newest (an adversarial run, 2026-12-04)."""
    from temporalio.common import WorkflowIDReusePolicy

    from tests.api.applications import application
    from tests.api.procedures import SPEC as DEMO_SPEC
    from tests.api.procedures import DemoApplication, DemoCheck

    now = datetime.now(UTC)
    app = application(now - timedelta(minutes=1))
    started = await dev_http.post(f"/v1/procedures/{DEMO_SPEC.key}/cases", json=app, headers={"X-API-Key": keys.staff})
    assert started.status_code == 201, started.text
    case_id = started.json()["case_id"]
    handle = dev_env.client.get_workflow_handle(case_id)
    first_run = (await handle.describe()).run_id
    # a clerk has the first case's page open; its forms name the case they were shown for
    await sign_in(dev_http, keys.staff)
    await dev_http.get("/console/lang/en?next=/console/")
    stale_page = await eventually(
        lambda: dev_http.get(f"/console/cases/{case_id}"), lambda r: 'id="event-withdraw"' in r.text
    )
    stale_form = re.search(r'<form[^>]*id="event-withdraw".*?</form>', stale_page.text, re.S)
    assert stale_form is not None
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', stale_form.group(0)))
    assert fields["case_chain"] == first_run
    record_sms(
        SmsRequest(message_id=f"{case_id}/first", case_id=case_id, to=PHONE, sender="1414", text="to the first"),
        datetime.now(UTC),
    )
    await handle.execute_update("withdraw")
    await handle.result()
    again = await dev_env.client.start_workflow(
        DemoCheck.run,
        DemoApplication.model_validate(app),
        id=case_id,
        task_queue=TASK_QUEUE,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    # the first case's form, sent now, does not withdraw the newer case (it did: the next adversarial run)
    refused = await dev_http.post(f"/console/cases/{case_id}/events/withdraw", data=fields)
    assert refused.status_code == 409 and "A newer case holds this id now" in refused.text, refused.text[:3000]
    auditor = {"X-API-Key": keys.auditor}
    latest = await eventually(
        lambda: dev_http.get(f"/v1/cases/{case_id}", headers=auditor),
        lambda r: r.status_code == 200 and r.json()["status"] == "completeness_check",
    )
    assert latest.json()["run_id"] == again.result_run_id != first_run
    earlier = await dev_http.get(f"/v1/cases/{case_id}", params={"run_id": first_run}, headers=auditor)
    assert earlier.status_code == 200, earlier.text
    assert (
        earlier.json()["status"] == "withdrawn" and earlier.json()["closed"] and earlier.json()["run_id"] == first_run
    )
    assert (
        await dev_http.get(f"/v1/cases/{case_id}", params={"run_id": str(uuid.uuid4())}, headers=auditor)
    ).status_code == 404
    assert (await dev_http.get(f"/v1/cases/{case_id}", params={"run_id": "x/../y"}, headers=auditor)).status_code == 422
    lines = await dev_http.get(f"/v1/cases/{case_id}/timeline", params={"run_id": first_run}, headers=auditor)
    assert any(e["kind"] == "event" and e["name"] == "withdraw" for e in lines.json())  # the earlier case's history

    await sign_in(dev_http, keys.staff)
    listed = await eventually(
        lambda: dev_http.get("/console/search", params={"q": case_id, "state": "all"}),
        lambda r: r.text.count(f'data-case="{case_id}"') == 2,
    )
    assert f'href="/console/cases/{case_id}?run={first_run}"' in listed.text  # the closed case, by its run
    assert f'href="/console/cases/{case_id}"' in listed.text  # the running one
    page = await dev_http.get(f"/console/cases/{case_id}", params={"run": first_run})
    assert page.status_code == 200 and 'data-status="withdrawn"' in page.text
    assert f'<code id="case-run">{first_run}</code>' in page.text and 'id="event-' not in page.text
    running = await dev_http.get(f"/console/cases/{case_id}")
    assert 'data-status="completeness_check"' in running.text and 'id="case-run"' not in running.text
    # what is kept by the id is each case's within its span: the SMS, and the assignment (the latest case's)
    record_sms(
        SmsRequest(message_id=f"{case_id}/next", case_id=case_id, to=PHONE, sender="1414", text="to the next"),
        datetime.now(UTC),
    )
    assign_form = re.search(r'<form[^>]*id="assign-form".*?</form>', running.text, re.S)
    assert assign_form is not None, running.text
    taking = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', assign_form.group(0)))
    [me] = re.findall(r'<option value="([^"]+)" selected>', assign_form.group(0))
    taken = await dev_http.post(f"/console/cases/{case_id}/assign", data={**taking, "assignee": me})
    assert taken.status_code in (200, 303), re.findall(r"<main.*</main>", taken.text, re.S)
    running = await dev_http.get(f"/console/cases/{case_id}")
    assert "to the next" in running.text and "to the first" not in running.text
    assert 'id="assignee"' in running.text
    page = await dev_http.get(f"/console/cases/{case_id}", params={"run": first_run})
    assert "to the first" in page.text and "to the next" not in page.text
    assert 'id="assignee"' not in page.text and "Assignments follow the latest case of this id" in page.text
    for bad in ("x/../y", f"{first_run}\n"):  # a line break after a run id was taken for one (422 from Temporal)
        assert (await dev_http.get(f"/console/cases/{case_id}", params={"run": bad})).status_code == 404
    # a complaint about the earlier case links it by its run (it opened the running case: the next adversarial run)
    complaint = complaint_about(
        case_id,
        appealed="action",
        appealed_run_id=first_run,
        description="The application was withdrawn for me",
        request="Reconsider",
    )
    filed = await dev_http.post("/v1/procedures/complaint/cases", json=complaint, headers={"X-API-Key": keys.staff})
    assert filed.status_code == 201, filed.text
    complaint_page = await eventually(
        lambda: dev_http.get(f"/console/cases/{filed.json()['case_id']}"), lambda r: 'id="appealed-case"' in r.text
    )
    assert f'id="appealed-case" href="/console/cases/{case_id}?run={first_run}"' in complaint_page.text
    await stop(dev_env.client.get_workflow_handle(filed.json()["case_id"]))
    await stop(dev_env.client.get_workflow_handle(case_id))
