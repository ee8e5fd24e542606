"""The API documents itself with no internet (issue 17 item 10): ``/v1/docs`` is Swagger UI served by the app from
the ``fastapi-offline`` package, every request body of the OpenAPI document carries an example its model takes, and
a ``409`` for an event the law does not allow yet says from when it is possible, where the case knows it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import expect
from pydantic import BaseModel
from temporalio.testing import WorkflowEnvironment

from activities.deadlines import earliest_act_day
from api.app import create_app
from api.docs import ASSETS
from api.examples import example
from api.i18n import say
from api.temporal import Gateway
from infra.calendar import current_calendar
from infra.cases import CaseError, send_event
from models.mvno_permit import FinalDecision, PermitCaseView
from rules.calendar import ALMATY
from tests.api.applications import eventually
from tests.api.browser import FreshBrowser
from tests.api.conftest import Keys
from tests.api.test_console_case import application
from tests.cases import stop
from worker import make_worker
from workflows.catalogue import PROCEDURES
from workflows.mvno_permit import SPEC as PERMIT
from workflows.mvno_permit import MvnoPermit

QUEUE = "openapi-docs"


@pytest.fixture(scope="module")
def real_app() -> FastAPI:
    return create_app(secret="docs")


def _body_models() -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = []
    for spec in PROCEDURES:
        models.append(spec.input_model)
        models += [m for e in spec.events if (m := e.edge_model or e.model) is not None]
    return list(dict.fromkeys(models))


def test_every_request_body_in_the_openapi_document_has_an_example(real_app: FastAPI) -> None:
    schema = real_app.openapi()
    bodies = 0
    missing = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if "requestBody" not in op:
                continue
            bodies += 1
            media = op["requestBody"]["content"]["application/json"]
            values = [e.get("value") for e in media.get("examples", {}).values()]
            if not values or not all(values):
                missing.append(f"{method.upper()} {path}")
    assert bodies >= 40  # every procedure's start and every event with a body
    assert not missing, f"request bodies without an example: {missing}"


def test_the_fraud_start_shows_the_report_alone_and_keeps_the_case_s_own_fields_out(real_app: FastAPI) -> None:
    """What a run continuing as new hands its successor (``cycle``, ``carried``, ``state``: the whole case) is refused
    from outside, so no edge offers it: the API documents a start as the report, the console's start form asks for the
    report (it asked for 130 fields, the case's registration, notices and documents among them), while the workflow's
    input still takes a continuation."""
    from api.forms import build_form
    from models.fraud_check import FraudCaseInput

    schema = real_app.openapi()
    body = schema["paths"]["/v1/procedures/fraud_check/cases"]["post"]["requestBody"]["content"]["application/json"]
    ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {"first"}
    assert {f.name.split(".")[0] for f in build_form(FraudCaseInput).fields()} == {"first"}
    first = example(FraudCaseInput)
    assert first is not None and set(first) == {"first"}
    continued = FraudCaseInput.model_validate({**first, "cycle": 2, "carried": [first["first"]]})
    assert continued.cycle == 2 and len(continued.carried) == 1


@pytest.mark.parametrize("model", _body_models(), ids=lambda m: m.__name__)
def test_every_example_is_a_body_its_model_takes(model: type[BaseModel]) -> None:
    body = example(model)
    assert body is not None, f"no example for {model.__name__} (api/examples.py)"
    model.model_validate(body)  # an example a case would refuse on its form is no example


async def test_the_docs_page_loads_nothing_from_another_host(real_app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=real_app), base_url="http://testserver") as c:
        page = await c.get("/v1/docs")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "http" not in csp and "script-src 'self' 'nonce-" in csp
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert urls and all(u.startswith("/v1/docs/static/") for u in urls), urls
        nonce = re.search(r"'nonce-([^']+)'", csp)
        inline = re.findall(r"<script(?![^>]*src)[^>]*>", page.text)
        assert nonce and inline and all(f'nonce="{nonce.group(1)}"' in s for s in inline)
        for url in urls:
            asset = await c.get(url)
            assert asset.status_code == 200 and asset.content == (ASSETS / url.rsplit("/", 1)[1]).read_bytes()
        assert (await c.get("/v1/openapi.json")).status_code == 200


@pytest.mark.browser
async def test_swagger_ui_renders_with_every_other_host_unreachable(browser: FreshBrowser, console_url: str) -> None:
    outside: list[str] = []
    problems: list[str] = []
    try:
        page = await browser.new_page()

        async def only_here(route: Any) -> None:
            if route.request.url.startswith(console_url):
                await route.continue_()
            else:  # as with no internet
                outside.append(route.request.url)
                await route.abort()

        await page.route("**/*", only_here)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        await page.goto(f"{console_url}/v1/docs")
        start = page.locator(".opblock", has_text="/v1/procedures/mvno_permit/cases").first
        await expect(start).to_be_visible(timeout=20_000)
        await start.locator(".opblock-summary").click()
        await expect(start.locator(".body-param__example, .microlight, pre").first).to_contain_text(
            "KZ-MVNO-2027-000101"  # the demo application, the example of the start's body
        )
    finally:
        await browser.close()
    assert not outside, outside
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems


# --- a 409 says from when ------------------------------------------------------------------------------------


@pytest.fixture
async def permit_http(env: WorkflowEnvironment) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        procedures={PERMIT.key: PERMIT}, gateway=Gateway(client=env.client), task_queue=QUEUE, secret="docs-409"
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        make_worker(env.client, task_queue=QUEUE, workflows=[MvnoPermit]),
        httpx.AsyncClient(transport=transport, base_url="https://testserver") as c,
    ):
        yield c


async def test_a_409_for_a_decision_not_possible_yet_says_from_when(
    permit_http: httpx.AsyncClient, env: WorkflowEnvironment, keys: Keys
) -> None:
    http, h = permit_http, {"X-API-Key": keys.staff}
    cal = current_calendar()
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    received = datetime.combine(cal.add_working_days(today, -1), time(10, 0), tzinfo=ALMATY)
    body = application(received)
    body["received_at"] = received.isoformat()
    r = await http.post(f"/v1/procedures/{PERMIT.key}/cases", json=body, headers=h)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    url = f"/v1/procedures/{PERMIT.key}/cases/{case_id}/events"

    async def view() -> dict[str, Any]:
        return dict((await http.get(f"/v1/cases/{case_id}", headers=h)).json())

    try:
        await eventually(view, lambda v: v["pending_events"] == ["completeness_decision"])
        r = await http.post(f"{url}/completeness_decision", json={"complete": True, "decided_by": "A"}, headers=h)
        assert r.status_code == 200, r.text
        await eventually(view, lambda v: v["pending_events"] == ["qualification_decision"])
        hearing_at = datetime.combine(cal.add_working_days(today, 1), time(11, 0), tzinfo=ALMATY)
        decision = {
            "compliant": False,
            "grounds": ["non_compliant"],
            "findings": "the traffic accounting system is not registered",
            "hearing": {"at": hearing_at.isoformat(), "place": "Astana, room 401"},
            "decided_by": "B",
        }
        r = await http.post(f"{url}/qualification_decision", json=decision, headers=h)
        assert r.status_code == 200, r.text
        await eventually(view, lambda v: v["status"] == "hearing_scheduled" and v["pending_events"])
        own = await env.client.get_workflow_handle(case_id).query("permit_case", result_type=PermitCaseView)
        assert own.notice_sent_at is not None
        decision_day: date = earliest_act_day(cal, own.notice_sent_at.astimezone(ALMATY).date(), 3)

        async def too_early() -> None:
            r = await http.post(f"{url}/final_decision", json={"grant": True, "decided_by": "C"}, headers=h)
            assert r.status_code == 409, r.text
            problem = r.json()
            assert (
                f"possible from {decision_day.isoformat()}: the decision may not be adopted before" in problem["detail"]
            )
            assert "665/NK p.7" in problem["detail"]
            assert datetime.fromisoformat(problem["not_before"]).astimezone(ALMATY).date() == decision_day

        await too_early()  # before the hearing
        # the console says the whole refusal in its language, the case's reason too (ActNotBefore.why_said)
        with pytest.raises(CaseError) as early:
            await send_event(
                env.client, PERMIT, PERMIT.event("final_decision"), case_id, FinalDecision(grant=True, decided_by="C")
            )
        in_kazakh = say("kk", early.value.message)
        assert f"шешім {decision_day.isoformat()} дейін қабылданбайды" in in_kazakh, in_kazakh
        assert "may not be adopted" not in in_kazakh and "665/NK p.7" in in_kazakh
        await env.sleep(hearing_at + timedelta(minutes=30) - await env.get_current_time())
        held = {"held_at": hearing_at.isoformat(), "applicant_position": "certifying", "recorded_by": "B"}
        r = await http.post(f"{url}/record_hearing", json=held, headers=h)
        assert r.status_code == 200, r.text
        await eventually(view, lambda v: v["status"] == "decision_pending")
        await too_early()  # after it, still before the first day the notice precedes by 3 working days

        # an event the case does not wait for and that no law day governs says no such instant
        r = await http.post(f"{url}/qualification_decision", json=decision, headers=h)
        assert r.status_code == 409 and "not_before" not in r.json() and "possible from" not in r.json()["detail"]
    finally:
        await stop(env.client.get_workflow_handle(case_id))
