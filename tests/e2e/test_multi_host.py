"""More than one host (issue 18 item 3): the API and two workers run as if on three hosts, each with a data
directory of its own and no file in common, sharing only configuration: the key material ``starter.py keys init``
made (``KZ_KEY_GENERATION=false``: nobody may invent a key), one Temporal server and one PostgreSQL database for
all our tables. A contract signing (its EDS password sealed at the API, unsealed in a worker), an MVNO permit and a
fraud sweep taken in in bulk by the back office's ``starter.py`` run across them; one worker is SIGKILLed mid-way
and the cases finish on the other."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.otp import LINK_BASE
from adapters.local_ca import verify_cms
from infra.db import engine_for
from models.tables import (
    AntifraudCentreMessage,
    ApiKey,
    CaseIndexEntry,
    Document,
    PermitRecord,
    SignedContract,
    SmsOutbox,
    StartLedger,
    SubscriberKey,
)
from tests.e2e.procs import ROOT, SHORT_ATTEMPTS, DevServer
from tests.e2e.procs import FreshApiProcess as ApiProcess  # several hosts: a fresh interpreter each
from tests.e2e.procs import FreshWorkerProcess as WorkerProcess  # several hosts: a fresh interpreter each
from tests.e2e.scenarios import DEMO
from tests.e2e.test_operator_keys import last_office_morning
from tests.postgres import find_binaries, postgres_server

pytestmark = pytest.mark.e2e

TECH_BIN, PAGE_BIN, BIO_BIN = "941240000341", "051140004562", "120440007898"
PASSWORD = "Qazaq2026!"


def _host_env(data: Path, shared: dict[str, str]) -> dict[str, str]:
    """One host's environment: its own data directory, and nothing from the test process's (its KZ_ settings)."""
    return {
        **{k: "" for k in os.environ if k.startswith("KZ_")},
        **shared,
        "KZ_DATA_DIR": str(data),
        "KZ_CALENDAR_OVERRIDES": str(ROOT / "rules" / "data" / "calendar_overrides.toml"),
        "KZ_FUTURE_TOLERANCE_SECONDS": "300",
        "KZ_GRACEFUL_SHUTDOWN_SECONDS": "0",
        "KZ_SESSION_COOKIE_SECURE": "false",
    }


@dataclass
class Hosts:
    api: ApiProcess
    workers: list[WorkerProcess]
    http: httpx.AsyncClient
    temporal: Client
    db: Engine
    shared: dict[str, str]
    dirs: dict[str, Path]
    keys: dict[str, dict[str, str]]

    async def view(self, case_id: str, ok: Callable[[dict[str, Any]], bool], timeout: float = 90) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            r = await self.http.get(f"/v1/cases/{case_id}", headers=self.keys["staff"])
            if r.status_code == 200 and ok(r.json()):
                return dict(r.json())
            assert time.monotonic() < end, f"{case_id}: {r.text[:500]}"
            await asyncio.sleep(0.2)

    async def send(self, procedure: str, case_id: str, event: str, who: str, body: Any = None) -> Any:
        url = f"/v1/procedures/{procedure}/cases/{case_id}/events/{event}"
        for _ in range(60):  # a case whose worker was just killed answers once the other takes its task
            r = await self.http.post(url, json=body, headers=self.keys[who])
            if r.status_code not in (500, 502, 503, 504):
                break
            await asyncio.sleep(0.5)
        assert r.is_success, f"{event}: {r.status_code} {r.text[:500]}"
        return r.json()["result"]

    def rows(self, model: Any, case_ids: list[str]) -> int:
        with Session(self.db) as s:
            return int(s.exec(select(func.count()).select_from(model).where(col(model.case_id).in_(case_ids))).one())


def _key_material(tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "keys.env"
    env = _host_env(tmp_path / "keymaker", {})
    done = subprocess.run(
        [sys.executable, "starter.py", "keys", "init", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


@pytest.fixture
async def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hosts]:
    found = find_binaries()
    if isinstance(found, str):
        pytest.skip(found)
    with postgres_server() as url:
        shared = {**_key_material(tmp_path), "KZ_KEY_GENERATION": "false", "KZ_DATABASE_URL": url, **SHORT_ATTEMPTS}
        # The test plays the back office's database administrator: API keys and the local registries' people are
        # written straight into the shared database (the hosts read them from there).
        from infra.settings import settings

        monkeypatch.setattr(settings(), "database_url", url)
        from api.auth import create_key

        keys = {
            "staff": create_key("back office (multi-host)", ["staff"])[0],
            "tech": create_key("AlmaTel technician app", ["operator:almatel_technician"], TECH_BIN)[0],
            "page": create_key("AlmaTel signing page", ["operator:almatel_signing_page"], PAGE_BIN)[0],
            "bio": create_key("Biometric ID", ["operator:biometric_id"], BIO_BIN)[0],
        }
        dirs = {name: tmp_path / name for name in ("api", "w1", "w2")}
        server = DevServer(tmp_path / "temporal.db")
        temporal = await server.start()
        tq = f"hosts-{uuid.uuid4().hex[:6]}"
        workers = [
            WorkerProcess(server.target, tq, tmp_path / f"{w}.log", **_host_env(dirs[w], shared)) for w in ("w1", "w2")
        ]
        api = ApiProcess(server.target, tq, tmp_path / "api.log", **_host_env(dirs["api"], shared))
        try:
            for w in workers:
                w.start()
            api.start()
            async with httpx.AsyncClient(base_url=api.url, timeout=60) as http:
                yield Hosts(
                    api,
                    workers,
                    http,
                    temporal,
                    engine_for(url),
                    shared,
                    dirs,
                    {who: {"X-API-Key": key} for who, key in keys.items()},
                )
        finally:
            api.stop()
            for w in workers:
                w.stop()
            server.stop()
            engine_for(url).dispose()


def _phone_secret(dirs: list[Path], phone: str, sender: str) -> str | None:
    """The code or link token in the latest SMS from ``sender`` to ``phone`` as the phone shows it: the local SMS
    gateway of whichever worker sent it hands it to that host's handset file (the subscriber's phone)."""
    found: list[tuple[str, str]] = []
    for d in dirs:
        path = d / "handsets.jsonl"
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                m = json.loads(line)
                if m["to"] == phone and m["sender"] == sender:
                    found.append((m["at"], m["text"]))
    if not found:
        return None
    text = max(found)[1]
    if LINK_BASE in text:
        return text.split(LINK_BASE, 1)[1]
    code = re.search(r"код (\d{6})", text)
    return code.group(1) if code else None


async def _signing(h: Hosts, iin: str, phone: str) -> str:
    app = {
        "order_ref": f"MH-{uuid.uuid4().hex[:8]}",
        "iin": iin,
        "full_name": "ASANOVA AIGERIM",
        "phone": phone,
        "address": "Almaty, Abai ave. 10",
        "services": ["Home internet"],
        "tariff": "Family+",
        "equipment_serials": ["ONT-1"],
        "received_at": datetime.now(UTC).isoformat(),
    }
    r = await h.http.post("/v1/procedures/contract_eds_signing/cases", json=app, headers=h.keys["tech"])
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


async def _drive_signing(h: Hosts, case_id: str, phone: str, gate: asyncio.Event) -> None:
    proc, phones = "contract_eds_signing", [h.dirs["w1"], h.dirs["w2"]]

    async def secret(sender: str) -> str:
        for _ in range(300):
            if (s := _phone_secret(phones, phone, sender)) is not None:
                return s
            await asyncio.sleep(0.1)
        raise AssertionError(f"no SMS from {sender}")

    async def step(event: str, who: str, body: Any = None, *, code_from: str | None = None) -> None:
        await h.view(case_id, lambda v: event in v["pending_events"])
        if code_from is not None:
            # read once the case offers the step: its code or link is then issued for good (an attempt lost with
            # the killed worker after its SMS went out is sent again with a fresh one, the first no longer valid)
            body = {"code": await secret(code_from)}
        answer = await h.send(proc, case_id, event, who, body)
        assert not isinstance(answer, dict) or answer.get("accepted", True), (event, answer)

    await step("technician_code_received", "tech", {"technician_id": "tech-1"})
    await step("open_application", "page", code_from="3344")
    await step("open_signing_page", "page")
    await step("give_privacy_consent", "page", {"accepted": True})
    await step("enter_code", "page", code_from="1414")
    await step("report_biometrics", "bio", {"session_id": f"bio-{case_id}", "passed": True})
    await step("give_eds_consent", "page", {"accepted": True})
    await gate.wait()  # the password is chosen once a worker was killed: a survivor unseals it
    await step("choose_eds_password", "page", {"password": PASSWORD})  # sealed at the API's edge


async def _permit(h: Hosts) -> str:
    app: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    app["application_number"] = f"MH-{uuid.uuid4().hex[:8]}"
    app["received_at"] = last_office_morning().isoformat()
    r = await h.http.post("/v1/procedures/mvno_permit/cases", json=app, headers=h.keys["staff"])
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


async def _permit_decision(h: Hosts, case_id: str, event: str, body: dict[str, Any]) -> None:
    await h.view(case_id, lambda v: event in v["pending_events"])
    await h.send("mvno_permit", case_id, event, "staff", body)


def _bulk(h: Hosts, tmp_path: Path, numbers: list[str]) -> str:
    """The back office's ``starter.py fraud bulk`` on a fourth host (its own data directory, the same settings)."""
    sweep = f"mh-{uuid.uuid4().hex[:6]}"
    csv = tmp_path / f"{sweep}.csv"
    csv.write_text("number,signal,simbox,description\n" + "".join(f"{n},call,yes,gateway\n" for n in numbers))
    env = {
        **_host_env(tmp_path / "office", h.shared),
        "TEMPORAL_ADDRESS": h.api.env["TEMPORAL_ADDRESS"],
        "KZ_TASK_QUEUE": h.api.env["KZ_TASK_QUEUE"],
    }
    done = subprocess.run(
        [sys.executable, "starter.py", "fraud", "bulk", str(csv)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and f"{len(numbers)} cases opened" in done.stdout, done.stdout + done.stderr
    return sweep


def _seed_subscriber(iin: str, phone: str) -> None:
    """The subscriber of the signing: in the state registry, the number in the Mobile Citizens Database."""
    from activities.mobile_citizens import LocalMobileCitizensDatabase
    from activities.state_registry import add_person
    from models.egov_number_connection import ConnectNumberRequest

    add_person(iin, "ASANOVA AIGERIM", document_valid_until=datetime(2999, 12, 31, tzinfo=UTC), consent=True)
    LocalMobileCitizensDatabase().connect(
        ConnectNumberRequest(case_id=f"seed-{uuid.uuid4().hex[:6]}", iin=iin, phone=phone, channel="portal")
    )


async def _workers_that_ran(h: Hosts, case_id: str) -> set[str]:
    """The identities (``pid@host``) of the workers that completed the case's workflow and activity tasks."""
    who: set[str] = set()
    async for ev in h.temporal.get_workflow_handle(case_id).fetch_history_events():
        if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            who.add(ev.workflow_task_completed_event_attributes.identity)
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            who.add(ev.activity_task_started_event_attributes.identity)
    return who


async def test_three_hosts_share_keys_and_database_and_survive_a_killed_worker(hosts: Hosts, tmp_path: Path) -> None:
    h = hosts
    from tests.subscribers import new_iin, new_phone

    iin, phone = new_iin(), new_phone()
    _seed_subscriber(iin, phone)
    rng = random.Random()
    numbers = [f"+7701{rng.randrange(10**7):07d}" for _ in range(3)]

    signing, permit = await _signing(h, iin, phone), await _permit(h)
    sweep = _bulk(h, tmp_path, numbers)
    with Session(h.db) as s:
        fraud = sorted(
            set(s.exec(select(StartLedger.case_id).where(col(StartLedger.source).startswith(f"bulk:{sweep}:"))).all())
        )
    assert len(fraud) == len(numbers)

    # Both workers take tasks; one is killed while the cases are under way.
    gate = asyncio.Event()
    drive = asyncio.create_task(_drive_signing(h, signing, phone, gate))
    await _permit_decision(h, permit, "completeness_decision", {"complete": True, "decided_by": "A. Sadykova"})
    await h.view(permit, lambda v: "qualification_decision" in v["pending_events"])
    await h.view(signing, lambda v: "technician_code_received" not in v["pending_events"])
    killed, survivor = h.workers
    assert killed.proc is not None and survivor.proc is not None
    killed.kill()
    killed_id, survivor_id = f"{killed.proc.pid}@", f"{survivor.proc.pid}@"
    assert h.rows(SignedContract, [signing]) == 0 and h.rows(PermitRecord, [permit]) == 0  # not done yet
    gate.set()

    for case_id in fraud:
        await h.view(case_id, lambda v: "record_check_outcome" in v["pending_events"])
        outcome = {"confirmed": False, "evidence": ["no SIM-box pattern"], "analyst": "Analyst"}
        await h.send("fraud_check", case_id, "record_check_outcome", "staff", outcome)
    await _permit_decision(h, permit, "qualification_decision", {"compliant": True, "decided_by": "B. Omarov"})
    await asyncio.wait_for(drive, timeout=120)

    signed = await h.view(signing, lambda v: v["status"] == "signed")
    assert signed["closed"]
    await h.view(permit, lambda v: v["status"] == "permit_valid")
    for case_id in fraud:
        await h.view(case_id, lambda v: v["closed"])

    # Every outside effect happened once, in the one database.
    assert h.rows(SignedContract, [signing]) == 1 and h.rows(SubscriberKey, [signing]) == 1
    assert h.rows(PermitRecord, [permit]) == 1
    assert h.rows(AntifraudCentreMessage, fraud) == len(fraud)  # the not-confirmed notice (p.120), once each
    with Session(h.db) as s:
        senders = sorted(r.sender for r in s.exec(select(SmsOutbox).where(SmsOutbox.case_id == signing)))
    # the link and the code, once each; a message whose attempt was lost with the killed worker after it went out is
    # sent again with a fresh code, its first no longer valid (see ``_drive_signing``): one resend at most
    assert sorted(set(senders)) == ["1414", "3344"] and len(senders) <= 3, senders
    # The subscriber's signature (made by the worker that unsealed the password) and the provider head's verify
    # under the one CA of the configuration.
    ca_cert = base64.b64decode(h.shared["KZ_CA_CERT"])
    from cryptography import x509

    trusted = x509.load_pem_x509_certificate(ca_cert)
    with Session(h.db) as s:
        docs = s.exec(select(Document).where(col(Document.case_id).in_([signing, permit]))).all()
        assert {d.kind for d in docs if d.signature is not None} >= {"permit"}
        for d in docs:
            if d.signature is not None:
                verify_cms(d.content, d.signature, trusted)
        contract = s.exec(select(SignedContract).where(SignedContract.case_id == signing)).one()
        assert contract.iin == iin
        assert s.exec(select(func.count()).select_from(ApiKey)).one() >= 4
        indexed = s.exec(
            select(CaseIndexEntry.case_id).where(col(CaseIndexEntry.case_id).in_([signing, permit, *fraud]))
        )
        assert set(indexed.all()) == {signing, permit, *fraud}  # the start path's index, by the API and the CLI

    # The cases moved to the survivor: the EDS password was unsealed there after the kill.
    ran = {c: await _workers_that_ran(h, c) for c in [signing, permit, *fraud]}
    assert any(i.startswith(killed_id) for c in ran for i in ran[c]), "the killed worker took no task"
    assert all(any(i.startswith(survivor_id) for i in ran[c]) for c in ran)
    # No host wrote a key, nor a table of ours, into its own directory: all is in the configuration and PostgreSQL.
    for host_dir in h.dirs.values():
        names = {p.name for p in host_dir.iterdir()} if host_dir.exists() else set()
        assert not names & {"ca", "pseudonym-key", "codec-keys.json", "session-secret", "engine.db"}, names
