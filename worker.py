"""The Temporal worker: every procedure's workflow and every activity, on one task queue.

Run: ``python worker.py`` (connection from Temporal's environment configuration, default localhost:7233).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pydantic
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import antifraud, complaints, documents, eds, law, network, sms, subscriber_registry
from activities import deadlines as deadline_activities
from activities.subscriber import SUBSCRIBER_ACTIVITIES
from infra.client import connect
from infra.settings import settings
from workflows.all import WORKFLOWS
from workflows.mvno_permit import ACTIVITIES as MVNO_PERMIT_ACTIVITIES

__all__ = ["ACTIVITIES", "WORKFLOWS", "main", "make_worker"]


# Our leaf packages and their libraries are deterministic to import (no clock, no I/O at import time
# that workflow code could observe) and are passed through the sandbox rather than re-imported.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "rules",
        "models",
        "activities",
        "infra",
        "audit",
        "holidays",
        "phonenumbers",
        "sqlalchemy",
        "sqlmodel",
        "pydantic_settings",
        "jinja2",
        "cryptography",
        "asn1crypto",
    )
)

ACTIVITIES: list[Callable[..., Any]] = [
    deadline_activities.compute_deadline,
    deadline_activities.notify_supervisor,
    law.register_case,
    documents.render_document,
    documents.deliver_to_personal_account,
    eds.sign_document,
    eds.verify_signature,
    sms.send_sms,
    complaints.describe_appealed_case,
    complaints.forward_to_review_body,
    complaints.build_administrative_case,
    complaints.instruct_appealed_case,
    # --- fraud (171 ch.3) ---
    antifraud.inform_antifraud_centre,
    network.apply_network_order,
    subscriber_registry.lookup_subscriber,
    *MVNO_PERMIT_ACTIVITIES,  # MVNO permit (665/NK): registries, monitoring, permits, hearing calendar
    *SUBSCRIBER_ACTIVITIES,  # issue 6: acts 58, 171 p.55, almatel-eds, 71
]


def make_worker(
    client: Client,
    *,
    task_queue: str | None = None,
    workflows: Sequence[type] | None = None,
    activities: Sequence[Callable[..., Any]] | None = None,
) -> Worker:
    """A worker configured as in production; tests use it with their own client and task queue."""
    return Worker(
        client,
        task_queue=task_queue or settings().task_queue,
        workflows=list(WORKFLOWS if workflows is None else workflows),
        activities=list(ACTIVITIES if activities is None else activities),
        activity_executor=ThreadPoolExecutor(max_workers=16),
        workflow_runner=SANDBOX,
        # A payload that fails validation inside a workflow fails the task for good, not forever.
        workflow_failure_exception_types=[pydantic.ValidationError],
    )


async def run() -> None:
    client = await connect(wait_seconds=60)
    worker = make_worker(client)
    logging.getLogger(__name__).info("worker on task queue %s", settings().task_queue)
    await worker.run()


def main() -> None:
    """Console entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        logging.getLogger(__name__).info("worker stopped")


if __name__ == "__main__":
    main()
