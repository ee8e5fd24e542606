"""The console's working pages (``api.console_work``) over HTTP against the dev server (visibility listing): the work
queue's groups, finding a case by IIN, phone, name, application number and case id, filters and pages, role
restrictions, the supervisors' inbox with its acknowledgement, the overview and its CSV exports, incidents (a failed,
a terminated and a blocked case); in Debian's chromium, the work queue and the search.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import expect
from sqlmodel import select
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api import search as search_module
from api.auth import create_key
from api.queue import groups_of
from infra import outages
from infra.db import session
from infra.reindex import reindex
from models import search_attributes as sa
from models.tables import CaseAssignment, OutsideWait, SupervisorNotification
from rules.calendar import ALMATY
from tests.api.applications import application, eventually
from tests.api.browser import FreshBrowser
from tests.api.conftest import Keys
from tests.api.procedures import SPEC as DEMO_SPEC
from tests.api.procedures import DemoCheck
from tests.api.test_console import ARTIFACTS, csrf, sign_in
from tests.refs import opaque
from tests.subscribers import new_iin, new_phone

ROOT = Path(__file__).resolve().parents[2]
PERMIT_DEMO = ROOT / "demo" / "mvno_permit" / "application_legal_entity.json"


def word() -> str:
    """A name word no other test uses (letters only)."""
    return opaque("Qa", 10)


@asynccontextmanager
async def signed_in(app: FastAPI, key: str, lang: str = "en") -> AsyncIterator[httpx.AsyncClient]:
    """A console session of ``key`` in ``lang``."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        assert (await sign_in(c, key)).status_code == 303
        await c.get(f"/console/lang/{lang}?next=/console/")
        yield c


