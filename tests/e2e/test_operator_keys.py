"""Operator keys act for their organisation (issue 15 item 1), through the HTTP API on the real stack: the dev
server, ``worker.py`` and the API (uvicorn) as processes; keys made with ``create_key`` and a BIN.

A base operator's key terminated another base operator's MVNO permit, and the refusal of a wrong contract listed
the permit's contract numbers. Now a base operator acts only on the permits whose contracts name its BIN, and
only on its own contracts; the portal only on the requests it submitted; a case that is not the key's
organisation's answers exactly as a missing case; no refusal to an operator key names the case's data."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from api.auth import create_key
from infra.calendar import current_calendar
from models.egov_number_connection import Channel
from rules.calendar import ALMATY
from tests.e2e.api_stack import ApiStack, api_stack
from tests.e2e.scenarios import DEMO
from tests.subscribers import eds_signature, new_phone, person, sms_secret

pytestmark = pytest.mark.e2e

BASE_A, BASE_C, BASE_B = "941240000341", "051140004562", "120440007898"  # B holds no contract of the permit
PORTAL_P, PORTAL_Q = "030640003219", "990340001230"


@dataclass
class Stack:
    run: ApiStack
    keys: dict[str, dict[str, str]]

    @property
    def api(self) -> httpx.AsyncClient:
        return self.run.http


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """One stack for the module's tests: each works on cases and requests of its own (a fresh application number)."""
    async with api_stack(tmp_path_factory.mktemp("keys")) as run:
        keys = {
            "staff": create_key("back office (e2e)", ["staff"])[0],
            "A": create_key("base operator A (e2e)", ["operator:base_operator"], BASE_A)[0],
            "B": create_key("base operator B (e2e)", ["operator:base_operator"], BASE_B)[0],
            "C": create_key("base operator C (e2e)", ["operator:base_operator"], BASE_C)[0],
            "P": create_key("portal P (e2e)", ["operator:egov_portal"], PORTAL_P)[0],
            "Q": create_key("portal Q (e2e)", ["operator:egov_portal"], PORTAL_Q)[0],
        }
        yield Stack(run, {who: {"X-API-Key": key} for who, key in keys.items()})


def last_office_morning() -> datetime:
    """10:00 Asia/Almaty of the latest working day whose 10:00 has passed: a receipt in office hours, so the permit
    is issued at once whatever the hour the test runs (after hours it would wait for the registration day, 665/NK
    p.6)."""
    cal = current_calendar()
    now = datetime.now(UTC).astimezone(ALMATY)
    day = now.date()
    while not cal.is_working_day(day) or datetime.combine(day, time(10), tzinfo=ALMATY) > now:
        day -= timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=ALMATY)


def application() -> dict[str, Any]:
    """The demo legal entity's application: its first contract with base operator A, its second with C."""
    app: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    app["application_number"] = f"KEYS-{uuid.uuid4().hex[:8]}"
    app["received_at"] = last_office_morning().isoformat()
    first, second = app["qualification"]["contracts"][:2]
    first["base_operator_bin"], second["base_operator_bin"] = BASE_A, BASE_C
    return app


async def view(s: Stack, case_id: str, ok: Any, timeout: float = 240) -> dict[str, Any]:
    """The case as staff read it, once ``ok``."""
    return await s.run.case(case_id, s.keys["staff"]["X-API-Key"], ok, timeout)


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k != "instance"}


