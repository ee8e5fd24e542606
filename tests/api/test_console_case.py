"""The case page a clerk works in (issue 17 items 3-5), in Debian's chromium driven by Playwright.

A whole MVNO permit (665/NK) is walked through the console on the time-skipping server, with no reload: every action
is followed by the page of the case's new state (Post/Redirect/Get after the case's own work). At each step the
"next step" panel says who acts, by when and with which form, and what the law forbids yet (the hearing not recorded
before its notified time, the decision not before the first working day the notice precedes by 3 working days);
forms are pre-filled with what the case knows and "decided by" is the signed-in user, also when a forged value is
posted. Each deadline explains itself and is drawn as a calendar strip (server-rendered SVG). Screenshots go to
``tests/artifacts/console-walk-*.png``.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Page, expect
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.deadlines import earliest_act_day
from api.app import create_app
from api.auth import create_key
from api.temporal import Gateway
from infra.calendar import current_calendar
from models.case import CaseView
from models.mvno_permit import FinalDecision, PermitCaseView
from rules.calendar import ALMATY, almaty_text
from tests.api.browser import FreshBrowser
from tests.api.conftest import Keys
from tests.api.test_console import ARTIFACTS, DEMO, fill, form_values
from tests.cases import stop
from tests.refs import opaque
from worker import make_worker
from workflows.mvno_permit import SPEC as PERMIT
from workflows.mvno_permit import MvnoPermit

QUEUE = "console-walk"
CLERK = "A. Clerk (licensing)"


async def serve(app: FastAPI) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def walk_url(env: WorkflowEnvironment) -> AsyncIterator[str]:
    """The console over the time-skipping server (the test moves its clock), with the permit's worker."""
    app = create_app(
        procedures={PERMIT.key: PERMIT},
        gateway=Gateway(client=env.client),
        task_queue=QUEUE,
        secret="walk-secret",
        secure_cookie=False,  # served over plain HTTP on 127.0.0.1, as scripts/up.py does
    )
    async with make_worker(env.client, task_queue=QUEUE, workflows=[MvnoPermit]):
        async for url in serve(app):
            yield url


def application(received: datetime) -> dict[str, Any]:
    """The demo application, a case of its own, received at ``received``: documents valid for long (the server's
    clock may be years ahead), one contract without registered traffic accounting (Annex 4 item 3), so the system
    proposes a ground for refusal."""
    demo = json.loads(DEMO.read_text())
    demo["application_number"] = opaque("KZ-MVNO-", 10).upper()
    demo["received_at"] = received.astimezone(ALMATY).strftime("%Y-%m-%dT%H:%M")  # datetime-local: Asia/Almaty
    for c in demo["qualification"]["contracts"]:
        c["valid_until"] = "2099-12-31"
    demo["qualification"]["contracts"][1]["traffic_accounting"] = False
    demo["qualification"]["information_form"]["conformity_certificate_valid_until"] = "2099-12-31"
    return demo


async def sign_in(page: Page, url: str, key: str) -> None:
    await page.goto(f"{url}/console/login")
    await page.get_by_role("link", name="English").click()
    await page.fill("#api_key", key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("h1")).to_have_text("Work queue")


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"console-walk-{name}.png"), full_page=True)


async def submit(page: Page, event: str) -> None:
    """Send a form and land, without any reload, on the case's new state."""
    await page.click(f"#submit-{event}")
    await expect(page.locator(".flash")).to_have_text("Decision recorded")
    await expect(page.locator("#processing")).to_have_count(0)  # the case's own work is done before the page


