"""Backfill of the console's search index (``infra.case_index``) for cases started before it existed.

Every case of the catalogue's procedures is listed through Temporal visibility; a case already in ``case_index`` with
all its keys adds nothing. For the others the input of each run is read from the history's first event and
decoded with the client's data converter (the payload codec decrypts it in this process only), then written with
the same normalisation and keyed hashes as the start path (no personal data in clear: only digests, the procedure,
the application's own number, the starting key from the start's memo). Idempotent: a re-run, or a run beside cases
being started, adds only what is missing. Nothing from an input is logged or printed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError, RPCStatusCode

from infra import case_index
from models import search_attributes as sa
from models.case import INTAKE_MEMO
from models.procedure import ProcedureSpec

__all__ = ["ReindexReport", "reindex"]

log = logging.getLogger(__name__)


@dataclass
class ReindexReport:
    """What a backfill did: runs read, cases newly written, cases completed (some keys were missing), runs
    already indexed, and the runs that could not be read (case id and the error's class, never an input)."""

    runs: int = 0
    written: int = 0
    completed: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.runs} runs read: {self.written} cases written to the index, {self.completed} completed, "
            f"{self.unchanged} already indexed, {len(self.failed)} failed"
        )


def _query(procedures: Iterable[str]) -> str:
    keys = ", ".join(f"'{k}'" for k in procedures)
    return f"{sa.PROCEDURE.name} IN ({keys})"


async def _start_input(client: Client, spec: ProcedureSpec, wf: WorkflowExecution) -> object:
    """The run's input as its workflow received it (decoded and decrypted by the client's converter)."""
    handle = client.get_workflow_handle(wf.id, run_id=wf.run_id)
    async for ev in handle.fetch_history_events():
        if ev.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            raise ValueError("history does not begin with the start")
        payloads = ev.workflow_execution_started_event_attributes.input.payloads
        return (await client.data_converter.decode(payloads, [spec.input_model]))[0]
    raise ValueError("empty history")


async def _started_by(wf: WorkflowExecution) -> str | None:
    memo = await wf.memo()
    intake = memo.get(INTAKE_MEMO)
    key = intake.get("key_id") if isinstance(intake, dict) else None
    return key if isinstance(key, str) else None


async def _runs(
    client: Client, procedures: Iterable[str], case_ids: list[str] | None
) -> AsyncIterator[tuple[str, WorkflowExecution | None]]:
    """Every run of the procedures' cases (visibility), or the latest run of each case named (None: no such case)."""
    if case_ids is None:
        async for wf in client.list_workflows(_query(procedures)):
            yield wf.id, wf
        return
    for case_id in case_ids:
        try:
            yield case_id, await client.get_workflow_handle(case_id).describe()
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            yield case_id, None


async def reindex(
    client: Client,
    specs: Iterable[ProcedureSpec],
    progress: Callable[[ReindexReport], None] | None = None,
    case_ids: list[str] | None = None,
) -> ReindexReport:
    """Write ``case_index`` rows for every run of ``specs``' cases that lacks them (or of the cases ``case_ids``
    names, for a server without visibility listing); ``progress`` is called after each run. A run whose input cannot
    be read (a history deleted meanwhile, a payload under a key this installation lacks) is reported in ``failed``
    and the others go on; so is a case named that does not exist or is not of ``specs``."""
    by_key = {s.key: s for s in specs}
    report = ReindexReport()
    async for case_id, wf in _runs(client, by_key, case_ids):
        spec = by_key.get(wf.typed_search_attributes.get(sa.PROCEDURE) or "") if wf is not None else None
        if wf is None or spec is None:
            if case_ids is not None:
                report.failed.append((case_id, "no such case" if wf is None else "not a case of these procedures"))
            continue
        report.runs += 1
        had = bool(case_index.entries([wf.id]))
        try:
            inp = await _start_input(client, spec, wf)
            added = case_index.backfill(spec.key, wf.id, inp, await _started_by(wf))  # type: ignore[arg-type]
        except Exception as exc:  # one unreadable run (RPC, codec key, database) must not stop the backfill
            log.warning("case %s not indexed: %s", wf.id, exc.__class__.__name__)
            report.failed.append((wf.id, exc.__class__.__name__))
        else:
            if not added:
                report.unchanged += 1
            elif had:
                report.completed += 1
            else:
                report.written += 1
        if progress is not None:
            progress(report)
    return report
