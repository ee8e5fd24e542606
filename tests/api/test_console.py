"""The console over HTTP (no browser): sign-in, CSRF, start form with messages next to fields, decisions
only when pending, outbox, language switch."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.testing import WorkflowEnvironment

from tests.api.applications import IIN, eventually
from tests.api.conftest import Keys


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


async def sign_in(http: httpx.AsyncClient, key: str) -> httpx.Response:
    page = await http.get("/console/login")
    return await http.post(
        "/console/login", data={"csrf_token": csrf(page.text), "api_key": key, "next": "/console/outbox"}
    )


async def test_sign_in_needs_the_csrf_token_and_a_console_role(http: httpx.AsyncClient, keys: Keys) -> None:
    r = await http.get("/console/outbox")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    no_token = await http.post("/console/login", data={"api_key": keys.staff})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    bank = await sign_in(http, keys.bank)
    assert bank.status_code == 401
    ok = await sign_in(http, keys.staff)
    assert ok.status_code == 303 and ok.headers["location"] == "/console/outbox"
    assert (await http.get("/console/outbox")).status_code == 200
    page = await http.get("/console/outbox")
    out = await http.post("/console/logout", data={"csrf_token": csrf(page.text)})
    assert out.status_code == 303
    assert (await http.get("/console/outbox")).status_code == 303


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
    assert "Case started" in (await http.get(case_url)).text  # the flash, shown once
    page = await eventually(lambda: http.get(case_url), lambda r: 'id="event-completeness_decision"' in r.text)
    assert "665/NK p.6" in page.text and "Case started" not in page.text
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
    page = await eventually(lambda: http.get(case_url), lambda r: 'id="case-status">returned<' in r.text)
    assert "Your application is returned" in page.text
    assert 'id="event-completeness_decision"' not in page.text
    assert "Completeness notice" in page.text and ".p7s" in page.text
    outbox = await http.get("/console/outbox")
    assert "Your application is returned" in outbox.text
    doc = re.search(r'href="(/console/cases/[^"]+/documents/[^"]+)">Completeness notice', page.text)
    assert doc and (await http.get(doc.group(1))).status_code == 200


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
    page = await eventually(lambda: dev_http.get("/console/?overdue=1"), lambda r: late.json()["case_id"] in r.text)
    row = re.search(r'<tr class="overdue">.*?</tr>', page.text, re.S)
    assert row and late.json()["case_id"] in row.group(0) and 'class="badge"' in row.group(0)


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
    finally:
        outages.end("sms_gateway")
    await eventually(lambda: http.get(f"/v1/cases/{cid}/outside-calls", headers=staff), lambda r: r.json() == [])