async def registered(page: Page, env: WorkflowEnvironment) -> None:
    """Wait until the case page shows the started permit at its completeness check. This server's clock moves only
    when the test moves it: an attempt retried after its back-off (a first attempt lost to a busy machine) waits for
    it, so the clock is moved by seconds while the page is watched. On a loaded machine the page was also seen drawn at
    "registered" while this server described the case as doing nothing (no workflow task, no activity: its history
    shows an activity and a workflow task scheduled then), so the page did not follow a case that moved on within a
    second; a page that does not follow is reloaded, as a clerk would press "Refresh"."""
    for _ in range(30):  # a receipt back-dated past its term is at the check, overdue ("completeness_check_overdue")
        if (await page.locator("#case-status").get_attribute("data-status") or "").startswith("completeness_check"):
            break
        await env.sleep(timedelta(seconds=2))
        if not await page.locator('meta[http-equiv="refresh"]').count():
            await page.reload()
        await asyncio.sleep(0.5)
    await expect(page.locator("#case-status")).to_have_text(re.compile(r"^completeness check( overdue)?$"))


def step(page: Page, event: str) -> Any:
    return page.locator(f"#next-step #step-{event}")


@pytest.mark.browser
async def test_a_permit_walked_through_the_console_without_a_reload(
    env: WorkflowEnvironment, walk_url: str, keys: Keys, browser: FreshBrowser
) -> None:
    cal = current_calendar()
    clerk = create_key(CLERK, ["staff"])[0]
    t0 = await env.get_current_time()
    today = t0.astimezone(ALMATY).date()
    received = datetime.combine(cal.add_working_days(today, -1), time(10, 0), tzinfo=ALMATY)
    demo = application(received)
    case_id = ""
    try:
        page = await browser.new_page(locale="en-GB")
        await sign_in(page, walk_url, clerk)

        # 1. the application, started from the form: the page that follows is the registered case
        await page.goto(f"{walk_url}/console/start/{PERMIT.key}")
        values = form_values(demo)
        await fill(page, {k: v for k, v in values.items() if not k.startswith("qualification.contracts.1.")})
        await page.get_by_role("button", name="Add another").click()
        await fill(page, {k: v for k, v in values.items() if k.startswith("qualification.contracts.1.")})
        await page.click("#submit-start")
        await expect(page.locator(".flash")).to_have_text("Case started")
        # no reload: the page follows the case
        await registered(page, env)
        case_id = (await page.locator("#case-id").inner_text()).strip()
        # the applicant, the application number and the procedure on top, not the hash id
        await expect(page.locator("#case-applicant")).to_have_text(demo["applicant"]["name"])
        await expect(page.locator("#case-application")).to_have_text(demo["application_number"])
        await expect(page.locator("#case-identifier")).to_contain_text(demo["applicant"]["bin"])
        await expect(page.locator("#case-procedure")).to_have_text(PERMIT.title)
        completeness_due = datetime.combine(cal.add_working_days(received.date(), 2), time(18, 30), ALMATY)
        s = step(page, "completeness_decision")
        await expect(s.locator(".who")).to_have_text("staff")
        await expect(s.locator(".by-when")).to_contain_text(almaty_text(completeness_due))
        await expect(s.locator(".by-when")).to_contain_text("665/NK p.6")
        await expect(s.locator(".form-link a")).to_have_attribute("href", "#event-completeness_decision")
        # the state registry's data beside the application's, and the system's pre-check
        await expect(page.locator("#registry")).to_contain_text("matches")
        await expect(page.locator("#precheck-completeness_check")).to_contain_text("nothing found")
        form = page.locator("#event-completeness_decision")
        await expect(form.locator('[name="complete"]')).to_be_checked()  # the pre-check, proposed
        await expect(form.locator('[name="decided_by"]')).to_have_value(CLERK)
        await expect(form.locator('[name="decided_by"]')).to_have_attribute("readonly", "")
        await shot(page, "1-registered")
        await submit(page, "completeness_decision")

        # 2. the qualification check: the system proposes the ground it saw; a hearing is set
        await expect(page.locator("#case-status")).to_have_text("qualification check")
        await expect(page.locator("#event-completeness_decision")).to_have_count(0)  # only what fits now
        form = page.locator("#event-qualification_decision")
        await expect(form.locator('[name="compliant"]')).not_to_be_checked()
        await expect(form.locator('[name="grounds.non_compliant"]')).to_be_checked()
        await expect(form.locator('[name="findings"]')).to_have_value(re.compile("traffic accounting"))
        await expect(page.locator("#precheck-qualification_check")).to_contain_text("T2-2026-88")
        # in Russian the finding and its proposal read in Russian, the requirement in the law files' own words
        await page.goto(f"{walk_url}/console/lang/ru?next=/console/cases/{case_id}")
        said = "договор T2-2026-88 не соответствует: системы учета трафика"
        await expect(page.locator("#precheck-qualification_check")).to_contain_text(said)
        await expect(form.locator('[name="findings"]')).to_have_value(re.compile(said))
        await page.goto(f"{walk_url}/console/lang/en?next=/console/cases/{case_id}")
        hearing_day = cal.add_working_days(today, 1)
        hearing_at = datetime.combine(hearing_day, time(11, 0), tzinfo=ALMATY)
        await fill(
            page,
            {
                "hearing.at": hearing_at.strftime("%Y-%m-%dT%H:%M"),  # datetime-local: Asia/Almaty time
                "hearing.place": "Astana, Mangilik El ave. 55, room 401",
            },
        )
        await shot(page, "2-qualification")
        await submit(page, "qualification_decision")

        # 3. the hearing is scheduled: what the law forbids yet, and the scheduled hearing
        await expect(page.locator("#case-status")).to_have_text("hearing scheduled")
        own = await env.client.get_workflow_handle(case_id).query("permit_case", result_type=PermitCaseView)
        assert own.notice_sent_at is not None
        notice_day = own.notice_sent_at.astimezone(ALMATY).date()
        decision_day = earliest_act_day(cal, notice_day, 3)
        s = step(page, "record_hearing")
        await expect(s.locator(".not-before")).to_contain_text(
            f"not before its notified time {almaty_text(hearing_at)} (665/NK p.7)"
        )
        coming = step(page, "final_decision")
        await expect(coming).to_contain_text("not possible yet")
        await expect(coming.locator(".not-before")).to_contain_text(
            f"the decision is possible from {decision_day.isoformat()}: the hearing notice went out on "
            f"{notice_day.isoformat()}, no later than 3 working days before the act (665/NK p.7)"
        )
        await expect(coming.locator(".form-link")).to_have_text("shown when it becomes possible")
        await expect(page.locator("#hearing-at")).to_have_text(almaty_text(hearing_at))
        await expect(page.locator("#hearing")).to_contain_text("room 401")
        latest = datetime.combine(cal.add_working_days(notice_day, 2), time(18, 30), ALMATY)
        await expect(page.locator("#hearing-latest")).to_have_text(almaty_text(latest))
        await expect(page.locator("#documents")).to_contain_text("signed by")  # the notice, with its signature
        await expect(page.locator("#documents a", has_text="signature")).to_have_count(1)
        await shot(page, "3-hearing-scheduled")

        # 4. the hearing is held (the server's clock moves to it); the form knows its time
        await env.sleep(hearing_at + timedelta(minutes=30) - await env.get_current_time())
        await page.goto(f"{walk_url}/console/cases/{case_id}")
        form = page.locator("#event-record_hearing")
        await expect(form.locator('[name="held_at"]')).to_have_value(hearing_at.strftime("%Y-%m-%dT%H:%M"))
        await form.locator('[name="applicant_position"]').fill("the traffic accounting system is being certified")
        await submit(page, "record_hearing")
        await expect(page.locator("#case-status")).to_have_text("decision pending")
        await expect(page.locator("#hearing")).to_contain_text(CLERK)  # recorded by the signed-in user
        await expect(page.locator("form[id^=event-]")).to_have_count(0)  # the law forbids the decision yet
        await expect(step(page, "final_decision").locator(".not-before")).to_contain_text(
            f"possible from {decision_day.isoformat()}"
        )
        await shot(page, "4-hearing-held")

        # 5. the decision day: the permit; a forged "decided by" is replaced by the signed-in user
        opens = datetime.combine(decision_day, time(10, 0), tzinfo=ALMATY)
        await env.sleep(opens - await env.get_current_time())
        await page.goto(f"{walk_url}/console/cases/{case_id}")
        form = page.locator("#event-final_decision")
        await expect(form).to_have_count(1)
        await expect(step(page, "final_decision").locator(".not-before")).to_have_count(0)
        token = await form.locator('[name="csrf_token"]').get_attribute("value")
        forged = await page.context.request.post(
            f"{walk_url}/console/cases/{case_id}/events/final_decision",
            form={"csrf_token": token or "", "grant": "true", "decided_by": "Somebody Else"},
            max_redirects=0,
        )
        assert forged.status == 303
        await page.goto(f"{walk_url}/console/cases/{case_id}")
        await expect(page.locator("#case-status")).to_have_text("permit valid")  # settled before the redirect
        await expect(page.locator("#permit")).to_contain_text(demo["applicant"]["name"])
        await expect(page.locator("#documents li", has_text="MVNO permit")).to_contain_text("signed by")
        s = step(page, "contract_event")
        await expect(s.locator(".by-when")).to_contain_text("permit validity (665/NK Annex 1 item 11)")
        await shot(page, "5-permit")

        # 6. a contract terminated early ends the permit (Annex 5)
        form = page.locator("#event-contract_event")
        await fill(
            page,
            {
                "kind": "terminated_early",
                "contract_number": demo["qualification"]["contracts"][0]["contract_number"],
                "occurred_on": opens.date().isoformat(),
            },
        )
        await expect(form.locator('[name="reported_by"]')).to_have_value(CLERK)
        await submit(page, "contract_event")
        await expect(page.locator("#case-status")).to_have_text("permit terminated")
        await expect(page.locator("#next-step")).to_contain_text("The case is closed")
        await shot(page, "6-terminated")
    finally:
        await browser.close()
        if case_id:
            await stop(env.client.get_workflow_handle(case_id))

    handle = env.client.get_workflow_handle(case_id)
    assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
    # the forged name never reached the case: the history holds the signed-in user as the decision's author
    finals = [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input
        async for e in handle.fetch_history_events()
        if e.HasField("workflow_execution_update_accepted_event_attributes")
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name == "final_decision"
    ]
    [final] = [(await env.client.data_converter.decode(i.args.payloads, [FinalDecision]))[0] for i in finals]
    assert final.grant and final.decided_by == CLERK
    assert (ARTIFACTS / "console-walk-3-hearing-scheduled.png").stat().st_size > 10_000


