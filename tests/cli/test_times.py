"""Every instant a person is shown is Asia/Almaty time to the minute, with its offset (issue 17 item 9): the console's
pages and the documents they link, and the command line's ``case show`` and the procedures' ``show`` commands, for a
permit at its hearing, a fraud case with a suspension, and a complaint about the permit. A timestamp with seconds or a
fraction of a second, or with an offset other than +05:00 (UTC, ``Z``), fails the test. Times typed without an offset
(``received_at=…T10:00``, ``hearing.at=…``, ``--received-at``) are Asia/Almaty time.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, time, timedelta
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import create_key
from api.temporal import Gateway
from infra.calendar import current_calendar
from infra.settings import settings
from models.mvno_permit import PermitCaseView
from rules.calendar import ALMATY
from tests.cli.conftest import ROOT, Starter
from tests.cli.test_case import case_id_in, pending
from workflows.catalogue import by_key

TIMESTAMP = re.compile(
    r"(?<!\d)\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"  # a date and a time
    r"(?P<seconds>:\d{2}(?:[.,]\d+)?)?"  # seconds, a fraction
    r"(?P<zone>\s?(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?"  # the zone
)


def wrong_times(text: str) -> list[str]:
    """The timestamps in ``text`` a person should not be shown: with seconds, or not in +05:00."""
    return [
        m.group(0)
        for m in TIMESTAMP.finditer(text)
        if m.group("seconds") or (m.group("zone") and m.group("zone").strip() != "+05:00")
    ]


def test_the_check_itself_catches_what_it_should() -> None:
    assert wrong_times("due 2026-12-04 18:30 +05:00; hearing 2026-12-03T11:00+05:00; day 2026-12-07") == []
    assert wrong_times("at 2026-12-02T00:43:12.123456+00:00") == ["2026-12-02T00:43:12.123456+00:00"]
    assert wrong_times("at 2026-12-02 00:43:12") == ["2026-12-02 00:43:12"]
    assert wrong_times("next 2026-12-02 00:43Z, then 2026-12-02 05:43 +0600") == [
        "2026-12-02 00:43Z",
        "2026-12-02 05:43 +0600",
    ]


async def test_every_instant_shown_is_asia_almaty_to_the_minute(
    env: WorkflowEnvironment, starter: Starter, tmp_path: Path
) -> None:
    cal = current_calendar()
    now = await env.get_current_time()
    today = now.astimezone(ALMATY).date()
    shown: dict[str, str] = {}

    async def run(*args: str) -> str:
        code, out = await starter(*args)
        assert code == 0, (args, out)
        shown[" ".join(args[:3])] = out
        return out

    # a permit from the command line, its times typed without an offset: Asia/Almaty time
    received = f"{cal.add_working_days(today, -1).isoformat()}T10:00"
    app_file = str(ROOT / "demo" / "mvno_permit" / "application_legal_entity.json")
    number = f"TIMES-{uuid.uuid4().hex[:8]}"
    permit = case_id_in(
        await run("case", "start", "mvno_permit", app_file, f"application_number={number}", f"received_at={received}"),
        "mvno_permit",
    )
    await pending(env, permit, "completeness_decision")
    await run("case", "send", permit, "completeness_decision", "complete=true", "decided_by=A. Seitova")
    await pending(env, permit, "qualification_decision")
    hearing = datetime.combine(cal.add_working_days(today, 1), time(11, 0), tzinfo=ALMATY)
    await run(
        "case",
        "send",
        permit,
        "qualification_decision",
        "compliant=false",
        "grounds=non_compliant",
        "findings=no traffic accounting",
        f"hearing.at={hearing:%Y-%m-%dT%H:%M}",
        "hearing.place=Astana, room 401",
        "decided_by=B. Omarov",
    )
    await pending(env, permit, "record_hearing")
    own = await env.client.get_workflow_handle(permit).query("permit_case", result_type=PermitCaseView)
    assert own.hearing is not None and own.hearing.at == hearing  # typed without an offset: Almaty time
    await run("case", "show", permit)
    await run("permit", "show", permit)
    await run("cases", "deadlines", permit)

    # a fraud case: detected (received at a time typed without an offset), confirmed, the number suspended
    suspect = f"+7707{uuid.uuid4().int % 10**7:07d}"
    detected = (now - timedelta(minutes=5)).astimezone(ALMATY)
    at = f"{detected:%Y-%m-%dT%H:%M}"
    out = await run("fraud", "detect", suspect, "--simbox", "--text", "burst", "--received-at", at)
    fraud = case_id_in(out, "fraud_check")
    await run("fraud", "decide", suspect, "--confirmed", "--evidence", "CDR burst", "--analyst", "analyst-07")
    await env.sleep(timedelta(seconds=5))
    await run("fraud", "show", suspect)
    await run("case", "show", fraud)

    # a complaint about the permit
    complaint = json.loads((ROOT / "demo" / "complaint" / "complaint.json").read_text())
    complaint.update(
        complaint_number=f"C-{uuid.uuid4().hex[:8]}",
        appealed_case_id=permit,
        appealed_application_number=None,
        appealed="action",
        received_at=(now - timedelta(minutes=3)).astimezone(ALMATY).isoformat(),  # a file gives the offset
    )
    path = tmp_path / "complaint.json"
    path.write_text(json.dumps(complaint, ensure_ascii=False))
    out = await run("complaint", "file", str(path))
    complaint_id = case_id_in(out, "complaint")
    await env.sleep(timedelta(seconds=2))
    await run("complaint", "show", complaint_id)
    await run("case", "show", complaint_id)

    for command, out in shown.items():
        assert wrong_times(out) == [], (command, out)
    assert "+05:00" in shown[f"case show {permit}"]  # every instant carries its offset

    # the console: the list, the outbox, the start form, each case page and the documents it links
    app = create_app(
        procedures=by_key(),
        gateway=Gateway(client=env.client),
        task_queue=settings().task_queue,
        secret="times",
        secure_cookie=False,
    )
    key = create_key("times (test)", ["staff"])[0]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as http:
        login = await http.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token
        signed = await http.post(
            "/console/login", data={"csrf_token": token.group(1), "api_key": key, "next": "/console/"}
        )
        assert signed.status_code == 303
        pages = ["/console/", "/console/outbox", "/console/start/mvno_permit"]
        pages += [f"/console/cases/{c}" for c in (permit, fraud, complaint_id)]
        seen: dict[str, str] = {}
        for lang in ("en", "kk", "ru"):
            await http.get(f"/console/lang/{lang}?next=/console/")
            for url in pages:
                r = await http.get(url)
                assert r.status_code == 200, (url, r.text[:500])
                seen[f"{lang} {url}"] = r.text
        documents = {
            href
            for text in seen.values()
            for href in re.findall(r'href="(/console/cases/[^"]+/documents/[^"]+)"', text)
            if not href.endswith(".p7s")
        }
        assert any("preliminary_refusal" in d for d in documents)
        for href in documents:
            r = await http.get(href)
            assert r.status_code == 200
            seen[href] = r.text
    for where, text in seen.items():
        assert wrong_times(text) == [], where
    case_page = seen[f"en /console/cases/{permit}"]
    assert hearing.strftime("%Y-%m-%d %H:%M +05:00") in case_page
    assert suspect not in seen[f"en /console/cases/{fraud}"] and suspect[-2:] in seen[f"en /console/cases/{fraud}"]
    permit_run = (await env.client.get_workflow_handle(permit).describe()).run_id  # the run the complaint read
    assert f'href="/console/cases/{permit}?run={permit_run}"' in seen[f"en /console/cases/{complaint_id}"]