async def test_a_base_operator_acts_only_on_its_own_contracts_and_learns_nothing_else(stack: Stack) -> None:
    s = stack
    app = application()
    own, other = (c["contract_number"] for c in app["qualification"]["contracts"][:2])
    started = await s.api.post("/v1/procedures/mvno_permit/cases", json=app, headers=s.keys["P"])
    assert started.status_code == 201, started.text
    case_id = started.json()["case_id"]
    # Another portal submitting the same application meets a case that is not its own: refused, no id, no status.
    again = await s.api.post("/v1/procedures/mvno_permit/cases", json=app, headers=s.keys["Q"])
    assert again.status_code == 409 and case_id not in again.text, again.text
    assert (await s.api.post("/v1/procedures/mvno_permit/cases", json=app, headers=s.keys["P"])).json()["answer"] == (
        "existing"
    )

    events = f"/v1/procedures/mvno_permit/cases/{case_id}/events"
    today = (
        datetime.now(UTC).astimezone(ALMATY).date().isoformat()
    )  # a contract event has happened: today at the latest
    terminate = {"kind": "terminated_early", "contract_number": own, "occurred_on": today, "reported_by": "x"}
    # Before the permit is issued, A's event does not fit, and A is not told the case's status.
    await view(s, case_id, lambda v: "completeness_decision" in v["pending_events"])
    early = await s.api.post(f"{events}/contract_event", json=terminate, headers=s.keys["A"])
    assert early.status_code == 409 and "completeness" not in early.text, early.text

    decided = {"complete": True, "decided_by": "A. Sadykova"}
    assert (await s.api.post(f"{events}/completeness_decision", json=decided, headers=s.keys["staff"])).is_success
    await view(s, case_id, lambda v: "qualification_decision" in v["pending_events"])
    compliant = {"compliant": True, "decided_by": "B. Omarov"}
    assert (await s.api.post(f"{events}/qualification_decision", json=compliant, headers=s.keys["staff"])).is_success
    await view(s, case_id, lambda v: v["status"] == "permit_valid")

    # B is no party of this permit: the very answer of a case that does not exist.
    foreign = await s.api.post(f"{events}/contract_event", json=terminate, headers=s.keys["B"])
    missing_id = "mvno_permit-" + "0" * 24
    missing = await s.api.post(
        f"/v1/procedures/mvno_permit/cases/{missing_id}/events/contract_event", json=terminate, headers=s.keys["B"]
    )
    assert foreign.status_code == missing.status_code == 404
    assert without_instance(foreign.json()) == without_instance(missing.json())
    # C is a party, but the contract is A's; a made-up number is refused without listing the permit's contracts.
    not_c = await s.api.post(f"{events}/contract_event", json=terminate, headers=s.keys["C"])
    made_up = await s.api.post(
        f"{events}/contract_event", json={**terminate, "contract_number": "NO-SUCH-1"}, headers=s.keys["C"]
    )
    for r in (not_c, made_up):
        assert r.status_code == 422 and "is not a contract of this permit" in r.json()["detail"], r.text
        assert other not in r.text and "permit_valid" not in r.text
    assert own not in made_up.text and "NO-SUCH-1" not in made_up.text  # nor the value sent (an IIN, perhaps)
    assert (await view(s, case_id, lambda v: True))["status"] == "permit_valid"

    # A terminates its own contract: the permit terminates (Annex 5), and the event records who reported it
    # (the API wrote A's BIN over the one A sent).
    taken = await s.api.post(
        f"{events}/contract_event", json={**terminate, "base_operator_bin": BASE_C}, headers=s.keys["A"]
    )
    assert taken.status_code == 200, taken.text
    await view(s, case_id, lambda v: v["status"] == "permit_terminated")
    assert [e["base_operator_bin"] for e in await s.run.accepted(case_id, "contract_event")] == [BASE_A]