async def start_demo(http: httpx.AsyncClient, key: str, received: datetime, **overrides: Any) -> str:
    r = await http.post(
        "/v1/procedures/demo_check/cases", json=application(received, **overrides), headers={"X-API-Key": key}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


def person(name: str, iin: str) -> dict[str, Any]:
    return {"applicant": {"kind": "individual", "iin": iin, "name": name}}


def case_ids(html: str, table: str = "cases") -> list[str]:
    m = re.search(rf'<table id="{table}">.*?</table>', html, re.S)
    assert m, f"no table {table}"
    return re.findall(r'<tr[^>]*data-case="([^"]+)"', m.group(0))


async def found(http: httpx.AsyncClient, q: str, **params: str) -> list[str]:
    r = await http.get("/console/search", params={"q": q, "state": "all", **params})
    assert r.status_code == 200, r.text
    return case_ids(r.text)


# --- finding a case -------------------------------------------------------------------------------------------


async def test_a_case_is_found_by_iin_phone_name_application_number_and_case_id(
    dev_app: FastAPI, dev_http: httpx.AsyncClient, dev_env: WorkflowEnvironment, keys: Keys
) -> None:
    iin, phone, surname = new_iin(), new_phone(), word()
    now = datetime.now(UTC)
    cid = await start_demo(dev_http, keys.staff, now, phone=phone, **person(f"{surname} Асан Серікұлы", iin))
    permit = json.loads(PERMIT_DEMO.read_text())
    permit["application_number"] = f"KZ-MVNO-{uuid.uuid4().hex[:8].upper()}"
    permit["received_at"] = (now - timedelta(minutes=2)).isoformat()
    r = await dev_http.post("/v1/procedures/mvno_permit/cases", json=permit, headers={"X-API-Key": keys.staff})
    assert r.status_code == 201, r.text
    permit_id = r.json()["case_id"]
    # a case started past the one start path (as cases started before the index existed): found by its id only
    unindexed = f"demo_check-legacy-{uuid.uuid4().hex[:8]}"
    legacy_name = word()
    await dev_env.client.start_workflow(
        DemoCheck.run,
        application(now, phone=phone, **person(legacy_name, iin)),
        id=unindexed,
        task_queue="api-tests",
        search_attributes=TypedSearchAttributes([SearchAttributePair(sa.PROCEDURE, "demo_check")]),
    )

    async with signed_in(dev_app, keys.staff) as staff:
        await eventually(lambda: found(staff, cid), lambda ids: cid in ids)  # visibility has it
        assert cid in await found(staff, f"{iin[:6]} {iin[6:]}")
        assert cid in await found(staff, "8 " + phone[2:5] + " " + phone[5:8] + "-" + phone[8:])  # another spelling
        assert cid in await found(staff, f"серікұлы {surname.lower()}")  # words in any order and case
        assert cid in await found(staff, surname)
        assert cid not in await found(staff, surname[:-1])  # exact words, no prefixes
        assert cid not in await found(staff, new_iin())
        await eventually(lambda: found(staff, permit_id), lambda ids: permit_id in ids)
        assert await found(staff, permit["application_number"].lower()) == [permit_id]
        complaint = json.loads((ROOT / "demo/complaint/complaint.json").read_text())
        complaint.update(
            complaint_number=f"KZ-C-{uuid.uuid4().hex[:8]}",
            appealed_application_number=permit["application_number"],
            received_at=(now - timedelta(minutes=1)).isoformat(),
        )
        r = await dev_http.post("/v1/procedures/complaint/cases", json=complaint, headers={"X-API-Key": keys.staff})
        assert r.status_code == 201, r.text
        complaint_id = r.json()["case_id"]
        await eventually(lambda: found(staff, complaint_id), lambda ids: complaint_id in ids)
        # the permit's number lists the complaints about it too (the complaint's own number lists it alone)
        assert sorted(await found(staff, permit["application_number"])) == sorted([permit_id, complaint_id])
        assert await found(staff, complaint["complaint_number"]) == [complaint_id]
        assert permit_id in await found(staff, permit["applicant"]["bin"])
        page = await staff.get("/console/search", params={"q": permit["application_number"]})
        assert f"Application {permit['application_number']}" in page.text  # the number is shown, no personal data
        assert permit["applicant"]["bin"] not in page.text and iin not in page.text
        assert await found(staff, legacy_name) == []
        assert await eventually(lambda: found(staff, unindexed), lambda ids: unindexed in ids) == [unindexed]
        # the backfill (`starter.py cases reindex`) lists the cases through visibility and writes the missing one
        report = await reindex(dev_env.client, [DEMO_SPEC])
        assert (unindexed, "no such case") not in report.failed and report.written >= 1
        assert unindexed in await found(staff, legacy_name) and unindexed in await found(staff, iin)
        again = await reindex(dev_env.client, [DEMO_SPEC], case_ids=[unindexed])
        assert (again.runs, again.written, again.unchanged) == (1, 0, 1)  # idempotent

    async with signed_in(dev_app, keys.auditor) as auditor:  # auditors find by case id and application number only
        by_iin = await auditor.get("/console/search", params={"q": iin, "state": "all"})
        assert case_ids(by_iin.text) == [] and 'id="search-restricted"' in by_iin.text
        assert await found(auditor, surname) == []
        assert sorted(await found(auditor, permit["application_number"])) == sorted([permit_id, complaint_id])
        assert await found(auditor, cid) == [cid]
    await dev_env.client.get_workflow_handle(unindexed).terminate(reason="test: the legacy case is not needed any more")
    await dev_env.client.get_workflow_handle(complaint_id).terminate(reason="test: the complaint is done")


async def test_search_filters_by_procedure_translated_status_and_due_dates_and_pages(
    dev_app: FastAPI, dev_http: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = word()
    now = datetime.now(UTC)
    started = []
    for _ in range(3):
        started.append(await start_demo(dev_http, keys.staff, now, **person(name, new_iin())))
        await asyncio.sleep(0.05)
    monkeypatch.setattr(search_module, "PAGE_SIZE", 2)
    async with signed_in(dev_app, keys.staff, "kk") as kk:
        base = {"q": name, "procedure": "demo_check", "status": "completeness_check"}
        first = await eventually(
            lambda: kk.get("/console/search", params=base),
            lambda r: len(case_ids(r.text)) == 2 and "<strong>3</strong>" in r.text,  # all three in the status
            seconds=30,
        )
        assert "<strong>3</strong>" in first.text and 'id="page-next"' in first.text and "1 / 2" in first.text
        # the status filter is a select of translated labels, never a free-text machine word
        assert re.search(
            r'<select id="status" name="status">.*?<option value="completeness_check" selected>'
            r"құжаттардың толықтығын тексеру</option>",
            first.text,
            re.S,
        )
        assert '<input type="text" id="status"' not in first.text
        second = await kk.get("/console/search", params={**base, "page": "2"})
        assert len(case_ids(second.text)) == 1 and 'id="page-prev"' in second.text
        assert sorted(case_ids(first.text) + case_ids(second.text)) == sorted(started)
        newest = await kk.get("/console/search", params={**base, "sort": "started"})
        assert case_ids(newest.text) == started[::-1][:2]

        today = now.astimezone(ALMATY).date()
        later = today + timedelta(days=20)
        due = {**base, "due_from": today.isoformat(), "due_to": (today + timedelta(days=10)).isoformat()}
        assert len(case_ids((await kk.get("/console/search", params=due)).text)) == 2
        assert case_ids((await kk.get("/console/search", params={**base, "due_from": later.isoformat()})).text) == []
        assert case_ids((await kk.get("/console/search", params={**base, "state": "closed"})).text) == []
        assert case_ids((await kk.get("/console/search", params={**base, "procedure": "mvno_permit"})).text) == []

        bad = await kk.get("/console/search", params={**base, "status": "Completeness check", "due_to": "soon"})
        assert bad.status_code == 422 and 'id="search-bad"' in bad.text
        assert "Күйі" in bad.text and "дейін" in bad.text  # the fields not understood, named in Kazakh
        for far in ({"due_from": "0001-01-01"}, {"due_to": "9999-12-31"}):  # a date picker takes any year
            beyond = await kk.get("/console/search", params={**base, **far})
            assert beyond.status_code == 422 and 'id="search-bad"' in beyond.text, far

        legacy = await kk.get("/console/?procedure=demo_check&overdue=1")  # the former case list's bookmarks
        assert legacy.status_code == 303 and legacy.headers["location"].startswith("/console/search?")
        assert "overdue=1" in legacy.headers["location"]


# --- the work queue ---------------------------------------------------------------------------------------------


def test_queue_groups_by_the_next_deadline_in_almaty_days_and_weeks() -> None:
    from api.listing import CaseRow

    wednesday_noon = datetime(2026, 11, 25, 12, 0, tzinfo=ALMATY)

    def row(due: datetime | None, **kw: Any) -> CaseRow:
        return CaseRow(
            case_id="c", procedure="p", status=kw.pop("status", "x"), execution="running", next_deadline=due, **kw
        )

    at = wednesday_noon
    assert groups_of(row(at - timedelta(minutes=1)), False, at) == ["overdue"]
    assert groups_of(row(at + timedelta(days=9), overdue=True), False, at) == ["overdue"]
    assert groups_of(row(at.replace(hour=23, minute=59)), False, at) == ["due_today"]
    assert groups_of(row(at.replace(hour=23, minute=59) + timedelta(minutes=1)), False, at) == ["due_soon"]
    # the next 5 working days: Thursday 26 November to Wednesday 2 December (the weekend not counted)
    fifth_late = datetime(2026, 12, 2, 23, 59, tzinfo=ALMATY)
    assert groups_of(row(fifth_late), False, at) == ["due_soon"]
    assert groups_of(row(fifth_late + timedelta(minutes=1)), False, at) == []
    # a Friday evening sees the terms due on Tuesday (a calendar week showed nothing: an adversarial run, 2026-12-04)
    friday_evening = datetime(2026, 12, 4, 19, 30, tzinfo=ALMATY)
    assert groups_of(row(datetime(2026, 12, 8, 18, 30, tzinfo=ALMATY)), False, friday_evening) == ["due_soon"]
    assert groups_of(row(None, status="blocked"), True, at) == ["blocked"]  # blocked, even while retrying
    assert groups_of(row(None), True, at) == ["waiting"]


def queue_rows(html: str, group: str) -> list[str]:
    return case_ids(html, f"queue-{group}")


def count(html: str, group: str, scope: str) -> int:
    m = re.search(rf'<tr data-group="{group}">.*?<td class="n {scope}">(\d+)</td>', html, re.S)
    assert m, f"no count for {group}/{scope}"
    return int(m.group(1))


async def test_work_queue_mine_and_the_teams_overdue_waiting_and_blocked_cases(
    dev_app: FastAPI, dev_http: httpx.AsyncClient, keys: Keys
) -> None:
    other = create_key("another clerk (test)", ["staff"])[0]
    long_ago = datetime.now(UTC) - timedelta(days=40)
    mine = await start_demo(dev_http, keys.staff, long_ago)
    theirs = await start_demo(dev_http, other, long_ago)
    async with signed_in(dev_app, keys.staff) as staff:
        page = await eventually(
            lambda: staff.get("/console/"),
            lambda r: mine in queue_rows(r.text, "overdue"),
            seconds=30,
        )
        assert page.status_code == 200 and "<h1>Work queue</h1>" in page.text
        assert theirs not in queue_rows(page.text, "overdue")  # only mine by default
        assert count(page.text, "overdue", "mine") >= 1
        team = await eventually(lambda: staff.get("/console/?scope=team"), lambda r: theirs in r.text)
        assert {mine, theirs} <= set(queue_rows(team.text, "overdue"))
        assert count(team.text, "overdue", "team") >= count(team.text, "overdue", "mine") + 1
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \+05:00", team.text)  # Asia/Almaty, with its offset

        # an outside system down for a while: the case waits, its call retried (the worker's interceptor)
        waiting = await start_demo(dev_http, keys.staff, datetime.now(UTC))
        await eventually(
            lambda: dev_http.get(f"/v1/cases/{waiting}", headers={"X-API-Key": keys.staff}),
            lambda r: "completeness_decision" in r.json()["pending_events"],
        )
        outages.begin("sms_gateway", datetime.now(UTC), timedelta(minutes=10), "gateway maintenance")
        try:
            decided = await dev_http.post(
                f"/v1/procedures/demo_check/cases/{waiting}/events/completeness_decision",
                json={"complete": True},
                headers={"X-API-Key": keys.staff},
            )
            assert decided.status_code == 200, decided.text
            page = await eventually(lambda: staff.get("/console/"), lambda r: waiting in queue_rows(r.text, "waiting"))
            row = re.search(rf'<tr[^>]*data-case="{waiting}".*?</tr>', page.text.split('id="queue-waiting"')[1], re.S)
            assert row and "send_sms" in row.group(0) and "attempt" in row.group(0)
        finally:
            outages.end("sms_gateway")
        await eventually(lambda: staff.get("/console/"), lambda r: waiting not in queue_rows(r.text, "waiting"), 40)
        with session() as s:
            assert s.exec(select(OutsideWait).where(OutsideWait.case_id == waiting)).all() == []

        # refused for good: the case is blocked, with the system and its refusal
        blocked = await blocked_case(dev_http, keys)
        try:
            page = await eventually(lambda: staff.get("/console/"), lambda r: blocked in queue_rows(r.text, "blocked"))
            row = re.search(rf'<tr[^>]*data-case="{blocked}".*?</tr>', page.text.split('id="queue-blocked"')[1], re.S)
            assert row and "sms_gateway" in row.group(0) and "contract ended" in row.group(0)
            assert blocked not in queue_rows(page.text, "waiting")
        finally:
            await resume(dev_http, keys, blocked)


async def test_a_supervisor_assigns_cases_staff_take_or_hand_on_their_own_and_mine_counts_them(
    dev_app: FastAPI, dev_http: httpx.AsyncClient, keys: Keys
) -> None:
    names = {who: f"{who} {word()}" for who in ("clerk A", "clerk B", "head")}
    a, a_row = create_key(names["clerk A"], ["staff"])
    b, b_row = create_key(names["clerk B"], ["staff"])
    head, head_row = create_key(names["head"], ["supervisor"])
    case = await start_demo(
        dev_http, keys.staff, datetime.now(UTC) - timedelta(days=40)
    )  # overdue, started by none of them
    url = f"/v1/cases/{case}/assignment"

    def put(key: str, assignee: str) -> Any:
        return dev_http.put(url, json={"assignee": assignee}, headers={"X-API-Key": key})

    r = await dev_http.get(url, headers={"X-API-Key": keys.auditor})
    assert r.status_code == 200 and r.json()["assignee"] is None and r.json()["earlier"] == []
    assert (await put(keys.auditor, names["clerk A"])).status_code == 403  # auditors read, never assign
    assert (await put(a, "nobody of that name")).status_code == 422
    extra = await dev_http.put(url, json={"assignee": names["clerk A"], "until": "x"}, headers={"X-API-Key": a})
    assert extra.status_code == 422 and "until" in extra.text  # an unknown field is refused, not ignored
    async with signed_in(dev_app, b) as clerk_b:  # a free case: a clerk is offered only to take it
        offered = await clerk_b.get(f"/console/cases/{case}")
        assert (
            f'<option value="{b_row.key_id}"' in offered.text and f'<option value="{a_row.key_id}"' not in offered.text
        )
    r = await put(b, names["clerk A"])  # nor given by a clerk to a colleague, who could not give it back
    assert r.status_code == 403 and "a case nobody holds is taken by a clerk, not given" in r.json()["detail"]
    r = await put(a, names["clerk A"].upper())  # a clerk takes a case nobody holds (the name in any case)
    assert r.status_code == 200, r.text
    assert r.json()["assignee_key_id"] == a_row.key_id and r.json()["assigned_by"].startswith(names["clerk A"])
    r = await put(b, b_row.key_id)  # another clerk cannot take it from A
    assert r.status_code == 403 and "only a supervisor reassigns it" in r.json()["detail"]
    assert (await put(a, b_row.key_id)).json()["assignee"] == names["clerk B"]  # A hands it on
    assert (await put(a, a_row.key_id)).status_code == 403  # and it is no longer A's to move
    r = await put(head, names["clerk A"])  # a supervisor reassigns any case
    body = r.json()
    assert r.status_code == 200 and body["assignee"] == names["clerk A"]
    assert body["assigned_by"] == f"{names['head']} (key {head_row.key_id})"
    assert [e["assignee"] for e in body["earlier"]] == [names["clerk B"], names["clerk A"]]
    assert body["assigned_at"] >= body["earlier"][0]["assigned_at"] >= body["earlier"][1]["assigned_at"]
    nope = await dev_http.put(
        "/v1/cases/demo_check-00000000000000000000/assignment", json={"assignee": "x"}, headers={"X-API-Key": head}
    )
    assert nope.status_code == 404

    # "mine" is the case assigned to me (A never started or decided it); not B's any more
    async with signed_in(dev_app, a) as clerk_a:
        page = await eventually(lambda: clerk_a.get("/console/"), lambda r: case in queue_rows(r.text, "overdue"), 30)
        assert count(page.text, "overdue", "mine") >= 1
        shown = await clerk_a.get(f"/console/cases/{case}")
        assert f'<strong id="assignee">{names["clerk A"]}</strong>' in shown.text and 'id="assign-form"' in shown.text
    async with signed_in(dev_app, b) as clerk_b:
        assert case not in queue_rows((await clerk_b.get("/console/")).text, "overdue")
        shown = await clerk_b.get(f"/console/cases/{case}")
        assert names["clerk A"] in shown.text and 'id="assign-form"' not in shown.text  # held by A: no form for B
        refused = await clerk_b.post(
            f"/console/cases/{case}/assign", data={"csrf_token": csrf(shown.text), "assignee": b_row.key_id}
        )
        assert refused.status_code == 403
    async with signed_in(dev_app, head, "ru") as supervisor:
        shown = await supervisor.get(f"/console/cases/{case}")
        assert "Назначено" in shown.text and f'<option value="{b_row.key_id}"' in shown.text
        no_token = await supervisor.post(f"/console/cases/{case}/assign", data={"assignee": b_row.key_id})
        assert no_token.status_code == 403
        done = await supervisor.post(
            f"/console/cases/{case}/assign", data={"csrf_token": csrf(shown.text), "assignee": b_row.key_id}
        )
        assert done.status_code == 303 and done.headers["location"] == f"/console/cases/{case}"
        after = await supervisor.get(f"/console/cases/{case}")
        assert f'<strong id="assignee">{names["clerk B"]}</strong>' in after.text
    with session() as s:
        rows = s.exec(select(CaseAssignment).where(CaseAssignment.case_id == case)).all()
    assert [(r.assignee_key, r.assigned_by_key) for r in rows] == [
        (a_row.key_id, a_row.key_id),
        (b_row.key_id, a_row.key_id),
        (a_row.key_id, head_row.key_id),
        (b_row.key_id, head_row.key_id),
    ]


async def blocked_case(http: httpx.AsyncClient, keys: Keys) -> str:
    """A case whose SMS the gateway refuses for good (the outage ends before this returns)."""
    cid = await start_demo(http, keys.staff, datetime.now(UTC))
    await eventually(
        lambda: http.get(f"/v1/cases/{cid}", headers={"X-API-Key": keys.staff}),
        lambda r: "completeness_decision" in r.json()["pending_events"],
    )
    outages.begin("sms_gateway", datetime.now(UTC), None, "gateway contract ended", permanent=True)
    try:
        r = await http.post(
            f"/v1/procedures/demo_check/cases/{cid}/events/completeness_decision",
            json={"complete": True},
            headers={"X-API-Key": keys.staff},
        )
        assert r.status_code == 200, r.text
        await eventually(
            lambda: http.get(f"/v1/cases/{cid}", headers={"X-API-Key": keys.staff}),
            lambda r: r.json()["status"] == "blocked",
        )
    finally:
        outages.end("sms_gateway")
    return cid


async def resume(http: httpx.AsyncClient, keys: Keys, cid: str) -> None:
    r = await http.post(
        f"/v1/procedures/demo_check/cases/{cid}/events/resume_outside_step",
        json={"by": "duty officer (test)"},
        headers={"X-API-Key": keys.staff},
    )
    assert r.status_code == 200, r.text


# --- incidents ---------------------------------------------------------------------------------------------------


@workflow.defn(name="FailingCheck", sandboxed=False)
class FailingCheck:
    """A case whose run fails (as a bug or an unreadable record would fail it)."""

    @workflow.run
    async def run(self, reason: str) -> None:
        raise ApplicationError(reason, non_retryable=True)


async def start_failing(client: Client, reason: str) -> str:
    cid = f"demo_check-failing-{uuid.uuid4().hex[:8]}"
    queue = f"failing-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[FailingCheck]):
        handle = await client.start_workflow(
            FailingCheck.run,
            reason,
            id=cid,
            task_queue=queue,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(sa.PROCEDURE, "demo_check"), SearchAttributePair(sa.STATUS, "completeness_check")]
            ),
        )
        with pytest.raises(Exception):  # noqa: B017 - the run fails, which is the point
            await handle.result()
    return cid


