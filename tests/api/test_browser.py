"""The console in Debian's chromium driven by Playwright: sign in, start a case (a validation message
next to its field first), record the decision, see the deadline and the SMS in the outbox."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Page, async_playwright, expect

from activities.deadlines import current_calendar
from rules.calendar import ALMATY
from tests.api.browser import FLAGS
from tests.api.conftest import Keys
from tests.api.helpers import IIN

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture
async def console_url(dev_app: FastAPI, dev_worker: None) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(dev_app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def reload_until(page: Page, selector: str, text: str, seconds: float = 20) -> None:
    """Reload a server-rendered page until ``selector`` shows ``text`` (the case moves on in the worker)."""
    for _ in range(int(seconds / 0.25)):
        if text in await page.locator(selector).inner_text():
            return
        await asyncio.sleep(0.25)
        await page.reload()
    await expect(page.locator(selector)).to_contain_text(text)


async def test_sign_in_start_decide_and_follow_the_sms(chromium: str, console_url: str, keys: Keys) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        try:
            page = await browser.new_page(locale="kk-KZ")
            await page.goto(f"{console_url}/console/")
            await expect(page.locator("h1")).to_have_text("Кіру")  # Kazakh by default here
            await page.get_by_role("link", name="English").click()
            await expect(page.locator("h1")).to_have_text("Sign in")
            await page.fill("#api_key", keys.staff)
            await page.get_by_role("button", name="Sign in").click()
            await expect(page.locator("h1")).to_have_text("Cases")

            await page.get_by_role("link", name="Demo completeness check").click()
            received = (datetime.now(UTC) - timedelta(minutes=3)).astimezone(ALMATY)
            await page.select_option("#f-applicant\\.kind", "individual")
            await page.fill("#f-applicant\\.\\~individual\\.iin", "900101300127")  # wrong check digit
            await page.fill("#f-applicant\\.\\~individual\\.name", "Асан Серікұлы")
            await page.fill("#f-phone", "+77011234567")
            await page.fill("#f-received_at", received.strftime("%Y-%m-%dT%H:%M"))
            await page.select_option("#f-attachments\\.0\\.kind", "charter")
            await page.fill("#f-attachments\\.0\\.pages", "4")
            await page.click("#submit-start")
            error = page.locator('[data-loc="applicant.individual.iin"] .field-error')
            await expect(error).to_be_visible()
            await expect(error).to_contain_text("IIN")
            await page.screenshot(path=str(ARTIFACTS / "console-start-errors.png"), full_page=True)

            await page.fill("#f-applicant\\.\\~individual\\.iin", IIN)
            await page.click("#submit-start")
            await reload_until(page, "#case-status", "completeness_check")
            case_id = (await page.locator("#case-id").inner_text()).strip()
            row = page.locator("#deadlines tbody tr").first
            await expect(row).to_contain_text("665/NK p.6")
            await expect(row).to_contain_text("open")
            cells = await row.locator("td").all_inner_texts()
            cal = current_calendar()  # the calendar the console counts with, outside any workflow
            due_day = cal.add_working_days(cal.registration_day(received), 2)
            assert cells[2].startswith(due_day.isoformat()) and cells[2].endswith("18:30")
            assert int(cells[3]) == cal.working_days_between(datetime.now(UTC).astimezone(ALMATY).date(), due_day)

            await page.check('#event-completeness_decision input[name="complete"]')
            await page.click("#submit-completeness_decision")
            await expect(page.locator(".flash")).to_have_text("Decision recorded")
            await reload_until(page, "#case-status", "awaiting_fee")  # after the notice and the SMS
            await expect(page.locator("#case-sms")).to_contain_text("Your application is complete")
            await expect(page.locator("#deadlines tbody tr").first).to_contain_text("met")
            await expect(page.locator("#event-completeness_decision")).to_have_count(0)
            await page.screenshot(path=str(ARTIFACTS / "console-case.png"), full_page=True)

            await page.get_by_role("link", name="SMS outbox").click()
            sms = page.locator("#outbox tbody tr", has_text=case_id)
            await expect(sms).to_contain_text("Your application is complete")
            await expect(sms).to_contain_text("+77011234567")
            await page.screenshot(path=str(ARTIFACTS / "console-outbox.png"), full_page=True)
        finally:
            await browser.close()
    assert (ARTIFACTS / "console-case.png").stat().st_size > 10_000