async def test_the_portal_acts_only_on_the_requests_it_submitted(stack: Stack) -> None:
    s = stack
    iin, phone = person(), new_phone()
    request = {
        "iin": iin,
        "phone": phone,
        "channel": Channel.PORTAL.value,
        "received_at": datetime.now(UTC).isoformat(),
    }
    started = await s.api.post("/v1/procedures/egov_number_connection/cases", json=request, headers=s.keys["P"])
    assert started.status_code == 201, started.text
    case_id = started.json()["case_id"]
    await view(s, case_id, lambda v: "enter_otp" in v["pending_events"], timeout=60)
    otp = f"/v1/procedures/egov_number_connection/cases/{case_id}/events/enter_otp"
    code = sms_secret(phone, "1414")

    foreign = await s.api.post(otp, json={"code": code}, headers=s.keys["Q"])
    missing = await s.api.post(
        f"/v1/procedures/egov_number_connection/cases/egov_number_connection-{'0' * 24}/events/enter_otp",
        json={"code": code},
        headers=s.keys["Q"],
    )
    assert foreign.status_code == missing.status_code == 404
    assert without_instance(foreign.json()) == without_instance(missing.json())
    assert "enter_otp" in (await view(s, case_id, lambda v: True))["pending_events"]  # Q's code was not taken

    own = await s.api.post(otp, json={"code": code}, headers=s.keys["P"])
    assert own.status_code == 200 and own.json()["result"]["correct"] is True, own.text

    # what to sign, through the API alone (the portal had to ask Temporal: an adversarial run, 2026-12-04)
    to_sign = f"/v1/cases/{case_id}/payload-to-sign"
    theirs = await s.api.get(to_sign, headers=s.keys["Q"])
    nobody = await s.api.get(f"/v1/cases/egov_number_connection-{'0' * 24}/payload-to-sign", headers=s.keys["Q"])
    assert theirs.status_code == nobody.status_code == 404
    assert without_instance(theirs.json()) == without_instance(nobody.json())
    # the biometric provider reports verdicts in this procedure, but signs nothing: it read the IIN and the number
    biometrics = {"X-API-Key": create_key("biometrics (e2e)", ["operator:biometric_id"], PORTAL_Q)[0]}
    provider = await s.api.get(to_sign, headers=biometrics)
    assert provider.status_code == 404 and without_instance(provider.json()) == without_instance(nobody.json())
    mine = await s.api.get(to_sign, headers=s.keys["P"])
    assert mine.status_code == 200 and case_id in mine.json()["data"], mine.text
    assert (await s.api.get(to_sign, headers=s.keys["staff"])).json() == mine.json()
    body = eds_signature(iin, mine.json()["data"]).model_dump(mode="json")
    signed = await s.api.post(
        f"/v1/procedures/egov_number_connection/cases/{case_id}/events/sign_request", json=body, headers=s.keys["P"]
    )
    assert signed.status_code == 200 and signed.json()["result"]["valid"] is True, signed.text
    # the case's record says which key sent each event, an operator system's too (an adversarial run of 2026-12-04:
    # a permit reopened by the complaints system had nothing in it to say who)
    timeline = (await s.api.get(f"/v1/cases/{case_id}/timeline", headers=s.keys["staff"])).json()
    sent = {e["name"]: e["sent_by"] for e in timeline if e["kind"] == "event"}
    assert sent["enter_otp"] == sent["sign_request"] and "portal P (e2e)" in sent["sign_request"], timeline
    assert f"BIN {PORTAL_P}" in sent["sign_request"]


async def test_a_fraud_case_is_opened_only_with_a_way_in_the_key_may_send(stack: Stack) -> None:
    """A fraud case opens with its first report, an Update the start carries: the key must be one that may send that
    report as an event. The centre's key opening a case with an operator's own detection would have the case send
    the centre the subscriber's data (171 p.118); the back office forging the centre's information likewise."""
    centre = {"X-API-Key": create_key("antifraud centre (e2e)", ["operator:antifraud_centre"], PORTAL_Q)[0]}

    def report(way_in: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "way_in": way_in,
            "ref": f"keys-{uuid.uuid4().hex[:8]}",
            "suspect_number": new_phone(),
            "received_at": datetime.now(UTC).isoformat(),
            "description": "SMS asking for a card code",
        }
        if way_in == "subscriber_report":
            body["reporter_number"] = new_phone()
        return {"first": body}

    url = "/v1/procedures/fraud_check/cases"

    async def cases_listed() -> int:
        listed = await stack.api.get("/v1/cases?procedure=fraud_check", headers=stack.keys["staff"])
        assert listed.status_code == 200, listed.text
        return len(listed.json())

    before = await cases_listed()
    refused = [
        (centre, report("internal_detection")),
        (centre, report("subscriber_report")),
        (stack.keys["staff"], report("centre_information")),
    ]
    for key, body in refused:
        r = await stack.api.post(url, json=body, headers=key)
        assert r.status_code == 403, r.text
        assert r.json()["detail"] == f"this key may not send {body['first']['way_in']}"
        assert body["first"]["suspect_number"] not in r.text
    # what a case writes when it continues as new is not a sender's: the centre's information carried in by the
    # back office (about another number), a check number, a recorded state (found by an adversarial review)
    smuggled = [
        {**report("subscriber_report"), "carried": [report("centre_information")["first"]]},
        {**report("subscriber_report"), "cycle": 7},
    ]
    for body in smuggled:
        r = await stack.api.post(url, json=body, headers=stack.keys["staff"])
        assert r.status_code == 422 and "cycle, carried and state are the case's own" in r.text, r.text
    r = await stack.api.post(url, json={**report("subscriber_report"), "state": {}}, headers=stack.keys["staff"])
    assert r.status_code == 422, r.text
    for key, way_in in ((centre, "centre_information"), (stack.keys["staff"], "subscriber_report")):
        r = await stack.api.post(url, json=report(way_in), headers=key)
        assert r.status_code == 201 and r.json()["answer"] == "opened", r.text
    for _ in range(100):  # the visibility list catches up: the two opened, none of the refused
        if await cases_listed() >= before + 2:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)
    assert await cases_listed() == before + 2