async def test_incidents_list_failed_terminated_and_blocked_cases_never_as_closed(
    dev_app: FastAPI, dev_http: httpx.AsyncClient, dev_env: WorkflowEnvironment, keys: Keys
) -> None:
    failed = await start_failing(dev_env.client, "the registry's answer cannot be read")
    terminated = await start_demo(dev_http, keys.staff, datetime.now(UTC))
    await dev_env.client.get_workflow_handle(terminated).terminate(reason="started twice by mistake")
    blocked = await blocked_case(dev_http, keys)
    try:
        async with signed_in(dev_app, keys.staff) as staff:
            page = await eventually(
                lambda: staff.get("/console/incidents"),
                lambda r: {failed, terminated, blocked} <= set(r.text.split('"')),
            )
            rows = {
                m.group(1): (m.group(2), m.group(0))
                for m in re.finditer(r'<tr data-case="([^"]+)" data-kind="([^"]+)">.*?</tr>', page.text, re.S)
            }
            assert rows[failed][0] == "failed" and "the registry&#39;s answer cannot be read" in rows[failed][1]
            assert rows[terminated][0] == "terminated" and "started twice by mistake" in rows[terminated][1]
            assert rows[blocked][0] == "blocked" and "sms_gateway" in rows[blocked][1]
            assert "gateway contract ended" in rows[blocked][1]
            closed = await found(staff, terminated, state="closed")
            assert closed == []  # never an ordinary closed case
            listed = await staff.get("/console/search", params={"q": terminated, "state": "incidents"})
            assert case_ids(listed.text) == [terminated] and "tag-terminated" in listed.text
            everything = await staff.get("/console/search", params={"q": failed, "state": "all"})
            assert case_ids(everything.text) == [failed] and "tag-failed" in everything.text
            assert "(closed)" not in everything.text
    finally:
        await resume(dev_http, keys, blocked)