def _kinds(cells: list[dict[str, str]]) -> dict[str, str]:
    return {c["day"]: c["kind"] for c in cells}


@pytest.mark.browser
async def test_a_deadline_explains_itself_and_is_drawn_as_a_calendar_strip(
    env: WorkflowEnvironment, walk_url: str, browser: FreshBrowser
) -> None:
    """An application received on a Friday after 18:30 is registered on Monday (665/NK p.6): the completeness
    term's strip starts on the Friday, shades and names the weekend, numbers the two counted days and marks the due
    instant; the explanation lists the same, with the calendar version; Kazakh on a Kazakh page."""
    cal = current_calendar()
    clerk = create_key("B. Clerk", ["staff"])[0]
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    friday = today - timedelta(days=(today.weekday() - 4) % 7 or 7)
    while not (cal.is_working_day(friday) and cal.registration_day(_at(friday, 19)) > friday + timedelta(days=2)):
        friday -= timedelta(days=7)  # a Friday followed by an ordinary weekend
    received = _at(friday, 19, 5)
    monday = cal.registration_day(received)
    due = cal.add_working_days(monday, 2)
    demo = application(received)
    case_id = ""
    try:
        page = await browser.new_page(locale="en-GB")
        await sign_in(page, walk_url, clerk)
        await page.goto(f"{walk_url}/console/start/{PERMIT.key}")
        values = form_values(demo)
        await fill(page, {k: v for k, v in values.items() if not k.startswith("qualification.contracts.1.")})
        await page.get_by_role("button", name="Add another").click()
        await fill(page, {k: v for k, v in values.items() if k.startswith("qualification.contracts.1.")})
        await page.click("#submit-start")
        await registered(page, env)
        case_id = (await page.locator("#case-id").inner_text()).strip()

        box = page.locator("#deadline-completeness_check")
        await expect(box).to_have_attribute("open", "")  # an open term is unfolded
        why = box.locator("ul.why")
        await expect(why).to_contain_text("2 working days (665/NK p.6)")
        await expect(why).to_contain_text(
            f"received {almaty_text(received)} (after office hours), registered on the next working day "
            f"{monday.isoformat()}"
        )
        sat, sun = friday + timedelta(days=1), friday + timedelta(days=2)
        await expect(why).to_contain_text(f"{sat.isoformat()} (weekend: Saturday), {sun.isoformat()} (weekend")
        await expect(why).to_contain_text(f"due {due.isoformat()} 18:30 +05:00")
        await expect(why).to_contain_text(f"calendar version {cal.version}")

        svg = box.locator("svg.deadline-picture")
        await expect(svg).to_have_attribute("data-days", "yes")
        cells = await svg.locator("g.day").evaluate_all(
            "gs => gs.map(g => ({day: g.dataset.day, kind: g.dataset.kind}))"
        )
        kinds = _kinds(cells)
        assert min(kinds) == friday.isoformat() and due.isoformat() in kinds
        assert kinds[sat.isoformat()] == kinds[sun.isoformat()] == "weekend"
        assert kinds[friday.isoformat()] == kinds[monday.isoformat()] == "before"  # the roll: not counted
        counted = [d for d, k in sorted(kinds.items()) if k == "counted" and d <= due.isoformat()]
        assert counted == [cal.add_working_days(monday, n).isoformat() for n in (1, 2)]
        numbers = await svg.locator("text.count").evaluate_all("ts => ts.map(t => t.textContent)")
        assert numbers[:2] == ["1", "2"]
        await expect(svg.locator("text.day-off-name")).to_contain_text(["weekend"])
        marks = svg.locator("g.mark text")
        await expect(marks.filter(has_text="due ")).to_contain_text(f"due {due.isoformat()} 18:30 +05:00")
        await expect(marks.filter(has_text="start ")).to_contain_text("start 19:05")
        wall = datetime.now(UTC).astimezone(ALMATY).date()  # the console's today is the wall clock's
        await expect(marks.filter(has_text="today")).to_have_count(1 if friday <= wall <= max(due, wall) else 0)
        await expect(svg.locator("g.day[data-kind=weekend] rect").first).to_have_attribute("fill", "#cfd6df")
        assert await svg.locator("title").first.inner_html()  # the picture says what it is
        await box.screenshot(path=str(ARTIFACTS / "console-deadline-picture.png"))
        await shot(page, "deadline-picture")
        timeline = page.locator("#timeline")  # what happened, in words, not the API's kinds
        await expect(timeline).to_contain_text("term opened")
        await expect(timeline).not_to_contain_text("deadline_opened")

        await page.get_by_role("link", name="Қазақша").click()
        why = page.locator("#deadline-completeness_check ul.why")
        await expect(why).to_contain_text("2 жұмыс күні (665/NK p.6)")
        await expect(why).to_contain_text(f"{sat.isoformat()} (демалыс күндері: сенбі)")
        await expect(page.locator("#next-step h2")).to_have_text("Келесі қадам")
        await expect(page.locator("#step-completeness_decision .who")).to_have_text("қызметкер")
        body = await page.locator("main").inner_text()
        english_texts = ("Next step", "Who acts", "By when", "working days", "registered on the next", "weekend")
        for english in (*english_texts, "check of the completeness", "due 20", "in time"):
            assert english not in body, english
        await page.locator("#deadline-completeness_check").screenshot(
            path=str(ARTIFACTS / "console-deadline-picture-kk.png")
        )
    finally:
        await browser.close()
        if case_id:
            await stop(env.client.get_workflow_handle(case_id))


