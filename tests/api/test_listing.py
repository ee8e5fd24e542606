"""Listing and filtering cases through Temporal visibility, on the dev server (the time-skipping test
server does not implement listing; the API answers 501 there, tested too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from tests.api.applications import application, eventually
from tests.api.conftest import Keys

START = "/v1/procedures/demo_check/cases"


async def test_list_filters_by_procedure_status_and_overdue_with_overdue_first(
    dev_http: httpx.AsyncClient,
    keys: Keys,
    dev_env: WorkflowEnvironment,
) -> None:
    hdr = {"X-API-Key": keys.auditor}
    now = datetime.now(UTC)
    fresh = await dev_http.post(START, json=application(now), headers={"X-API-Key": keys.staff})
    late = await dev_http.post(START, json=application(now - timedelta(days=40)), headers={"X-API-Key": keys.staff})
    assert fresh.status_code == late.status_code == 201, (fresh.text, late.text)
    fresh_id, late_id = fresh.json()["case_id"], late.json()["case_id"]

    async def listing(**params: Any) -> list[dict[str, Any]]:
        r = await dev_http.get("/v1/cases", params=params, headers=hdr)
        assert r.status_code == 200, r.text
        return list(r.json())

    def ids(rows: list[dict[str, Any]]) -> list[str]:
        return [c["case_id"] for c in rows]

    overdue = await eventually(lambda: listing(overdue="true"), lambda rows: late_id in ids(rows))
    assert fresh_id not in ids(overdue)
    rows = await eventually(
        lambda: listing(procedure="demo_check", status="completeness_check"),
        lambda rows: {fresh_id, late_id} <= set(ids(rows)),
    )
    first_not_overdue = next(i for i, c in enumerate(rows) if not c["overdue"])
    assert all(c["overdue"] for c in rows[:first_not_overdue])  # overdue first
    by_id = {c["case_id"]: c for c in rows}
    assert by_id[late_id]["overdue"] and by_id[late_id]["working_days_left"] < 0
    assert not by_id[fresh_id]["overdue"] and 0 <= by_id[fresh_id]["working_days_left"] <= 3
    assert by_id[fresh_id]["next_deadline"] is not None

    # the decision moves the case on; the status filter follows it
    r = await dev_http.post(
        f"{START}/{fresh_id}/events/completeness_decision", json={"complete": True}, headers={"X-API-Key": keys.staff}
    )
    assert r.status_code == 200, r.text
    awaiting = await eventually(lambda: listing(status="awaiting_fee"), lambda rows: fresh_id in ids(rows))
    assert late_id not in ids(awaiting)

    bad = await dev_http.get("/v1/cases", params={"procedure": "no_such"}, headers=hdr)
    assert bad.status_code == 422 and "unknown procedure" in bad.json()["detail"]
    bad = await dev_http.get("/v1/cases", params={"status": "x' OR 1=1"}, headers=hdr)
    assert bad.status_code == 422
    assert (await dev_http.get("/v1/cases", headers={"X-API-Key": keys.bank})).status_code == 403


async def test_listing_on_a_server_without_visibility_is_501(http: httpx.AsyncClient, keys: Keys) -> None:
    r = await http.get("/v1/cases", headers={"X-API-Key": keys.staff})
    assert r.status_code == 501 and r.headers["content-type"].startswith("application/problem+json")