# --- the supervisors' inbox -------------------------------------------------------------------------------------


async def test_supervisor_acknowledges_an_escalation_and_who_and_when_is_recorded(
    dev_app: FastAPI, dev_http: httpx.AsyncClient, keys: Keys
) -> None:
    late = await start_demo(dev_http, keys.staff, datetime.now(UTC) - timedelta(days=40))

    def escalation() -> SupervisorNotification | None:
        with session() as s:
            return s.exec(select(SupervisorNotification).where(SupervisorNotification.case_id == late)).first()

    async def stored() -> SupervisorNotification | None:
        return escalation()

    row = await eventually(stored, lambda r: r is not None, seconds=30)
    assert row is not None and row.acknowledged_at is None and row.detail
    other_supervisor = create_key("second supervisor (test)", ["supervisor"])[0]
    async with (
        signed_in(dev_app, keys.staff) as staff,
        signed_in(dev_app, keys.auditor) as auditor,
        signed_in(dev_app, keys.supervisor) as supervisor,
        signed_in(dev_app, other_supervisor) as second,
    ):
        assert (await staff.get("/console/inbox")).status_code == 403
        async with signed_in(dev_app, keys.staff, "ru") as in_russian:  # the page says why in its language
            denied = await in_russian.get("/console/inbox", headers={"Accept": "text/html"})
            assert denied.status_code == 403 and "этому ключу нельзя: читать входящие руководителей" in denied.text
        assert 'id="nav-inbox"' not in (await staff.get("/console/")).text
        seen = await auditor.get("/console/inbox")
        assert seen.status_code == 200 and f'id="escalation-{row.id}"' in seen.text
        assert f'id="ack-{row.id}"' not in seen.text  # auditors read, they do not acknowledge
        page = await supervisor.get("/console/inbox")
        assert f'id="ack-{row.id}"' in page.text and "Term breached" in page.text
        before = int(re.search(r'id="nav-inbox">Inbox \((\d+)\)', page.text).group(1))  # type: ignore[union-attr]
        url = f"/console/inbox/{row.id}/acknowledge"
        assert (await supervisor.post(url, data={})).status_code == 403  # no CSRF token
        assert (await auditor.post(url, data={"csrf_token": csrf(seen.text)})).status_code == 403
        done = await supervisor.post(url, data={"csrf_token": csrf(page.text)})
        assert done.status_code == 303 and done.headers["location"] == "/console/inbox"
        acked = escalation()
        assert acked is not None and acked.acknowledged_at is not None
        assert acked.acknowledged_by is not None and "supervisor (test)" in acked.acknowledged_by
        assert "key " in acked.acknowledged_by
        assert datetime.now(UTC) - acked.acknowledged_at.replace(tzinfo=UTC) < timedelta(minutes=1)
        again = await second.post(url, data={"csrf_token": csrf((await second.get("/console/inbox")).text)})
        assert again.status_code == 303
        assert escalation().acknowledged_by == acked.acknowledged_by  # type: ignore[union-attr]  # the first stands
        after = await supervisor.get("/console/inbox")
        assert f'id="escalation-{row.id}"' not in after.text  # open ones only by default
        assert int(re.search(r'id="nav-inbox">Inbox \((\d+)\)', after.text).group(1)) < before  # type: ignore[union-attr]
        everything = await supervisor.get("/console/inbox?all=1")
        assert f'id="escalation-{row.id}"' in everything.text and "tag-acknowledged" in everything.text
        assert (
            await supervisor.post("/console/inbox/999999999/acknowledge", data={"csrf_token": csrf(page.text)})
        ).status_code == 404