def posted(values: dict[str, Any]) -> dict[str, str]:
    """Form values as a browser posts them: checked boxes as ``true``, unchecked ones left out."""
    return {k: ("true" if v else "") if isinstance(v, bool) else str(v) for k, v in values.items() if v is not False}


async def shown(http: httpx.AsyncClient, url: str, status: str, env: WorkflowEnvironment) -> httpx.Response:
    """The case page once it shows ``status``: the console waits for the case to settle before it redirects, but
    this server can describe a case as doing nothing while it still has work scheduled (see ``registered``), so the
    page is asked again, the clock moved by seconds, a few times."""
    for _ in range(15):
        page = await http.get(url)
        if f'data-status="{status}"' in page.text:
            break
        await env.sleep(timedelta(seconds=2))
        await asyncio.sleep(0.5)
    return page


async def test_a_blocked_case_says_why_and_what_resuming_retries(env: WorkflowEnvironment, walk_url: str) -> None:
    """The state registry refuses for good (665/NK p.6): the case page says the case is blocked, since when, why, and
    that resuming retries the refused call; the resume form's "by" is the signed-in user, whatever is posted."""
    from infra import outages

    cal = current_calendar()
    clerk = create_key("C. Clerk", ["staff"])[0]
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    demo = application(datetime.combine(cal.add_working_days(today, -1), time(10, 0), tzinfo=ALMATY))
    case_id = ""
    outages.begin("state_registry", await env.get_current_time(), None, "gateway contract ended", permanent=True)
    try:
        async with httpx.AsyncClient(base_url=walk_url) as http:
            page = await http.get("/console/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token
            await http.post("/console/login", data={"csrf_token": token.group(1), "api_key": clerk})
            await http.get("/console/lang/en?next=/console/")
            values = {**posted(form_values(demo)), "_count.qualification.contracts": "2", "csrf_token": token.group(1)}
            page = await http.get(f"/console/start/{PERMIT.key}")
            values["csrf_token"] = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]
            started = await http.post(f"/console/start/{PERMIT.key}", data=values)
            assert started.status_code == 303, started.text
            case_url = started.headers["location"]
            case_id = case_url.rsplit("/", 1)[1]
            page = await shown(http, case_url, "blocked", env)
            assert 'data-status="blocked"' in page.text, page.text
            blocked = re.search(r'<div id="case-blocked".*?</div>', page.text, re.S)
            assert blocked and "state_registry" in blocked.group(0) and "gateway contract ended" in blocked.group(0)
            assert "Resuming retries the refused call to state_registry" in blocked.group(0)
            assert 'id="event-resume_outside_step"' in page.text
            assert re.search(r'name="by" value="C. Clerk" readonly', page.text)
            assert 'id="step-resume_outside_step"' in page.text  # the next step: staff resume it
            outages.end("state_registry")
            token = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]
            resumed = await http.post(
                f"{case_url}/events/resume_outside_step", data={"csrf_token": token, "by": "not me", "note": "renewed"}
            )
            assert resumed.status_code == 303
            page = await shown(http, case_url, "completeness_check", env)
            assert 'data-status="completeness_check"' in page.text and 'id="case-blocked"' not in page.text
        view = await env.client.get_workflow_handle(case_id).query("case", result_type=CaseView)
        assert [b.resumed_by for b in view.blocked_steps] == ["C. Clerk"]
    finally:
        outages.end("state_registry")
        if case_id:
            await stop(env.client.get_workflow_handle(case_id))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ALMATY).astimezone(UTC)


