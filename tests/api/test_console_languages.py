"""No English where a translation exists (issue 17 item 8): Debian's chromium walks every console page in Kazakh and
in Russian — the work queue, search, inbox, overview, incidents, the SMS outbox, the start form of every procedure
a console user may start, a permit case page with its forms, an error page — and fails on any visible text that is an
English msgid the page's catalogue translates. A screenshot per language goes to ``tests/artifacts``."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Page, expect
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.i18n import catalogue
from api.temporal import Gateway
from rules.calendar import ALMATY
from tests.api.browser import FreshBrowser
from tests.api.conftest import TASK_QUEUE, Keys
from tests.api.test_console import ARTIFACTS, DEMO, reload_until
from tests.refs import opaque
from workflows.catalogue import PROCEDURES, by_key

STARTABLE = [s for s in PROCEDURES if "staff" in s.start_roles]
"""The procedures with a start form in the console (a console user may start them); the e-gov number connection is
started by the portal only, and its form's texts are checked in ``tests/api/test_i18n.py``."""

VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    // data (case ids, the texts of messages sent) is marked translate="no": not the page's own words
    if (!el || el.closest("style,script,[translate=no]") || !el.checkVisibility()) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  for (const o of document.querySelectorAll("option")) if (o.textContent.trim()) out.push(o.textContent.trim());
  return out;
}"""


def leaked(texts: list[str], lang: str) -> set[str]:
    """The texts shown as an English msgid that ``lang`` translates (a label's " *" and a trailing ":" aside)."""
    translated = {msgid for msgid, text in catalogue(lang).items() if text and text != msgid}
    found: set[str] = set()
    for text in texts:
        for piece in (text, text.removesuffix(" *"), text.rstrip(":").strip(), text.split(" · ")[0].strip()):
            if piece in translated:
                found.add(piece)
    return found


@pytest.fixture
async def all_procedures_url(dev_env: WorkflowEnvironment, dev_worker: None) -> AsyncIterator[tuple[str, FastAPI]]:
    """The console with every procedure of the catalogue (the shared test app has two), on a local port."""
    app = create_app(
        procedures=by_key(),
        gateway=Gateway(client=dev_env.client),
        task_queue=TASK_QUEUE,
        secret="test-secret-languages",
        secure_cookie=False,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        await task


async def signed_in(browser: FreshBrowser, url: str, key: str, lang: str) -> Page:
    page = await browser.new_page(locale={"kk": "kk-KZ", "ru": "ru-RU"}[lang])
    await page.goto(f"{url}/console/lang/{lang}?next=/console/login")
    await page.fill("#api_key", key)
    await page.click("button[type=submit]")
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    return page


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_no_english_where_a_translation_exists(
    browser: FreshBrowser, all_procedures_url: tuple[str, FastAPI], keys: Keys, lang: str
) -> None:
    import httpx

    url, app = all_procedures_url
    ARTIFACTS.mkdir(exist_ok=True)
    demo = json.loads(DEMO.read_text())
    demo["application_number"] = opaque("KZ-MVNO-", 10).upper()  # a case of its own per run
    demo["received_at"] = (datetime.now(UTC) - timedelta(minutes=3)).astimezone(ALMATY).isoformat()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as api:
        started = await api.post("/v1/procedures/mvno_permit/cases", json=demo, headers={"X-API-Key": keys.staff})
    assert started.status_code in (200, 201, 202), started.text
    case_id = started.json()["case_id"]

    pages: dict[str, list[str]] = {}
    try:
        staff = await signed_in(browser, url, keys.staff, lang)
        await staff.goto(f"{url}/console/cases/{case_id}")
        await reload_until(staff, "#case-status", catalogue(lang)["completeness_check"])
        await expect(staff.locator("#event-completeness_decision")).to_have_count(1)  # the case's form
        pages[f"/console/cases/{case_id}"] = await staff.evaluate(VISIBLE_TEXTS)
        await staff.screenshot(path=str(ARTIFACTS / f"console-languages-case-{lang}.png"), full_page=True)
        for path in ("/console/", "/console/search", "/console/incidents", "/console/outbox", "/console/nope"):
            await staff.goto(f"{url}{path}")
            pages[path] = await staff.evaluate(VISIBLE_TEXTS)
        for spec in STARTABLE:
            await staff.goto(f"{url}/console/start/{spec.key}")
            await expect(staff.locator("h1")).to_contain_text(catalogue(lang)[spec.title])
            pages[f"/console/start/{spec.key}"] = await staff.evaluate(VISIBLE_TEXTS)
        await staff.goto(f"{url}/console/start/mvno_permit")
        await staff.click("#submit-start")  # an empty form: every message in the page's language
        await expect(staff.locator(".field-error").first).to_be_visible()
        pages["/console/start/mvno_permit (sent empty)"] = await staff.evaluate(VISIBLE_TEXTS)

        supervisor = await signed_in(browser, url, keys.supervisor, lang)
        for path in ("/console/?scope=team", "/console/inbox?all=1", "/console/overview"):
            await supervisor.goto(f"{url}{path}")
            pages[path] = await supervisor.evaluate(VISIBLE_TEXTS)
        await supervisor.goto(f"{url}/console/overview")
        await supervisor.screenshot(path=str(ARTIFACTS / f"console-languages-overview-{lang}.png"), full_page=True)
    finally:
        await browser.close()

    assert len(pages) >= 9 + len(STARTABLE)
    assert all(pages.values()), [p for p, t in pages.items() if not t]
    leaks = {path: sorted(leaked(texts, lang)) for path, texts in pages.items()}
    assert {path: found for path, found in leaks.items() if found} == {}
    assert (ARTIFACTS / f"console-languages-case-{lang}.png").stat().st_size > 10_000