# --- the overview and its exports ---------------------------------------------------------------------------------


async def test_overview_charts_and_csv_exports_for_supervisors_only(
    dev_app: FastAPI, dev_http: httpx.AsyncClient, keys: Keys
) -> None:
    iin = new_iin()
    late = await start_demo(dev_http, keys.staff, datetime.now(UTC) - timedelta(days=40), **person(word(), iin))
    async with signed_in(dev_app, keys.supervisor) as supervisor, signed_in(dev_app, keys.staff) as staff:
        breaches = await eventually(  # the worker records the breach in a moment
            lambda: supervisor.get("/console/overview/breaches.csv"), lambda r: late in r.text, seconds=30
        )
        assert breaches.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(breaches.text.lstrip("\ufeff"))))
        mine = [b for b in table if b["case_id"] == late]
        assert mine and mine[0]["term"] == "completeness_check" and mine[0]["cite"] == "665/NK p.6"
        assert mine[0]["breached_at"].endswith("+05:00")

        page = await supervisor.get("/console/overview")
        assert page.status_code == 200 and overdue_now(page.text, "demo_check") > 0
        assert "<svg" in page.text and "<script" not in page.text and 'style="' not in page.text
        chart = re.search(r'<figure class="chart" id="chart-weeks-demo_check">.*?</figure>', page.text, re.S)
        assert chart and re.search(r'<rect class="breached"[^>]*data-value="[1-9]', chart.group(0))
        overdue = re.search(r'<figure class="chart" id="chart-overdue">.*?</figure>', page.text, re.S)
        assert overdue and re.search(r'<rect class="overdue"[^>]*data-value="[1-9]', overdue.group(0))
        assert 'href="/console/overview/report.html?weeks=8"' in page.text

        cases = await supervisor.get("/console/search.csv", params={"q": late, "state": "all"})
        [row] = list(csv.DictReader(io.StringIO(cases.text.lstrip("\ufeff"))))
        assert row["case_id"] == late and row["overdue"] == "True" and row["procedure"] == "demo_check"
        assert iin not in cases.text and iin not in breaches.text  # no personal data in the exports

        report = await supervisor.get("/console/overview/report.json", params={"weeks": "4"})
        assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
        assert late in {c["case_id"] for c in report.json()["cases"]}

        for url in (
            "/console/overview",
            "/console/overview/breaches.csv",
            "/console/search.csv",
            "/console/overview/report.html",
        ):
            assert (await staff.get(url)).status_code == 403, url
        assert 'href="/console/overview"' not in (await staff.get("/console/")).text
        assert 'id="export-csv"' not in (await staff.get("/console/search")).text


