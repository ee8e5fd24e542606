"""A biometric verdict belongs to one case (issue 15 item 2), through the HTTP API on the real stack: the dev
server, ``worker.py`` and the API (uvicorn) as processes.

A pass recorded for case A under a session id was returned for case B reporting a failure under the same id, so
B was connected to the e-government account without its biometrics (58 p.9). Now the reused session is refused
and B keeps waiting, the failure B's own session reports is the verdict that counts, and only the biometric
provider's key may report a verdict at all."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from api.auth import create_key
from models.egov_number_connection import Channel
from tests.e2e.api_stack import ApiStack, api_stack
from tests.subscribers import new_phone, person, sms_secret

pytestmark = pytest.mark.e2e

PORTAL, PROVIDER = "030640003219", "120440007898"


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[ApiStack, dict[str, dict[str, str]]]]:
    async with api_stack(tmp_path) as run:
        keys = {
            "staff": create_key("back office (e2e)", ["staff"])[0],
            "portal": create_key("e-gov portal (e2e)", ["operator:egov_portal"], PORTAL)[0],
            "provider": create_key("Biometric ID (e2e)", ["operator:biometric_id"], PROVIDER)[0],
        }
        yield run, {who: {"X-API-Key": key} for who, key in keys.items()}


async def test_a_pass_of_one_case_never_counts_for_another_and_only_the_provider_reports(
    stack: tuple[ApiStack, dict[str, dict[str, str]]],
) -> None:
    run, keys = stack
    staff = keys["staff"]["X-API-Key"]

    async def bank_app_request() -> tuple[str, str]:
        """A request through the bank app (biometrics + one-time password, 58 p.7), started by the portal."""
        phone = new_phone()
        body = {"iin": person(), "phone": phone, "channel": Channel.BANK_APP.value}
        r = await run.http.post(
            "/v1/procedures/egov_number_connection/cases",
            json={**body, "received_at": datetime.now(UTC).isoformat()},
            headers=keys["portal"],
        )
        assert r.status_code == 201, r.text
        case_id = str(r.json()["case_id"])
        await run.case(case_id, staff, lambda v: "report_biometrics" in v["pending_events"], timeout=60)
        return case_id, phone

    def events(case_id: str, event: str) -> str:
        return f"/v1/procedures/egov_number_connection/cases/{case_id}/events/{event}"

    (a, phone_a), (b, _) = await bank_app_request(), await bank_app_request()
    session = f"bio-{uuid.uuid4()}"
    passed: dict[str, Any] = {"session_id": session, "passed": True}
    failed: dict[str, Any] = {"session_id": session, "passed": False, "reason": "face does not match"}

    # A session id names no person: one that reads as an IIN or a phone number is refused before the case takes it
    # (it is recorded in clear in biometric_checks: an adversarial run, 2026-12-04) and not repeated.
    for personal in ("900101300017", "+7 701 123 45 67"):
        r = await run.http.post(
            events(a, "report_biometrics"), json={**passed, "session_id": personal}, headers=keys["provider"]
        )
        assert r.status_code == 422 and "session_id holds what reads as" in r.text, r.text
        assert personal not in r.text and "123 45 67" not in r.text
    assert await run.accepted(a, "report_biometrics") == []
    # ... but a provider's own id is taken whatever digits it holds (a UUID's groups may read as a phone number)
    session = f"{uuid.uuid4().hex[:8]}-7770-4585-85d8-{uuid.uuid4().hex[:12]}"
    passed["session_id"] = failed["session_id"] = session

    # Only the provider reports a verdict: the portal that started the requests may not.
    r = await run.http.post(events(a, "report_biometrics"), json=passed, headers=keys["portal"])
    assert r.status_code == 403, r.text

    r = await run.http.post(events(a, "report_biometrics"), json=passed, headers=keys["provider"])
    assert r.status_code == 200 and r.json()["result"]["passed"] is True, r.text

    # B's failure under A's session id: refused (the provider is told why, about its own session only) ...
    r = await run.http.post(events(b, "report_biometrics"), json=failed, headers=keys["provider"])
    assert r.status_code == 422, r.text
    assert session in r.json()["detail"] and "another case" in r.json()["detail"] and a not in r.text
    # ... and A's pass did not count for B: B still waits for its own verdict, not blocked, not connected.
    view_b = await run.case(b, staff)
    assert "report_biometrics" in view_b["pending_events"] and not view_b["closed"] and view_b["blocked"] is None
    assert [e["session_id"] for e in await run.accepted(b, "report_biometrics")] == [session]  # taken, then failed

    # B's own session reports a failure: that verdict counts, B is not connected (58 p.9).
    own = {**failed, "session_id": f"bio-{uuid.uuid4()}"}
    r = await run.http.post(events(b, "report_biometrics"), json=own, headers=keys["provider"])
    assert r.status_code == 200 and r.json()["result"]["passed"] is False, r.text
    closed_b = await run.case(b, staff, lambda v: v["closed"], timeout=120)
    assert closed_b["outcome"] == "refused", closed_b

    # A's pass counts for A: with its code, A is connected.
    r = await run.http.post(events(a, "enter_otp"), json={"code": sms_secret(phone_a, "1414")}, headers=keys["portal"])
    assert r.status_code == 200 and r.json()["result"]["correct"] is True, r.text
    closed_a = await run.case(a, staff, lambda v: v["closed"], timeout=120)
    assert closed_a["outcome"] == "connected", closed_a
