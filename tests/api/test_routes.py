"""The /v1 API (``api.routes``): against the time-skipping server every status code, roles, idempotency and
documents; the routes generated from the real catalogue, every procedure and event documented; listing and
filtering cases through Temporal visibility on the dev server (the time-skipping test server does not implement
listing; the API answers 501 there, tested too).

A property-based run of the OpenAPI schema (schemathesis): no generated request gives a 5xx. The API runs in
uvicorn on a thread of its own, with its own worker, connecting lazily to the dev server (listing needs
visibility). Bounded and deterministic: few examples per operation, derandomized.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlmodel import select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api import idempotency
from api.app import create_app
from api.auth import create_key, revoke_key
from api.problems import field_errors, without_input
from api.temporal import Gateway
from infra.client import data_converter
from infra.db import session
from models.tables import ApiKey, IdempotencyRecord
from tests.api.applications import IIN, application, eventually
from tests.api.conftest import BANK_BIN, Keys
from tests.api.procedures import BANK, SPEC, DemoCheck
from worker import make_worker
from workflows.catalogue import PROCEDURES

START = "/v1/procedures/demo_check/cases"
PENDING = ["completeness_decision", "withdraw"]
SPECS = list(PROCEDURES)


def h(key: str, **extra: str) -> dict[str, str]:
    return {"X-API-Key": key, **extra}


def event_url(case_id: str, event: str) -> str:
    return f"/v1/procedures/demo_check/cases/{case_id}/events/{event}"


async def start(http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment, **overrides: Any) -> str:
    r = await http.post(START, json=application(await env.get_current_time(), **overrides), headers=h(keys.staff))
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


async def case(http: httpx.AsyncClient, keys: Keys, case_id: str) -> dict[str, Any]:
    r = await http.get(f"/v1/cases/{case_id}", headers=h(keys.staff))
    assert r.status_code == 200, r.text
    return dict(r.json())


def assert_problem(r: httpx.Response, status: int, *detail_parts: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = dict(r.json())
    assert body["status"] == status and body["title"] and body["detail"]
    for part in detail_parts:
        assert part in body["detail"], body["detail"]
    return body


async def test_same_application_twice_gives_the_existing_case(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    body = application(await env.get_current_time())
    first = await http.post(START, json=body, headers=h(keys.staff))
    assert first.status_code == 201, first.text
    again = await http.post(START, json=body, headers=h(keys.staff))
    assert again.status_code == 200
    assert again.json()["case_id"] == first.json()["case_id"] and again.json()["created"] is False
    assert first.headers["location"] == f"/v1/cases/{first.json()['case_id']}"
    assert IIN not in first.json()["case_id"]  # keyed hash, no personal data in the id
    view = await eventually(lambda: case(http, keys, first.json()["case_id"]), lambda v: bool(v["deadlines"]))
    [deadline] = view["deadlines"]
    assert deadline["deadline"]["cite"] == "665/NK p.6" and deadline["status"] == "open"
    assert view["pending_events"] == PENDING


async def test_wrong_missing_or_revoked_key_is_401(http: httpx.AsyncClient, keys: Keys) -> None:
    row_key, row = create_key("soon revoked", ["staff"])
    assert revoke_key(row.key_id)
    for headers in ({}, h("nonsense"), h(keys.staff[:-2] + "xx"), h(row_key), {"Authorization": "Bearer wrong"}):
        r = await http.get("/v1/cases/demo_check-0000", headers=headers)
        body = assert_problem(r, 401, "API key")
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "case" not in body["detail"].lower().replace("api key", "")
    ok = await http.get("/v1/cases/demo_check-0000", headers={"Authorization": f"Bearer {keys.auditor}"})
    assert_problem(ok, 404)  # past authentication


async def test_an_operator_key_bound_to_no_organisation_acts_on_nothing(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    """A key made before keys carried a BIN (its row has none) is refused before any lookup: 403, naming the fix."""
    old_key, row = create_key("bank before BINs (test)", [BANK], BANK_BIN)
    with session() as s:
        stored = s.get(ApiKey, row.key_id)
        assert stored is not None
        stored.bin = None
        s.add(stored)
    cid = await start(http, keys, env)
    for target in (cid, "demo_check-doesnotexist0000"):
        r = await http.post(event_url(target, "fee_paid"), json={"amount": 1000}, headers=h(old_key))
        assert_problem(r, 403, "bound to no organisation", "--bin")


async def test_wrong_role_is_403_and_does_not_reveal_whether_the_case_exists(
    http: httpx.AsyncClient,
    keys: Keys,
    env: WorkflowEnvironment,
) -> None:
    real = await start(http, keys, env)
    decision = {"complete": True}
    answers = []
    for cid in (real, "demo_check-doesnotexist0000"):
        r = await http.post(event_url(cid, "completeness_decision"), json=decision, headers=h(keys.antifraud))
        answers.append(assert_problem(r, 403, "completeness_decision"))
        r = await http.post(event_url(cid, "fee_paid"), json={"amount": 1000}, headers=h(keys.staff))
        assert_problem(r, 403, "fee_paid")
        r = await http.get(f"/v1/cases/{cid}", headers=h(keys.bank))
        assert_problem(r, 403)
    assert answers[0]["detail"] == answers[1]["detail"]
    # auditors read, never act
    assert_problem(
        await http.post(START, json=application(await env.get_current_time()), headers=h(keys.auditor)), 403, "start"
    )
    assert (await http.get(f"/v1/cases/{real}", headers=h(keys.auditor))).status_code == 200
    assert (await http.get(f"/v1/cases/{real}", headers=h(keys.supervisor))).status_code == 200


async def test_unknown_case_is_404_and_malformed_id_is_422(http: httpx.AsyncClient, keys: Keys) -> None:
    assert_problem(await http.get("/v1/cases/demo_check-nothing-here", headers=h(keys.staff)), 404, "no such case")
    r = await http.post(
        event_url("demo_check-nothing-here", "completeness_decision"), json={"complete": True}, headers=h(keys.staff)
    )
    assert_problem(r, 404)
    assert_problem(await http.get("/v1/cases/-starts-with-dash", headers=h(keys.staff)), 422)
    assert_problem(await http.get("/v1/nowhere", headers=h(keys.staff)), 404)


async def test_invalid_application_is_422_with_the_field_and_without_the_value(
    http: httpx.AsyncClient,
    keys: Keys,
    env: WorkflowEnvironment,
) -> None:
    bad_iin = "900101300127"
    body = application(
        await env.get_current_time(), applicant={"kind": "individual", "iin": bad_iin, "name": "Асан"}, attachments=[]
    )
    r = await http.post(START, json=body, headers=h(keys.staff))
    problem = assert_problem(r, 422)
    locs = {e["loc"] for e in problem["errors"]}
    assert "body.applicant.individual.iin" in locs and "body.attachments" in locs
    assert bad_iin not in r.text and "Асан" not in r.text


@pytest.mark.parametrize(
    ("field", "value", "rule", "hidden"),
    [
        ("phone", "+7 999 123 45 67", "not a Kazakhstan mobile number", ["999 123", "9991234567"]),
        ("iin", "900101300127", "check digit is wrong", ["900101", "expected"]),
        ("iin", "901301300126", "does not start with a real birth date", ["901301"]),
        ("iin", "900101700121", "7th digit (century and sex) must be 1–6", ["900101", "got"]),
    ],
)
async def test_a_422_names_the_field_and_the_rule_never_the_personal_value(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment, field: str, value: str, rule: str, hidden: list[str]
) -> None:
    name = "Асан Серікұлы Жұмабаев"
    applicant = {"kind": "individual", "iin": value if field == "iin" else IIN, "name": name}
    body = application(
        await env.get_current_time(), applicant=applicant, **({field: value} if field == "phone" else {})
    )
    r = await http.post(START, json=body, headers=h(keys.staff))
    problem = assert_problem(r, 422)
    loc = "body.phone" if field == "phone" else "body.applicant.individual.iin"
    [error] = [e for e in problem["errors"] if e["loc"] == loc]
    assert rule in error["msg"], error
    for part in [value, name, *hidden]:
        assert part not in r.text, (part, r.text)


def test_whatever_a_message_quotes_of_the_rejected_value_is_cut_out() -> None:
    assert without_input("not a number: '+7 701 123 45 67'", "+7 701 123 45 67") == "not a number: …"
    assert without_input("got 77011234567 (as 7701 123 4567)", "77011234567") == "got … (as …)"
    assert without_input("IIN 90010130012… cannot exist", "900101300129") == "IIN …… cannot exist"
    assert without_input("must be 1–6, got 7", "900101700121") == "must be 1–6, got 7"  # no run of 4 digits
    assert without_input("Input should be a valid string", None) == "Input should be a valid string"


def test_a_refused_tag_is_not_quoted_back_by_the_api_or_the_command_line() -> None:
    """A discriminated union's refusal quoted the tag it was given, with the enums' reprs: an IIN or a name typed into
    ``way_in`` or ``kind`` came back in the 422 and in the command line's message (the second adversarial run of
    2026-12-03). The input there is the whole object, so hiding the value did not find it."""
    from pydantic import ValidationError

    from cli.body import problems
    from models.fraud_check import FraudCaseInput

    for tag in ("900101300126", "Асанов Асан"):
        try:
            FraudCaseInput.model_validate({"first": {"way_in": tag, "ref": "x"}})
        except ValidationError as exc:
            [error] = field_errors(exc)
            assert error.loc == "first" and tag not in error.msg and "WayIn." not in error.msg, error.msg
            assert error.msg.startswith("'way_in' must be one of: 'subscriber_report'"), error.msg
            assert tag not in problems(exc) and "'way_in' must be one of" in problems(exc)
        else:
            raise AssertionError(f"{tag!r} taken as a way in")


def test_a_field_the_model_does_not_have_is_not_named_by_the_key_given() -> None:
    """An unknown field's key was the error's location in the 422 and the command line's message, so a key that is an
    IIN or a name came back (the third adversarial run of 2026-12-03)."""
    from pydantic import ValidationError

    from cli.body import problems
    from models.complaint import ComplaintInput

    demo = Path(__file__).resolve().parents[2] / "demo" / "complaint" / "complaint.json"
    raw = json.loads(demo.read_text(encoding="utf-8"))
    for key in ("900101300126", "Asel Nurlanovna Bekova", "iin_900101300126"):
        for body in (raw | {key: "x"}, raw | {"complainant": raw["complainant"] | {key: "x"}}):
            try:
                ComplaintInput.model_validate(body)
            except ValidationError as exc:
                [error] = field_errors(exc)
                assert key not in error.loc and key not in problems(exc), (error, problems(exc))
                assert error.loc.endswith("(a field it does not have)"), error.loc
            else:
                raise AssertionError("an unknown field taken")
    # a misspelt field's name is worth naming, and is
    try:
        ComplaintInput.model_validate(raw | {"recieved_at": "x"})
    except ValidationError as exc:
        assert [e.loc for e in field_errors(exc)] == ["recieved_at"]


def test_a_message_that_names_only_the_constraint_keeps_it_whole() -> None:
    """A value that looks like part of the pattern, the choices or the bound (``"665/NK "`` for ``^(58|665/NK)$``) hid
    that part of the rule (an adversarial run, 2026-12-03): those messages never quote the value, and are kept."""
    from pydantic import ValidationError

    from api.validation import message
    from models.complaint import ComplaintInput

    demo = Path(__file__).resolve().parents[2] / "demo" / "complaint" / "complaint.json"
    raw = json.loads(demo.read_text(encoding="utf-8"))
    for odd in ("665/NK ", "665/NK\n", " 58"):
        try:
            ComplaintInput.model_validate(raw | {"act_key": odd})
        except ValidationError as exc:
            [error] = exc.errors()
            assert "^(58|665/NK)$" in message(error, "en"), message(error, "en")
            assert [e.msg for e in field_errors(exc)] == ["String should match pattern '^(58|665/NK)$'"]
        else:
            raise AssertionError(f"{odd!r} taken as an act")


async def test_validator_refusal_is_422_and_events_out_of_turn_are_409(
    http: httpx.AsyncClient,
    keys: Keys,
    env: WorkflowEnvironment,
) -> None:
    cid = await start(http, keys, env)
    await eventually(lambda: case(http, keys, cid), lambda v: v["pending_events"] == PENDING)
    # the workflow's validator refuses: 422 with its message
    r = await http.post(event_url(cid, "completeness_decision"), json={"complete": False}, headers=h(keys.staff))
    assert_problem(r, 422, "needs the reason (665/NK p.6)")
    # an operator event before its time: 409, naming neither the case's status nor what it accepts now
    r = await http.post(event_url(cid, "fee_paid"), json={"amount": 1000}, headers=h(keys.bank))
    problem = assert_problem(r, 409, "fee_paid does not fit")
    assert "completeness_decision" not in r.text and "status" not in problem["detail"]
    r = await http.post(event_url(cid, "completeness_decision"), json={"complete": True}, headers=h(keys.staff))
    assert r.status_code == 200, r.text
    assert r.json() == {"case_id": cid, "event": "completeness_decision", "result": "recorded"}
    view = await eventually(lambda: case(http, keys, cid), lambda v: v["status"] == "awaiting_fee")
    assert view["deadlines"][0]["status"] == "met"
    # the same decision again no longer fits
    r = await http.post(event_url(cid, "completeness_decision"), json={"complete": True}, headers=h(keys.staff))
    assert_problem(r, 409, "does not fit")
    # the bank's validator refuses a wrong amount (422, its message: it names only what the bank sent), takes the
    # right one
    assert_problem(
        await http.post(event_url(cid, "fee_paid"), json={"amount": 5}, headers=h(keys.bank)), 422, "1000 tenge"
    )
    assert (await http.post(event_url(cid, "fee_paid"), json={"amount": 1000}, headers=h(keys.bank))).status_code == 200
    view = await eventually(lambda: case(http, keys, cid), lambda v: v["closed"])
    assert view["outcome"] == "accepted"
    # a closed case takes nothing: 409 ("closed" to the back office, "does not fit" to an operator system)
    r = await http.post(event_url(cid, "fee_paid"), json={"amount": 1000}, headers=h(keys.bank))
    assert_problem(r, 409, "fee_paid does not fit")
    r = await http.post(event_url(cid, "completeness_decision"), json={"complete": True}, headers=h(keys.staff))
    assert_problem(r, 409, "closed")


async def test_documents_and_their_signatures_are_served(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    cid = await start(http, keys, env)
    await eventually(lambda: case(http, keys, cid), lambda v: v["pending_events"] == PENDING)
    r = await http.post(
        event_url(cid, "completeness_decision"), json={"complete": False, "reason": "no charter"}, headers=h(keys.staff)
    )
    assert r.status_code == 200, r.text
    view = await eventually(lambda: case(http, keys, cid), lambda v: v["closed"])
    [doc] = view["documents"]
    r = await http.get(f"/v1/cases/{cid}/documents/{doc['doc_id']}", headers=h(keys.auditor))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert hashlib.sha256(r.content).hexdigest() == doc["sha256"]
    sig = await http.get(f"/v1/cases/{cid}/documents/{doc['doc_id']}.p7s", headers=h(keys.auditor))
    assert sig.status_code == 200 and sig.headers["content-type"] == "application/pkcs7-signature"
    assert sig.content[:1] == b"\x30"  # DER SEQUENCE: a CMS ContentInfo
    other = await start(http, keys, env)
    assert_problem(await http.get(f"/v1/cases/{other}/documents/{doc['doc_id']}", headers=h(keys.staff)), 404)
    assert_problem(await http.get(f"/v1/cases/{cid}/documents/{doc['doc_id']}", headers=h(keys.bank)), 403)


async def test_idempotency_key_replays_creation_and_refuses_another_body(
    http: httpx.AsyncClient,
    keys: Keys,
    env: WorkflowEnvironment,
) -> None:
    now = await env.get_current_time()
    body = application(now)
    first = await http.post(START, json=body, headers=h(keys.staff, **{"Idempotency-Key": "start-1"}))
    again = await http.post(START, json=body, headers=h(keys.staff, **{"Idempotency-Key": "start-1"}))
    assert first.status_code == again.status_code == 201  # the stored response, not "exists already" (200)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    # the same request serialised anew (indented, keys in another order), as a client library may on a retry
    reformatted = json.dumps(dict(reversed(list(body.items()))), indent=2).encode()
    headers = h(keys.staff, **{"Idempotency-Key": "start-1", "Content-Type": "application/json"})
    third = await http.post(START, content=reformatted, headers=headers)
    assert third.status_code == 201 and third.json() == first.json(), third.text
    other = await http.post(START, json=application(now), headers=h(keys.staff, **{"Idempotency-Key": "start-1"}))
    assert_problem(other, 422, "different request body")
    # keys are per client: the same key from another client is a different request
    r = await http.post(START, json=body, headers=h(keys.supervisor, **{"Idempotency-Key": "start-1"}))
    assert_problem(r, 403)
    assert_problem(await http.post(START, json=body, headers=h(keys.staff, **{"Idempotency-Key": "bad key\n"})), 422)


async def test_idempotency_key_makes_a_retried_event_safe(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    cid = await start(http, keys, env)
    await eventually(lambda: case(http, keys, cid), lambda v: v["pending_events"] == PENDING)
    url, hdr = event_url(cid, "completeness_decision"), h(keys.staff, **{"Idempotency-Key": f"decide-{cid}"})
    first = await http.post(url, json={"complete": True}, headers=hdr)
    await eventually(lambda: case(http, keys, cid), lambda v: v["status"] == "awaiting_fee")
    retry = await http.post(url, json={"complete": True}, headers=hdr)
    assert first.status_code == retry.status_code == 200 and retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    # without the key the same request is a second decision, which no longer fits
    assert_problem(await http.post(url, json={"complete": True}, headers=h(keys.staff)), 409)


def forget_success(case_id: str) -> None:
    """The state an API killed after the case took the request, before it recorded the success, leaves behind:
    the key claimed, no answer recorded."""
    with session() as s:
        recs = list(s.exec(select(IdempotencyRecord).where(IdempotencyRecord.case_id == case_id)))
        assert recs, "no idempotency record names the case"
        for rec in recs:
            rec.status_code = rec.case_id = rec.run_id = rec.update_id = rec.answer = None
            s.add(rec)


async def accepted_updates(env: WorkflowEnvironment, case_id: str, name: str) -> int:
    history = await env.client.get_workflow_handle(case_id).fetch_history()
    return sum(
        1
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name == name
    )


async def test_a_retry_after_the_api_died_before_recording_gets_the_first_answer(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    body = application(await env.get_current_time())
    hdr = h(keys.staff, **{"Idempotency-Key": f"start-{uuid.uuid4()}"})
    first = await http.post(START, json=body, headers=hdr)
    assert first.status_code == 201, first.text
    cid = first.json()["case_id"]
    forget_success(cid)
    retry = await http.post(START, json=body, headers=hdr)  # the case is there: "opened" again, not "existing"
    assert retry.status_code == 201 and retry.json() == first.json(), retry.text

    await eventually(lambda: case(http, keys, cid), lambda v: v["pending_events"] == PENDING)
    url, hdr = event_url(cid, "completeness_decision"), h(keys.staff, **{"Idempotency-Key": f"decide-{cid}"})
    decided = await http.post(url, json={"complete": True}, headers=hdr)
    assert decided.status_code == 200, decided.text
    await eventually(lambda: case(http, keys, cid), lambda v: v["status"] == "awaiting_fee")
    forget_success(cid)
    retry = await http.post(url, json={"complete": True}, headers=hdr)  # the decision no longer fits: 409 before
    assert retry.status_code == 200 and retry.json() == decided.json(), retry.text
    assert await accepted_updates(env, cid, "completeness_decision") == 1

    closing = await start(http, keys, env)  # an event that closes the case: the retry finds it in the closed run
    await eventually(lambda: case(http, keys, closing), lambda v: v["pending_events"] == PENDING)
    url, hdr = event_url(closing, "withdraw"), h(keys.staff, **{"Idempotency-Key": f"withdraw-{closing}"})
    withdrawn = await http.post(url, headers=hdr)
    assert withdrawn.status_code == 200, withdrawn.text
    await eventually(lambda: case(http, keys, closing), lambda v: v["closed"])
    forget_success(closing)
    retry = await http.post(url, headers=hdr)
    assert retry.status_code == 200 and retry.json() == withdrawn.json(), retry.text


async def test_a_refusal_is_not_the_keys_answer_for_good(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    cid = await start(http, keys, env)
    await eventually(lambda: case(http, keys, cid), lambda v: v["pending_events"] == PENDING)
    fee = event_url(cid, "fee_paid"), h(keys.bank, **{"Idempotency-Key": f"fee-{cid}"})
    early = await http.post(fee[0], json={"amount": 1000}, headers=fee[1])
    assert_problem(early, 409, "does not fit")  # no fee is due yet: refused, and nothing reached the case
    decided = await http.post(event_url(cid, "completeness_decision"), json={"complete": True}, headers=h(keys.staff))
    assert decided.status_code == 200, decided.text
    await eventually(lambda: case(http, keys, cid), lambda v: v["status"] == "awaiting_fee")
    paid = await http.post(fee[0], json={"amount": 1000}, headers=fee[1])  # the same request, now in its turn
    assert paid.status_code == 200 and paid.json()["result"] == "paid", paid.text
    assert "idempotent-replayed" not in paid.headers


async def test_identical_requests_at_once_get_one_answer_and_the_case_takes_one_event(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    body = application(await env.get_current_time())
    hdr = h(keys.staff, **{"Idempotency-Key": f"start-{uuid.uuid4()}"})
    starts = await asyncio.gather(*(http.post(START, json=body, headers=hdr) for _ in range(8)))
    assert {r.status_code for r in starts} == {201}, [r.text for r in starts]
    assert len({r.json()["case_id"] for r in starts}) == 1
    cid = starts[0].json()["case_id"]
    await eventually(lambda: case(http, keys, cid), lambda v: v["pending_events"] == PENDING)
    url, hdr = event_url(cid, "completeness_decision"), h(keys.staff, **{"Idempotency-Key": f"decide-{cid}"})
    answers = await asyncio.gather(*(http.post(url, json={"complete": True}, headers=hdr) for _ in range(12)))
    assert [r.status_code for r in answers] == [200] * 12, [r.text for r in answers]
    assert all(r.json() == answers[0].json() for r in answers)
    assert await accepted_updates(env, cid, "completeness_decision") == 1


async def test_idempotency_records_hold_digests_never_bodies_and_are_purged_after_a_day(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = application(await env.get_current_time(), phone="+77017654321")
    key = f"start-{uuid.uuid4()}"
    first = await http.post(START, json=body, headers=h(keys.staff, **{"Idempotency-Key": key}))
    assert first.status_code == 201, first.text
    with session() as s:
        [rec] = s.exec(select(IdempotencyRecord).where(IdempotencyRecord.case_id == first.json()["case_id"]))
    stored = " ".join(str(v) for v in rec.model_dump().values())
    for value in (IIN, "Асан", "7017654321", key):
        assert value not in stored
    # a day later the record is gone and the key is free: another body with it is a new request, not a 422
    with session() as s:
        row = s.get(IdempotencyRecord, rec.key_sha256)
        assert row is not None
        row.created_at = datetime.now(UTC) - timedelta(hours=24, minutes=1)
        s.add(row)
    monkeypatch.setattr(idempotency, "_last_purge", datetime.min.replace(tzinfo=UTC))
    other = await http.post(
        START, json=application(await env.get_current_time()), headers=h(keys.staff, **{"Idempotency-Key": "other"})
    )
    assert other.status_code == 201  # any keyed request purges what is older than a day
    with session() as s:
        assert s.get(IdempotencyRecord, rec.key_sha256) is None
    later = await http.post(
        START, json=application(await env.get_current_time()), headers=h(keys.staff, **{"Idempotency-Key": key})
    )
    assert later.status_code == 201 and later.json()["case_id"] != rec.case_id, later.text


async def test_the_api_starts_without_temporal_and_answers_503(keys: Keys) -> None:
    async def unreachable() -> Any:
        raise RuntimeError("connection refused")

    app: FastAPI = create_app(procedures={SPEC.key: SPEC}, gateway=Gateway(unreachable), secret="x")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/v1/cases/demo_check-0000", headers=h(keys.staff))
        assert_problem(r, 503, "not reachable")
        assert r.headers["retry-after"] == "5"
        assert (await c.get("/healthz")).status_code == 200
        # authentication does not need Temporal
        assert_problem(await c.get("/v1/cases"), 401)


async def test_openapi_documents_every_procedure_route_and_problem_details(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/v1/openapi.json")).json()
    paths = schema["paths"]
    assert "/v1/procedures/demo_check/cases" in paths
    assert "/v1/procedures/demo_check/cases/{case_id}/events/completeness_decision" in paths
    assert "/v1/procedures/demo_check/cases/{case_id}/events/fee_paid" in paths
    assert "/v1/cases" in paths and "/v1/cases/{case_id}" in paths
    start_op = paths["/v1/procedures/demo_check/cases"]["post"]
    assert "application/problem+json" in start_op["responses"]["422"]["content"]
    assert "DemoApplication" in str(start_op["requestBody"])
    assert "Idempotency-Key" in {p["name"] for p in start_op["parameters"]}
    schemes = schema["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key" and schemes["HTTPBearer"]["scheme"] == "bearer"


async def test_procedures_say_what_the_calling_key_may_do(http: httpx.AsyncClient, keys: Keys) -> None:
    [bank_view] = (await http.get("/v1/procedures", headers=h(keys.bank))).json()
    assert bank_view["key"] == "demo_check" and not bank_view["may_start"]
    assert {e["name"]: e["may_send"] for e in bank_view["events"]} == {
        "completeness_decision": False,
        "fee_paid": True,
        "withdraw": False,
        "resume_outside_step": False,
        "apply_calendar_correction": False,
        "migrate_law": False,
    }
    [staff_view] = (await http.get("/v1/procedures", headers=h(keys.staff))).json()
    assert staff_view["may_start"] and staff_view["events"][0]["cite"] == "665/NK p.6"
    assert_problem(await http.get("/v1/procedures"), 401)


async def test_timeline_shows_decisions_deadlines_and_breaches(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    from datetime import timedelta

    now = await env.get_current_time()
    cid = await start(http, keys, env, received_at=(now - timedelta(days=30)).isoformat())  # already late
    await eventually(lambda: case(http, keys, cid), lambda v: v["deadlines"] and v["deadlines"][0]["breached_at"])
    r = await http.post(event_url(cid, "completeness_decision"), json={"complete": True}, headers=h(keys.staff))
    assert r.status_code == 200, r.text
    await eventually(lambda: case(http, keys, cid), lambda v: v["status"] == "awaiting_fee")
    entries = (await http.get(f"/v1/cases/{cid}/timeline", headers=h(keys.auditor))).json()
    kinds = [(e["kind"], e["name"]) for e in entries]
    assert ("breach", "completeness_check") in kinds and ("event", "completeness_decision") in kinds
    assert ("deadline_met", "completeness_check") in kinds and ("activity", "notify_supervisor") in kinds
    breach = next(e for e in entries if e["kind"] == "breach")
    assert breach["cite"] == "665/NK p.6" and "supervisor" in breach["detail"]
    met = next(e for e in entries if e["kind"] == "deadline_met")
    assert met["detail"] == "late"
    instants = [datetime.fromisoformat(e["at"]) for e in entries]  # as instants: "05Z" sorts after "05.02Z"
    assert instants == sorted(instants)
    assert_problem(await http.get(f"/v1/cases/{cid}/timeline", headers=h(keys.bank)), 403)


async def test_an_event_without_payload_has_no_body(
    http: httpx.AsyncClient, keys: Keys, env: WorkflowEnvironment
) -> None:
    body = application(await env.get_current_time())
    cid = (await http.post(START, json=body, headers=h(keys.staff))).json()["case_id"]
    await eventually(lambda: case(http, keys, cid), lambda v: v["pending_events"] == PENDING)
    assert_problem(await http.post(event_url(cid, "withdraw"), headers=h(keys.auditor)), 403)
    r = await http.post(event_url(cid, "withdraw"), headers=h(keys.staff))
    assert r.status_code == 200 and r.json()["result"] == "withdrawn"
    view = await eventually(lambda: case(http, keys, cid), lambda v: v["closed"])
    assert view["outcome"] == "withdrawn" and view["pending_events"] == []
    again = await http.post(START, json=body, headers=h(keys.staff))  # a closed case is not started again
    assert again.status_code == 200 and again.json()["case_id"] == cid
    schema = (await http.get("/v1/openapi.json")).json()
    assert "requestBody" not in schema["paths"]["/v1/procedures/demo_check/cases/{case_id}/events/withdraw"]["post"]


# --- the real catalogue's routes --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_app() -> FastAPI:
    return create_app(secret="real")


async def test_every_procedure_and_event_has_a_documented_route(real_app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=real_app), base_url="http://t") as c:
        schema = (await c.get("/v1/openapi.json")).json()
    for spec in SPECS:
        start = schema["paths"][f"/v1/procedures/{spec.key}/cases"]["post"]
        assert spec.input_model.__name__ in str(start["requestBody"])
        for event in spec.events:
            op = schema["paths"][f"/v1/procedures/{spec.key}/cases/{{case_id}}/events/{event.name}"]["post"]
            assert ("requestBody" in op) == (event.model is not None)


async def test_14_11_the_review_decision_route_cites_the_acts_p10_not_the_five_day_rule(real_app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=real_app), base_url="http://t") as c:
        schema = (await c.get("/v1/openapi.json")).json()
    op = schema["paths"]["/v1/procedures/complaint/cases/{case_id}/events/review_decision"]["post"]
    assert op["summary"] == "Decision of the considering body (58 p.10; 665/NK p.10)"
    assert "art. 25" not in op["summary"]


# --- listing (GET /v1/cases) through Temporal visibility --------------------------------------------------


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

    # a case that closed with a breach outstanding is no longer overdue: the list said so of its row, and still
    # answered it to `overdue=true` (an adversarial run of 2026-12-04)
    await dev_env.client.get_workflow_handle(late_id).terminate(reason="test: closed while overdue")
    closed = await eventually(lambda: listing(running="false"), lambda rows: late_id in ids(rows))
    assert not {c["case_id"]: c for c in closed}[late_id]["overdue"]
    assert late_id not in ids(await listing(overdue="true"))
    # and its view no longer offers the step it was at when Temporal ended it (the API and `case show` did)
    ended = (await dev_http.get(f"/v1/cases/{late_id}", headers=hdr)).json()
    assert ended["closed"] and ended["outcome"] == "terminated" and ended["pending_events"] == [], ended

    bad = await dev_http.get("/v1/cases", params={"procedure": "900101300126"}, headers=hdr)
    assert bad.status_code == 422 and "unknown procedure" in bad.json()["detail"] and "900101300126" not in bad.text
    bad = await dev_http.get("/v1/cases", params={"status": "x' OR 1=1"}, headers=hdr)
    assert bad.status_code == 422
    assert (await dev_http.get("/v1/cases", headers={"X-API-Key": keys.bank})).status_code == 403


async def test_listing_on_a_server_without_visibility_is_501(http: httpx.AsyncClient, keys: Keys) -> None:
    r = await http.get("/v1/cases", headers={"X-API-Key": keys.staff})
    assert r.status_code == 501 and r.headers["content-type"].startswith("application/problem+json")


# --- every generated request (schemathesis) ---------------------------------------------------------------

QUEUE = "api-schemathesis"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module", params=["test_procedure", "registry"])
def live_api(request: pytest.FixtureRequest, dev_env: WorkflowEnvironment) -> Iterator[str]:
    """The API for the test-only procedure, then for every registered procedure (with the real worker)."""
    target = dev_env.client.service_client.config.target_host
    port = _free_port()
    queue = f"{QUEUE}-{request.param}"

    async def connect() -> Client:
        return await Client.connect(target, data_converter=data_converter())

    procedures = {SPEC.key: SPEC} if request.param == "test_procedure" else None
    app = create_app(procedures=procedures, gateway=Gateway(connect), task_queue=queue, secret="schema")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))

    async def main() -> None:
        client = await connect()
        workflows = [DemoCheck] if request.param == "test_procedure" else None  # None: every registered one
        async with make_worker(client, task_queue=queue, workflows=workflows):
            await server.serve()

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_no_generated_request_gives_a_server_error(live_api: str, keys: Keys) -> None:
    schema = schemathesis.openapi.from_url(f"{live_api}/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    failures: list[str] = []
    seen: Counter[int] = Counter()
    for op in operations:

        @given(case=op.as_strategy())
        @settings(
            max_examples=12, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                base_url=live_api, headers={"X-API-Key": keys.staff}, checks=[not_a_server_error], timeout=30
            )
            seen[response.status_code] += 1

        try:
            run()
        except Exception as exc:
            failures.append(f"{op.label}: {str(exc)[:2000]}")
    assert failures == []
    # the run reached past authentication and validation, into Temporal
    assert sum(seen.values()) >= 3 * len(operations)
    assert seen[200] and seen[404] and seen[422], seen