def overdue_now(html: str, procedure: str) -> int:
    m = re.search(rf'<tr data-procedure="{procedure}">.*?class="overdue-now">(\d+)<', html, re.S)
    assert m, f"no row for {procedure}"
    return int(m.group(1))


def test_csv_cells_a_spreadsheet_would_run_are_quoted() -> None:
    rows = [type("R", (), {"a": "=HYPERLINK(1)", "b": datetime(2026, 11, 20, 5, 0, tzinfo=UTC)})()]
    text = search_module.csv_of(rows, ("a", "b"))
    assert text.splitlines()[1] == "'=HYPERLINK(1),2026-11-20T10:00+05:00"


# --- languages ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_the_work_pages_have_no_english_in_kazakh_and_russian(
    dev_app: FastAPI, dev_worker: None, keys: Keys, lang: str
) -> None:
    english = (
        "Work queue",
        "Overdue",
        "Due today",
        "Find a case",
        "Incidents",
        "Inbox",
        "Overview",
        "Acknowledge",
        "Waiting on an outside system",
        "Terms met and breached",
        "Sort by",
        "cases found",
        "No incidents",
    )
    async with signed_in(dev_app, keys.supervisor, lang) as supervisor:
        for url in (
            "/console/?scope=team",
            "/console/search",
            "/console/incidents",
            "/console/inbox?all=1",
            "/console/overview",
        ):
            page = await supervisor.get(url)
            assert page.status_code == 200, url
            visible = re.sub(r"<[^>]+>", " ", page.text)
            leaked = [w for w in english if re.search(rf"\b{w}\b", visible)]
            assert leaked == [], f"{url} in {lang}: {leaked}"


