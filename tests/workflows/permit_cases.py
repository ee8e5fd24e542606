"""Permit cases for the workflow tests of the permit and of the complaints about it: a demo application with a
fresh portal number, a case started through the one start path, a case stopped without locking the test
server's clock."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from infra.cases import start_case
from models.mvno_permit import PermitApplication, PermitOutcome
from workflows.mvno_permit import SPEC, MvnoPermit

DEMO = Path(__file__).resolve().parents[2] / "demo" / "mvno_permit"


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
    raw["application_number"] = f"KZ-T-{uuid.uuid4().hex[:10]}"
    raw["received_at"] = received_at.isoformat()
    raw.update(changes)
    return PermitApplication.model_validate(raw)
