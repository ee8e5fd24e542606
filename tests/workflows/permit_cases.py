"""Permit cases for the workflow tests of the permit and of the complaints about it: a demo application with a
fresh portal number, a case started through the one start path, a case stopped without locking the test
server's clock."""

from __future__ import annotations

import json
from datetime import datetime, time
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from infra.cases import start_case
from models.mvno_permit import PermitApplication, PermitOutcome
from rules.calendar import ALMATY, WorkingCalendar
from tests.refs import opaque
from workflows.mvno_permit import SPEC, MvnoPermit

DEMO = Path(__file__).resolve().parents[2] / "demo" / "mvno_permit"
CAL = WorkingCalendar()


async def office_morning(env: WorkflowEnvironment) -> datetime:
    """An instant on a working morning (09:00-11:00 Asia/Almaty) by the server's clock: now if it is one, else the
    server is moved to 10:00 of the next working day. A case received then is registered that day, so its results
    are issued as soon as they are decided (665/NK p.6), and a hearing an hour after its notice lies within office
    hours (Annex 1 item 8(2)), whatever the hour the tests run."""
    now = await env.get_current_time()
    local = now.astimezone(ALMATY)
    working = CAL.is_working_day(local.date())
    if working and time(9) <= local.time() < time(11):
        return now
    day = local.date() if working and local.time() < time(9) else CAL.add_working_days(local.date(), 1)
    await env.sleep(datetime.combine(day, time(10), tzinfo=ALMATY) - now)
    return await env.get_current_time()


def received_working_days_ago(days: int, calendar: WorkingCalendar) -> datetime:
    """10:00 Asia/Almaty of the day with ``days`` working days after it up to today by the wall clock, as the edge
    counts a back-dated receipt (``infra.cases.intake_record``). On a day off they are counted back from the last
    working day: counted from the day off itself, a Saturday gave one day fewer and two tests failed (2026-12-05)."""
    today = datetime.now(ALMATY).date()
    last_working = today if calendar.is_working_day(today) else calendar.add_working_days(today, -1)
    return datetime.combine(calendar.add_working_days(last_working, -days), time(10), tzinfo=ALMATY)


async def start_permit_case(
    client: Client, app: PermitApplication, task_queue: str
) -> WorkflowHandle[MvnoPermit, PermitOutcome]:
    """Start ``app``'s case through the one start path; the handle of its run."""
    started = await start_case(client, SPEC, app, task_queue=task_queue)
    # Not pinned to the run: the permit's case continues as new, and queries go to its latest run.
    return client.get_workflow_handle_for(MvnoPermit.run, started.case_id, first_execution_run_id=started.run_id)


def application(received_at: datetime, *, legal_entity: bool = False, **changes: Any) -> PermitApplication:
    """A demo application with a fresh portal number, received at ``received_at``."""
    name = "application_legal_entity.json" if legal_entity else "application.json"
    raw = json.loads((DEMO / name).read_text(encoding="utf-8"))
    raw["application_number"] = opaque("KZ-T-", 10)
    raw["received_at"] = received_at.isoformat()
    raw.update(changes)
    return PermitApplication.model_validate(raw)