# --- in the browser -------------------------------------------------------------------------------------------


@pytest.mark.browser
async def test_work_queue_and_search_in_the_browser(
    browser: FreshBrowser,
    console_url: str,
    dev_http: httpx.AsyncClient,
    keys: Keys,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    surname, iin, phone = word(), new_iin(), new_phone()
    late = await start_demo(
        dev_http, keys.staff, datetime.now(UTC) - timedelta(days=40), phone=phone, **person(f"{surname} Asan", iin)
    )
    try:
        page = await browser.new_page(locale="en-GB")
        await page.goto(f"{console_url}/console/")
        await page.get_by_role("link", name="English").click()
        await page.fill("#api_key", keys.staff)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("h1")).to_have_text("Work queue")  # the landing page
        for _ in range(120):  # the breach is recorded by the worker in a moment
            if await page.locator(f'#queue-overdue tr[data-case="{late}"]').count():
                break
            await asyncio.sleep(0.25)
            await page.reload()
        row = page.locator(f'#queue-overdue tr[data-case="{late}"]')
        await expect(row).to_contain_text("overdue")
        await expect(row).to_contain_text("+05:00")
        mine = page.locator('#queue-counts tr[data-group="overdue"] td.mine')
        assert int(await mine.inner_text()) >= 1
        await page.screenshot(path=str(ARTIFACTS / "console-work-queue.png"), full_page=True)
        await page.click("#scope-team")
        await expect(page.locator("#scope-team")).to_have_class(re.compile(r"\bon\b"))
        await expect(page.locator(f'#queue-overdue tr[data-case="{late}"]')).to_have_count(1)

        await page.get_by_role("link", name="Find a case").click()
        await expect(page.locator("h1")).to_have_text("Find a case")
        await page.fill("#q", f"{iin[:6]} {iin[6:]}")
        await page.select_option("#procedure", "demo_check")
        await page.select_option("#state", "all")
        await page.click("#search-submit")
        await expect(page.locator(f'#cases tr[data-case="{late}"]')).to_have_count(1)
        await page.fill("#q", "8" + phone[2:])
        await page.click("#search-submit")
        await expect(page.locator(f'#cases tr[data-case="{late}"]')).to_have_count(1)
        await page.fill("#q", f"asan {surname.lower()}")
        await page.click("#search-submit")
        await expect(page.locator(f'#cases tr[data-case="{late}"]')).to_have_count(1)
        await page.screenshot(path=str(ARTIFACTS / "console-search.png"), full_page=True)

        await page.get_by_role("link", name="Русский").click()  # the status filter: Russian labels
        await expect(page.locator("h1")).to_have_text("Найти дело")
        option = page.locator('#status option[value="completeness_check"]')
        await expect(option).to_have_text("проверка полноты документов")
        await page.select_option("#status", label="проверка полноты документов")
        await page.click("#search-submit")
        await expect(page).to_have_url(re.compile(r"status=completeness_check"))
        await expect(page.locator(f'#cases tr[data-case="{late}"]')).to_have_count(1)
        await page.screenshot(path=str(ARTIFACTS / "console-search-ru.png"), full_page=True)
        await page.click(f'#cases tr[data-case="{late}"] a')
        await expect(page.locator("#case-id")).to_have_text(late)
    finally:
        await browser.close()
    assert (ARTIFACTS / "console-work-queue.png").stat().st_size > 10_000