@pytest.mark.browser
async def test_the_case_page_in_kazakh_names_the_act_translates_recorded_titles_and_is_assigned(
    env: WorkflowEnvironment, walk_url: str, browser: FreshBrowser, tmp_path: Path
) -> None:
    """Issue 17 items 8 and the remaining pieces: the act's title in the page's language (law data), document titles a
    case recorded in English shown translated in the documents and the timeline, the applicant's SMS in Kazakh and
    Russian, a supervisor assigning the case from the page; and the compliance report of that case in Kazakh."""
    from api.i18n import catalogue
    from audit.history import decode_history, parse_history
    from audit.report import build_report, render_report_html
    from infra.cases import start_case, wait_until_settled
    from models.mvno_permit import CompletenessDecision, PermitApplication
    from rules import law

    kk = catalogue("kk")
    cal = current_calendar()
    head = create_key(f"Head {uuid.uuid4().hex[:6]}", ["supervisor"])[0]
    clerk_name = f"D. Clerk {uuid.uuid4().hex[:6]}"
    create_key(clerk_name, ["staff"])
    today = (await env.get_current_time()).astimezone(ALMATY).date()
    demo = application(datetime.combine(cal.add_working_days(today, -1), time(10, 0), tzinfo=ALMATY))
    demo["received_at"] = datetime.combine(cal.add_working_days(today, -1), time(10, 0), tzinfo=ALMATY).isoformat()
    started = await start_case(env.client, PERMIT, PermitApplication.model_validate(demo), task_queue=QUEUE)
    case_id = started.case_id
    try:
        try:
            page = await browser.new_page(locale="kk-KZ")
            await page.goto(f"{walk_url}/console/lang/kk?next=/console/login")
            await page.fill("#api_key", head)
            await page.click("button[type=submit]")
            await page.goto(f"{walk_url}/console/cases/{case_id}")
            await expect(page.locator("#case-status")).to_have_text(kk["completeness_check"])
            await expect(page.locator("#act-title")).to_have_text(law.act_title("665/NK/2024", "kk") or "")
            # the applicant's SMS: Kazakh, then Russian
            sms = page.locator("#case-sms li").first
            await expect(sms).to_contain_text(f"{demo['application_number']} өтініші")
            await expect(sms).to_contain_text(f"Заявление {demo['application_number']}")
            await expect(sms).to_contain_text("•••••")  # the recipient's number, masked as in the outbox
            # a supervisor assigns it from the page
            await expect(page.locator("#assignment")).to_have_text(kk["Not assigned"])
            await page.select_option("#assignee-select", label=clerk_name)
            await page.click("#submit-assign")
            await expect(page.locator(".flash")).to_have_text(kk["Case assigned"])
            await expect(page.locator("#assignee")).to_have_text(clerk_name)
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "console-case-kk-assign-form.png"), full_page=True)
            # a refusal to consider (the clerk's decision, through the case's Update): its document, titled by the
            # case in English, is shown in Kazakh
            await env.client.get_workflow_handle(case_id).execute_update(
                "completeness_decision",
                CompletenessDecision(complete=False, reasons=["лицензия мерзімі өтті"], decided_by=clerk_name),
            )
            await wait_until_settled(env.client, case_id)
            await page.goto(f"{walk_url}/console/cases/{case_id}")
            await expect(page.locator("#case-status")).to_have_text(kk["refused_to_consider"])
            title = kk["Reasoned refusal to consider the application further"]
            await expect(page.locator("#documents")).to_contain_text(title)
            await expect(page.locator("#timeline")).to_contain_text(title)
            await expect(page.locator("#timeline")).not_to_contain_text(
                "Reasoned refusal to consider the application further"
            )
            # the case's start names its procedure in Kazakh, not by its key (an adversarial run, 2026-12-04)
            await expect(page.locator("#timeline")).to_contain_text(kk[PERMIT.title])
            await expect(page.locator("#timeline")).not_to_contain_text(f": {PERMIT.key}")
            # an event by its title in Kazakh, not its machine name
            await expect(page.locator("#timeline")).to_contain_text(kk[PERMIT.event("completeness_decision").title])
            await expect(page.locator("#timeline")).not_to_contain_text("completeness_decision")
            await expect(page.locator("#intake")).not_to_contain_text("unknown")  # started past the API: in Kazakh
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "console-case-kk-assigned.png"), full_page=True)
            # the compliance report of this case in the auditor's language
            history = decode_history(await env.client.get_workflow_handle(case_id).fetch_history())
            report = tmp_path / "report.html"
            report.write_text(render_report_html(build_report([parse_history(history)]), "kk"))
            await page.goto(report.as_uri())
            await expect(page.locator("h1")).to_have_text(kk["Compliance report"])
            await page.screenshot(path=str(ARTIFACTS / "audit-report-kk.png"), full_page=True)
        finally:
            await browser.close()
    finally:
        await stop(env.client.get_workflow_handle(case_id))
    assert (ARTIFACTS / "console-case-kk-assigned.png").stat().st_size > 10_000
