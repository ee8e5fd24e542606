"""The Temporal worker: every procedure of the catalogue with its activities, on one task queue.

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

from infra.client import connect
from infra.sandbox import SANDBOX
from infra.settings import settings
from workflows.catalogue import ACTIVITIES, WORKFLOWS

__all__ = ["ACTIVITIES", "WORKFLOWS", "main", "make_worker"]


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