@pytest.mark.browser
async def test_supervisor_acknowledges_in_the_inbox_and_reads_the_overview_in_the_browser(
    browser: FreshBrowser, console_url: str, dev_http: httpx.AsyncClient, dev_env: WorkflowEnvironment, keys: Keys
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    late = await start_demo(dev_http, keys.staff, datetime.now(UTC) - timedelta(days=40))
    stopped = await start_demo(dev_http, keys.staff, datetime.now(UTC))
    await dev_env.client.get_workflow_handle(stopped).terminate(reason="started twice by mistake")

    def escalation() -> SupervisorNotification | None:
        with session() as s:
            return s.exec(select(SupervisorNotification).where(SupervisorNotification.case_id == late)).first()

    async def stored() -> SupervisorNotification | None:
        return escalation()

    row = await eventually(stored, lambda r: r is not None, seconds=30)
    assert row is not None
    try:
        page = await browser.new_page(locale="ru-RU")
        await page.goto(f"{console_url}/console/login")
        await page.fill("#api_key", keys.supervisor)
        await page.click("button[type=submit]")
        await expect(page.locator("h1")).to_have_text("Рабочая очередь")
        await page.click("#nav-inbox")
        line = page.locator(f"#escalation-{row.id}")
        await expect(line).to_contain_text("Срок нарушен")
        await expect(line).to_contain_text("+05:00")
        await page.screenshot(path=str(ARTIFACTS / "console-inbox-ru.png"), full_page=True)
        await page.click(f"#ack-{row.id}")  # a plain form post with the session's CSRF token, no script
        await expect(page.locator(".flash")).to_have_text("Подтверждено")
        await expect(page.locator(f"#escalation-{row.id}")).to_have_count(0)
        await page.click("#inbox-all")
        await expect(page.locator(f"#escalation-{row.id} .tag-acknowledged")).to_contain_text("supervisor (test)")

        await page.get_by_role("link", name="Обзор", exact=True).click()
        await expect(page.locator("h1")).to_have_text("Обзор")
        await expect(page.locator("#chart-weeks-demo_check svg rect.breached").first).to_be_attached()
        await page.screenshot(path=str(ARTIFACTS / "console-overview-ru.png"), full_page=True)
        await page.get_by_role("banner").get_by_role("link", name="Инциденты").click()
        await expect(page.locator("h1")).to_contain_text("Инциденты")
        await expect(page.locator(f'#incidents tr[data-case="{stopped}"]')).to_contain_text("прервано")
        await expect(page.locator(f'#incidents tr[data-case="{stopped}"]')).to_contain_text("started twice")
        await page.screenshot(path=str(ARTIFACTS / "console-incidents-ru.png"), full_page=True)
    finally:
        await browser.close()
    acked = escalation()
    assert acked is not None and acked.acknowledged_at is not None


OVERFLOW = """() => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('table'))
    .slice(0, 5)
    .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
"""The first elements outside a table that reach past the window's right edge (what to look at when a page is too
wide)."""


@pytest.mark.browser
async def test_the_work_pages_and_a_case_page_fit_a_390_px_window(
    browser: FreshBrowser, console_url: str, dev_http: httpx.AsyncClient, keys: Keys
) -> None:
    """On a phone-wide window (390 px, and 320) no page is wider than the window: the pages were 680–800 px wide (an
    adversarial run, 2026-12-04), their tables' columns cut off, and a form's fields at least 20–22rem; a wide table
    scrolls in its own box."""
    surname = word()
    cid = await start_demo(dev_http, keys.staff, datetime.now(UTC) - timedelta(hours=1), **person(surname, new_iin()))
    await eventually(
        lambda: dev_http.get(f"/v1/cases/{cid}", headers={"X-API-Key": keys.staff}),
        lambda r: "completeness_decision" in r.json()["pending_events"],
    )
    try:
        page = await browser.new_page(locale="en-GB", viewport={"width": 390, "height": 844})
        await page.goto(f"{console_url}/console/login")
        await page.get_by_role("link", name="English").click()
        await page.fill("#api_key", keys.staff)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("h1")).to_have_text("Work queue")
        pages = ["/console/", f"/console/search?q={surname}&state=all", "/console/outbox", f"/console/cases/{cid}"]
        for width in (390, 320):  # and the narrowest phones': a 22rem field fitted 390 px by a few pixels
            await page.set_viewport_size({"width": width, "height": 844})
            for path in pages:
                await page.goto(f"{console_url}{path}")
                wide = await page.evaluate("document.documentElement.scrollWidth")
                assert wide <= width, (width, path, wide, await page.evaluate(OVERFLOW))
        await expect(page.locator("#event-completeness_decision")).to_have_count(1)  # a form's fields fit too
        await page.screenshot(path=str(ARTIFACTS / "console-case-390px.png"), full_page=True)
    finally:
        await browser.close()
