"""The console in Debian's chromium driven by Playwright, with the real MVNO permit (665/NK): sign in, start a
permit case from the demo application (a wrong BIN first, its message next to the field), see the completeness
deadline, record the completeness decision, see the deadline met and the registration SMS in the outbox."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Page, async_playwright, expect

from infra.calendar import current_calendar
from models.mvno_permit import PermitApplication
from rules.calendar import ALMATY
from rules.identifiers import kz_mobile
from tests.api.browser import FLAGS
from tests.api.conftest import Keys

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DEMO = ROOT / "demo" / "mvno_permit" / "application_legal_entity.json"

pytestmark = pytest.mark.browser


@pytest.fixture
async def console_url(dev_app: FastAPI, dev_worker: None) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(dev_app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


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


async def test_permit_case_through_the_console(chromium: str, console_url: str, keys: Keys) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    demo = json.loads(DEMO.read_text())
    received = (datetime.now(UTC) - timedelta(minutes=3)).astimezone(ALMATY)
    demo["application_number"] = f"KZ-MVNO-{uuid.uuid4().hex[:10].upper()}"  # a case of its own per run
    demo["received_at"] = received.strftime("%Y-%m-%dT%H:%M")  # the form's datetime-local, Asia/Almaty
    values = form_values(demo)
    contracts = demo["qualification"]["contracts"]
    assert len(contracts) == 2
    good_bin = demo["applicant"]["bin"]
    phone = kz_mobile(demo["applicant"]["phones"][0])
    PermitApplication.model_validate({**demo, "received_at": received.isoformat()})  # the demo itself is valid

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
            await reload_until(page, "#case-status", "completeness_check")
            case_id = (await page.locator("#case-id").inner_text()).strip()
            row = page.locator("#deadlines tbody tr", has_text="completeness_check")
            await expect(row).to_contain_text("665/NK p.6")
            await expect(row).to_contain_text("open")
            cells = await row.locator("td").all_inner_texts()
            cal = current_calendar()  # the calendar the console counts with, outside any workflow
            due_day = cal.add_working_days(cal.registration_day(received), 2)
            assert cells[2] == f"{due_day.isoformat()} 18:30"
            assert int(cells[3]) == cal.working_days_between(datetime.now(UTC).astimezone(ALMATY).date(), due_day)
            await page.screenshot(path=str(ARTIFACTS / "console-permit-registered.png"), full_page=True)

            decision = page.locator("#event-completeness_decision")
            await decision.locator('[name="complete"]').check()
            await decision.locator('[name="decided_by"]').fill("A. Employee (licensing)")
            await page.click("#submit-completeness_decision")
            await expect(page.locator(".flash")).to_have_text("Decision recorded")
            await reload_until(page, "#case-status", "qualification_check")
            row = page.locator("#deadlines tbody tr", has_text="completeness_check")
            await expect(row.locator("td").nth(4)).to_contain_text("met")
            await expect(page.locator("#event-completeness_decision")).to_have_count(0)
            await expect(page.locator("#event-qualification_decision")).to_have_count(1)
            await expect(page.locator("#case-sms")).to_contain_text(f"Application {demo['application_number']}")
            await page.screenshot(path=str(ARTIFACTS / "console-permit-case.png"), full_page=True)

            await page.get_by_role("link", name="SMS outbox").click()
            sms = page.locator("#outbox tbody tr", has_text=case_id)
            await expect(sms).to_have_count(1)
            await expect(sms).to_contain_text(
                f"Application {demo['application_number']} for an MVNO permit is "
                f"registered on {cal.registration_day(received).isoformat()}"
            )
            await expect(sms).to_contain_text(phone)
            await page.screenshot(path=str(ARTIFACTS / "console-permit-outbox.png"), full_page=True)
        finally:
            await browser.close()
    assert (ARTIFACTS / "console-permit-case.png").stat().st_size > 10_000
