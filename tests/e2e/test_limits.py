"""Temporal's limits on the real dev server (issue 16 items 2 and 3), lowered so that a test reaches them: the server
suggests continuing as new at 150 history events (default 4 Ki) and admits 2 Updates in flight per case (default 10).
A fraud case that keeps receiving reports and a permit that keeps receiving events continue as new where they wait
and keep every report, deadline and document; a burst of reports about one number sent at once is all recorded, each
once, a retried one included, the refusals of Updates in flight retried by the intake."""

from __future__ import annotations

import asyncio
import io
import json
import random
import uuid
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import models.fraud_check as fraud_models
from audit import cli as audit_cli
from audit.admin_case import build_admin_case, render_admin_case
from audit.export import cases_named, export_histories
from audit.history import decode_history, load_history, parse_history, payloads
from audit.report import Scope, build_report
from cli.fraud_intake import submit
from infra import cases
from infra.cases import RETRYING
from infra.client import data_converter
from infra.db import session
from infra.store import load_document
from models import search_attributes as sa
from models.case import CaseView
from models.deadlines import CalendarCorrection, DeadlineStatus
from models.fraud_check import CheckOutcome, FraudCaseView, IntakeAck, LiftDecision, ReportAnswer, SubscriberReport
from models.mvno_permit import CompletenessDecision, PermitCaseView, ReopenInstruction
from models.tables import StartLedger
from tests.conftest import SERVER_STARTUP, binary
from tests.e2e import scenarios
from tests.golden_tools import save_golden
from tests.refs import opaque
from worker import make_worker
from workflows.fraud_check import SPEC as FRAUD
from workflows.fraud_check import FraudCheck

pytestmark = pytest.mark.e2e

SUGGEST_AT = 150
"""History events at which the dev server suggests continuing as new (its default is 4 Ki events)."""
IN_FLIGHT = 2
"""Updates the dev server admits in flight per case (its default is 10)."""
BURST = 40
"""Reports about one number sent at once as if each came through a process of its own: twenty times the Updates the
server admits in flight. (120 took 36 s alone and up to 8 minutes when the suite's other processes shared the cores:
the server's log shows an Update in flight aborted beside most refusals, and the burst's retries fed each other.)"""


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[Client]:
    env = await WorkflowEnvironment.start_local(
        dev_server_startup_timeout=SERVER_STARTUP,
        dev_server_existing_path=binary("temporal"),
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_AT}",
            "--dynamic-config-value",
            f"history.maxInFlightUpdates={IN_FLIGHT}",
            "--log-level",
            "error",
        ],
        data_converter=data_converter(),
        search_attributes=list(sa.ALL),
    )
    try:
        yield env.client
    finally:
        await env.shutdown()


@pytest.fixture
async def worker(server: Client) -> AsyncIterator[Worker]:
    scenarios.POLL_SECONDS = 0.05
    async with make_worker(server, task_queue=f"limits-{uuid.uuid4().hex[:6]}") as w:
        yield w


DONE_RUNNING = ["Completed", "Running"]


def _number() -> str:
    return f"+7707{random.randrange(10**7):07d}"


def report(number: str, ref: str) -> SubscriberReport:
    return SubscriberReport(
        ref=ref,
        suspect_number=number,
        reporter_number=_number(),
        received_at=datetime.now(UTC) - timedelta(minutes=1),
        description="SMS asking for a card code",
    )


async def eventually(read: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], timeout: float = 60) -> Any:
    end = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            value = await read()
            if ok(value):
                return value
        except Exception:
            pass
        if asyncio.get_running_loop().time() > end:
            raise TimeoutError("not reached")
        await asyncio.sleep(0.1)


async def run_id(client: Client, case_id: str) -> str:
    return (await client.get_workflow_handle(case_id).describe()).run_id or ""


async def until_continued(client: Client, case_id: str, send: Callable[[int], Awaitable[None]]) -> int:
    """Send events one by one until the case continues as new; how many were sent."""
    first = await run_id(client, case_id)
    for i in range(1000):
        if await run_id(client, case_id) != first:
            return i
        await send(i)
    raise AssertionError("the case never continued as new")


def fraud(client: Client, case_id: str) -> Callable[[], Awaitable[FraudCaseView]]:
    return lambda: client.get_workflow_handle(case_id).query(FraudCheck.fraud)


def case(client: Client, case_id: str) -> Callable[[], Awaitable[CaseView]]:
    return lambda: client.get_workflow_handle(case_id).query("case", result_type=CaseView)


async def record_of(client: Client, case_id: str) -> dict[str, Any]:
    """The memo of the case's current run."""
    return await (await client.get_workflow_handle(case_id).describe()).memo()


def refs(v: FraudCaseView) -> list[str]:
    return [r.report.ref for r in v.reports]


async def test_a_fraud_case_continues_as_new_where_it_waits_and_keeps_its_reports_deadlines_and_notices(
    server: Client, worker: Worker, tmp_path: Path
) -> None:
    tq, number = worker.task_queue, _number()
    opened = await submit(server, report(number, opaque("limits:", 32) + ":0"), task_queue=tq)
    cid = opened.case_id
    await eventually(case(server, cid), lambda v: "record_check_outcome" in v.pending_events)

    # The check is awaited; reports keep arriving until the history is long: the case continues as new.
    async def one_more(i: int) -> None:
        await submit(server, report(number, opaque("limits:", 32) + f":check:{i}"), task_queue=tq)

    before = await fraud(server, cid)()
    first_run = server.get_workflow_handle(cid, run_id=await run_id(server, cid))
    sent = await until_continued(server, cid, one_more)
    assert sent > 5
    after = await eventually(fraud(server, cid), lambda v: len(v.reports) >= 1 + sent)
    before_case, after_case = await case(server, cid)(), await case(server, cid)()
    assert refs(after)[: len(before.reports)] == refs(before) and len(set(refs(after))) == len(refs(after))
    assert after.status == "check" and after.cycle == 1 and after.outcome is None
    [check] = after_case.deadlines
    assert check.key == "check" and check.status is DeadlineStatus.OPEN
    assert before_case.deadlines == after_case.deadlines and after_case.registration == before_case.registration
    await eventually(lambda: record_of(server, cid), lambda m: "case" in m and "deadline:check" in m)
    # A report the first run recorded, retried now (Update ids are per run): the case answers it is known.
    retried = await server.get_workflow_handle(cid).execute_update(
        FraudCheck.subscriber_report, report(number, refs(before)[0]), id=refs(before)[0]
    )
    assert retried.answer is ReportAnswer.DUPLICATE
    assert len((await fraud(server, cid)()).reports) == len(after.reports)

    # The outcome in the next run: the check is met, the number suspended and the centre told.
    await server.get_workflow_handle(cid).execute_update(
        FraudCheck.record_check_outcome, CheckOutcome(confirmed=True, evidence=["SIM-box pattern"], analyst="A")
    )
    suspended = await eventually(
        fraud(server, cid), lambda v: v.suspension is not None and all(n.delivered_at for n in v.notices)
    )
    c = await case(server, cid)()
    assert {d.key: d.status for d in c.deadlines} == {
        "check": DeadlineStatus.MET,
        "suspension": DeadlineStatus.MET,
        "suspension_notice": DeadlineStatus.MET,
    }

    # Suspended, awaiting the lift; more reports: it continues as new again and keeps the suspension and notices.
    async def another(i: int) -> None:
        await submit(server, report(number, opaque("limits:", 32) + f":suspended:{i}"), task_queue=tq)

    await eventually(case(server, cid), lambda v: "lift_suspension" in v.pending_events)
    middle_run = server.get_workflow_handle(cid, run_id=await run_id(server, cid))
    more = await until_continued(server, cid, another)
    again = await eventually(fraud(server, cid), lambda v: len(v.reports) >= len(suspended.reports) + more)
    assert again.suspension == suspended.suspension and again.notices == suspended.notices
    assert again.status == "suspended" and again.subscriber == suspended.subscriber
    assert (await case(server, cid)()).deadlines == c.deadlines
    await server.get_workflow_handle(cid).execute_update(
        FraudCheck.lift_suspension, LiftDecision(reason="complaint upheld", decided_by="Head")
    )
    result = FraudCaseView.model_validate(await server.get_workflow_handle(cid).result())
    assert result.lift is not None and result.restoration is not None
    assert len(set(refs(result))) == len(refs(result)) == 1 + sent + more
    runs = [w.run_id async for w in server.list_workflows(f"WorkflowId = '{cid}'")]
    assert len(runs) == 3 and first_run.run_id in runs
    await save_golden(first_run, "fraud_check", "continued_as_new_while_the_check_is_awaited")
    await save_golden(middle_run, "fraud_check", "taken_up_at_the_check_then_continued_as_new_suspended")
    await save_golden(server.get_workflow_handle(cid), "fraud_check", "taken_up_suspended_then_lifted")

    # A report about the number after the close opens a new case under the same id. The closed case stays the
    # auditor's: it vanished from export, report and admin-case, which read the id's latest run (an adversarial
    # run, 2026-12-04). Its runs before it continued as new are its past, not cases.
    reopened = await submit(server, report(number, opaque("limits:", 32) + ":after"), task_queue=tq)
    assert reopened.answer is ReportAnswer.OPENED and reopened.case_id == cid
    named = await eventually(lambda: cases_named(server, [cid]), lambda cs: [c.status for c in cs] == DONE_RUNNING)
    assert named[0].run_id not in (first_run.run_id, middle_run.run_id, None)
    paths = await export_histories(server, named, tmp_path)
    assert [p.name for p in paths] == [f"{cid}.{named[0].run_id}.json", f"{cid}.json"]
    rep = build_report([parse_history(load_history(p)) for p in paths], scope=Scope(cases=[cid]))
    closed, new = rep.cases
    assert closed.case_id == new.case_id == cid and closed.run_id == first_run.run_id != new.run_id
    met = dict.fromkeys(["check", "suspension", "suspension_notice"], "met_on_time")
    assert {t.key: t.outcome for t in closed.terms} == met
    assert [t.key for t in new.terms] == ["check"] and rep.procedures[0].cases == 2
    # its administrative case names its run: two of one id were indistinguishable (the next adversarial run)
    with zipfile.ZipFile(io.BytesIO(render_admin_case(build_admin_case(load_history(paths[0]))))) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        assert manifest["generated_from"]["run_id"] == first_run.run_id
        assert str(first_run.run_id) in bundle.read("case.html").decode()
    with pytest.raises(
        typer.BadParameter, match=rf"{cid} names 2 cases: --run {named[0].run_id} \(started .* \+05:00, Completed\)"
    ):
        await audit_cli._only_case(server, cid)
    await server.get_workflow_handle(cid).terminate("test done")


async def test_a_fraud_case_over_its_state_budget_continues_as_new_leaving_early_descriptions_in_its_history(
    server: Client, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state a case hands its next run is kept under a budget (1 MiB; here 48 KiB, so that some thirty reports
    reach it): the earliest descriptions stay in the history of the run that held them, every report is kept, and
    the case goes on. Over 2 MiB, it could not continue as new at all (an adversarial run, 2026-12-04)."""
    monkeypatch.setattr(fraud_models, "STATE_BUDGET_BYTES", 48 * 1024)
    tq, number = worker.task_queue, _number()
    described = {}

    def long_report(i: int) -> SubscriberReport:
        r = report(number, opaque("limits:", 32) + f":{i}")
        described[r.ref] = f"report {i}: " + "звонок из банка, просили код из SMS; " * 30
        return r.model_copy(update={"description": described[r.ref]})

    cid = (await submit(server, long_report(0), task_queue=tq)).case_id
    first_run = await run_id(server, cid)

    async def one_more(i: int) -> None:
        await submit(server, long_report(i + 1), task_queue=tq)

    sent = await until_continued(server, cid, one_more)
    after = await eventually(fraud(server, cid), lambda v: len(v.reports) == 1 + sent)
    assert set(refs(after)) == set(described)
    let_go = [r for r in after.reports if r.description_in_run is not None]
    kept = [r for r in after.reports if r.description_in_run is None]
    assert let_go and kept and {r.description_in_run for r in let_go} == {first_run}
    assert all(r.report.description == described[r.report.ref] for r in kept)
    assert after.status == "check"
    # the run named holds each description let go
    held = decode_history(await server.get_workflow_handle(cid, run_id=first_run).fetch_history())
    data = b"".join(p.data for e in held.events for p in payloads(e))
    assert all(described[r.report.ref].encode() in data for r in let_go)
    await server.get_workflow_handle(cid).terminate("test done")


async def test_a_fraud_cases_earlier_check_stays_a_case_for_the_auditor(
    server: Client, worker: Worker, tmp_path: Path
) -> None:
    """A report after a "not confirmed" outcome continues the case as new as check no. 2, with nothing of check no. 1
    carried. That check is a case of its own for the audit tools: its decision, terms and notice were in no export,
    report or administrative case once the next began (an adversarial run, 2026-12-04)."""
    tq, number = worker.task_queue, _number()
    cid = (await submit(server, report(number, opaque("limits:", 32) + ":first"), task_queue=tq)).case_id
    await eventually(case(server, cid), lambda v: "record_check_outcome" in v.pending_events)
    first_run = await run_id(server, cid)
    handle = server.get_workflow_handle(cid)
    await handle.execute_update(
        FraudCheck.record_check_outcome, CheckOutcome(confirmed=False, evidence=["nothing found"], analyst="a-05")
    )
    await submit(server, report(number, opaque("limits:", 32) + ":next"), task_queue=tq)
    await eventually(fraud(server, cid), lambda v: v.cycle == 2)

    named = await eventually(
        lambda: cases_named(server, [cid]), lambda cs: [c.status for c in cs] == ["ContinuedAsNew", "Running"]
    )
    assert named[0].run_id == first_run != named[1].run_id
    # the next check's view names the check before it (the console links it: ?run=)
    assert (await cases.case_view(server, cid)).begun_after_run == first_run
    assert (await cases.case_view(server, cid, first_run)).begun_after_run is None
    paths = await export_histories(server, named, tmp_path)
    assert [p.name for p in paths] == [f"{cid}.{first_run}.json", f"{cid}.json"]
    # exported alone, the first check keeps its run's name: CASE_ID.json is always the id's latest run
    [alone] = await export_histories(server, named[:1], tmp_path / "first")
    assert alone.name == f"{cid}.{first_run}.json"
    rep = build_report([parse_history(load_history(p)) for p in paths], scope=Scope(cases=[cid]))
    first, second = rep.cases
    assert first.run_id == first_run and first.execution_status == "ContinuedAsNew"
    assert {t.key: t.outcome for t in first.terms} == {"check": "met_on_time", "not_confirmed_notice": "met_on_time"}
    assert [(t.key, t.outcome) for t in second.terms] == [("check", "open")]
    with pytest.raises(typer.BadParameter, match=rf"{cid} names 2 cases: --run {first_run} \(started"):
        await audit_cli._only_case(server, cid)
    await handle.terminate("test done")


async def test_a_complaint_naming_no_run_stays_with_the_case_it_was_filed_about(server: Client, worker: Worker) -> None:
    """A complaint about a closed fraud case names no run; a report then opens a new case under the number's id. The
    complaint's administrative case was the new case's and its instruction reached it (an adversarial run,
    2026-12-05): the complaint keeps the case it was registered about, the first run of its chain."""
    from models.complaint import ComplaintInput, ForwardRequest, ReviewDecision
    from workflows.complaint import SPEC as COMPLAINT

    tq, number = worker.task_queue, _number()
    cid = (await submit(server, report(number, opaque("limits:", 32) + ":closed"), task_queue=tq)).case_id
    await eventually(case(server, cid), lambda v: "record_check_outcome" in v.pending_events)
    fraud_case = server.get_workflow_handle(cid)
    await fraud_case.execute_update(
        FraudCheck.record_check_outcome, CheckOutcome(confirmed=False, evidence=["nothing found"], analyst="a-05")
    )
    await fraud_case.result()
    closed_run = await run_id(server, cid)
    complaint_input = ComplaintInput.model_validate(
        {
            "complaint_number": f"KZ-C-{uuid.uuid4().hex[:8]}",
            "complainant": {"full_name": "Асанов Асан Асанович", "iin": "900101300126", "phone": "+77011234567"},
            "appealed": "decision",
            "appealed_case_id": cid,
            "description": "The number was checked without cause",
            "request": "Reconsider",
            "addressed_to": "provider",
            "received_at": datetime.now(UTC).isoformat(),
        }
    )
    complaint_id = (await cases.start_case(server, COMPLAINT, complaint_input, task_queue=tq)).case_id
    # registered: the complaint has read the case it is about (the chain is fixed then, at its first step)
    await eventually(
        case(server, complaint_id), lambda v: "forward" in v.pending_events and v.details.get("appealed_case")
    )
    reopened = await submit(server, report(number, opaque("limits:", 32) + ":reopened"), task_queue=tq)
    assert reopened.answer is ReportAnswer.OPENED and reopened.case_id == cid

    complaint = server.get_workflow_handle(complaint_id)
    await complaint.execute_update("forward", ForwardRequest(forwarded_by="Head of department"))
    await eventually(case(server, complaint_id), lambda v: "review_decision" in v.pending_events)
    await complaint.execute_update(
        "review_decision",
        ReviewDecision(outcome="upheld", reasons="No cause", decided_by="Vice-minister", instruction="reconsider"),
    )
    result = await complaint.result()
    assert result["instruction_outcome"]["delivered"] is False
    assert not (await case(server, cid)()).instructions  # the new case took nothing
    [admin] = [d for d in (await case(server, complaint_id)()).documents if d.kind == "administrative_case"]
    stored = load_document(admin.doc_id)
    assert stored is not None
    with zipfile.ZipFile(io.BytesIO(stored.content)) as bundle:
        assert json.loads(bundle.read("manifest.json"))["generated_from"]["run_id"] == closed_run
    await fraud_case.terminate("test done")


@pytest.fixture
def refusals(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Each start the server refused for now and the intake retried: (case id, status), from the intake's log call."""
    seen: list[tuple[str, str]] = []
    log_info = cases.log.info

    def counted(msg: str, *args: Any, **kwargs: Any) -> None:
        if msg == RETRYING:
            seen.append((args[1], args[2]))
        log_info(msg, *args, **kwargs)

    monkeypatch.setattr(cases.log, "info", counted)
    return seen


async def test_a_burst_about_one_number_at_once_is_all_recorded_once(
    server: Client, worker: Worker, refusals: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server refuses Updates beyond those in flight (10 per case): the intake retries the refusal with back-off;
    each report's Update id is its reference, so a retried report is recorded once; the case continues as new
    meanwhile. The intake's own gate is opened here as if every report came through a process of its own (through
    one gate none is refused: the next test)."""
    tq = worker.task_queue
    monkeypatch.setattr(cases, "_PER_CASE_IN_FLIGHT", BURST)
    # refused Updates backing off may take longer than the intake's 90 s of patience when the suite's other processes
    # share the two cores: what is tested is that refusals are retried and each report recorded once
    monkeypatch.setattr(cases, "_START_PATIENCE", 600.0)
    # The SDK's own client retries a refusal too, for up to 10 s (``max_retries=0`` leaves its count unbounded): with
    # one retry, refusals reach the intake.
    edge = await Client.connect(
        server.service_client.config.target_host,
        namespace=server.namespace,
        data_converter=data_converter(),
        retry_config=RetryConfig(max_retries=1),
    )
    for _ in range(3):  # a burst the server happened to admit without a refusal proves nothing: another number
        number = _number()
        reports = [report(number, f"burst:{uuid.uuid4().hex[:8]}:{i}") for i in range(BURST)]
        retried = reports[7]
        # the retry goes while the first is in flight
        acks: list[IntakeAck] = await asyncio.gather(*(submit(edge, r, task_queue=tq) for r in [*reports, retried]))
        cid = acks[0].case_id
        assert {a.case_id for a in acks} == {cid}
        opened = {r.ref for r, a in zip([*reports, retried], acks, strict=True) if a.answer is ReportAnswer.OPENED}
        assert len(opened) == 1
        view = await eventually(fraud(server, cid), lambda v: len(v.reports) >= BURST)
        assert sorted(refs(view)) == sorted(r.ref for r in reports)  # every one, each once
        runs = [w async for w in server.list_workflows(f"WorkflowId = '{cid}'")]
        assert len(runs) > 1  # it continued as new during the burst, and no report was lost or doubled across runs
        await server.get_workflow_handle(cid).terminate("test done")
        if (cid, "RESOURCE_EXHAUSTED") in refusals:
            break
    assert refusals, "no Update was refused for being one too many in flight in three bursts: the test proves nothing"


async def test_120_reports_through_one_intake_wait_their_turn_and_none_is_refused(
    server: Client, worker: Worker, refusals: list[tuple[str, str]]
) -> None:
    """One process's intake lets a burst about one number through a few at a time (``_PER_CASE_IN_FLIGHT``): no
    report is refused and backed off, each is recorded once, and the one that opened the case is told so, also when
    the SDK sent it again after the case continued as new (the next test)."""
    tq, number = worker.task_queue, _number()
    reports = [report(number, opaque("turn:", 16) + f":{i}") for i in range(120)]
    edge = await Client.connect(
        server.service_client.config.target_host,
        namespace=server.namespace,
        data_converter=data_converter(),
        retry_config=RetryConfig(max_retries=0),  # a refusal would reach the intake's log
    )
    acks: list[IntakeAck] = await asyncio.gather(*(submit(edge, r, task_queue=tq) for r in reports))
    cid = acks[0].case_id
    assert {a.case_id for a in acks} == {cid} and [a.answer for a in acks].count(ReportAnswer.OPENED) == 1
    view = await eventually(fraud(server, cid), lambda v: len(v.reports) >= 120)
    assert sorted(refs(view)) == sorted(r.ref for r in reports)
    assert not refusals, "a report was refused: the gate did not hold"
    assert not cases._GATES
    await server.get_workflow_handle(cid).terminate("test done")


async def test_a_report_taken_by_an_earlier_run_is_answered_as_it_was_first_taken(
    server: Client, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK sends an update-with-start again while the server reports it short of accepted: when the first
    sending opened the case and the case then continued as new, the second lands in a run that does not know the
    Update id and is answered ``duplicate``. The intake looks back through the runs open since it began sending and
    answers with the first taking; a report taken by a run that closed before the sending stays a duplicate."""
    tq, number = worker.task_queue, _number()
    first = report(number, opaque("again:", 32) + ":0")
    opened = await submit(server, first, task_queue=tq)
    cid = opened.case_id
    assert opened.answer is ReportAnswer.OPENED
    first_run = await run_id(server, cid)

    def forget_in_ledger() -> None:  # the intake never saw the first sending's answer
        with session() as s:
            s.delete(s.get(StartLedger, (FRAUD.key, cases.message_id(first.ref, first.way_in.value))))
            s.commit()

    async def one_more(i: int) -> None:
        await submit(server, report(number, opaque("again:", 32) + f":{i}"), task_queue=tq)

    assert await until_continued(server, cid, one_more) > 0
    forget_in_ledger()
    monkeypatch.setattr(cases, "_CLOCK_SKEW", timedelta(hours=1))  # the first run was open when "sending began"
    again = await submit(server, first, task_queue=tq)
    assert again.answer is ReportAnswer.OPENED and again.case_id == cid
    with session() as s:
        row = s.get(StartLedger, (FRAUD.key, cases.message_id(first.ref, first.way_in.value)))
        assert row is not None and row.answer == ReportAnswer.OPENED.value

    forget_in_ledger()
    monkeypatch.setattr(cases, "_CLOCK_SKEW", timedelta(0))  # the first run closed before this sending began
    late = await submit(server, first, task_queue=tq)
    assert late.answer is ReportAnswer.DUPLICATE
    view = await fraud(server, cid)()
    assert refs(view).count(first.ref) == 1 and (await run_id(server, cid)) != first_run
    await server.get_workflow_handle(cid).terminate("test done")


async def test_a_permit_continues_as_new_in_its_life_and_in_its_complaint_window_keeping_documents_and_deadlines(
    server: Client, worker: Worker
) -> None:
    tq = worker.task_queue
    cid = await scenarios.PERMIT.start(server, tq, uuid.uuid4().hex[:8])
    await scenarios.PERMIT.drive(server, cid)
    await scenarios.PERMIT.finished(server, cid)
    handle: WorkflowHandle[Any, Any] = server.get_workflow_handle(cid)
    before, before_view = await case(server, cid)(), await handle.query("permit_case", result_type=PermitCaseView)

    async def correction(i: int) -> None:  # an event every case takes; this one moves nothing
        await handle.execute_update("apply_calendar_correction", CalendarCorrection(reason=f"check {i}"))

    first_run = server.get_workflow_handle(cid, run_id=await run_id(server, cid))
    assert await until_continued(server, cid, correction) > 0
    after = await eventually(case(server, cid), lambda v: "contract_event" in v.pending_events)
    after_view = await handle.query("permit_case", result_type=PermitCaseView)
    assert after.documents == before.documents and after.deadlines == before.deadlines
    assert after.registration == before.registration and after.status == "permit_valid"
    assert (
        after_view.permit == before_view.permit and after_view.events[: len(before_view.events)] == before_view.events
    )
    assert after_view.events[-1].kind == "checkpoint"
    await handle.terminate("test done")
    await save_golden(first_run, "mvno_permit", "continued_as_new_in_its_life_when_suggested")
    await save_golden(handle, "mvno_permit", "taken_up_in_its_life_after_a_long_history")


async def test_a_refused_permit_continues_as_new_in_its_complaint_window_and_can_still_be_reopened(
    server: Client, worker: Worker
) -> None:
    tq = worker.task_queue
    cid = await scenarios.PERMIT.start(server, tq, uuid.uuid4().hex[:8])
    handle: WorkflowHandle[Any, Any] = server.get_workflow_handle(cid)
    await eventually(case(server, cid), lambda v: "completeness_decision" in v.pending_events)
    await handle.execute_update(
        "completeness_decision",
        CompletenessDecision(complete=False, reasons=["no contract with a base operator"], decided_by="A"),
    )
    before = await eventually(case(server, cid), lambda v: "reopen" in v.pending_events)
    assert before.documents

    async def correction(i: int) -> None:
        await handle.execute_update("apply_calendar_correction", CalendarCorrection(reason=f"check {i}"))

    first_run = server.get_workflow_handle(cid, run_id=await run_id(server, cid))
    assert await until_continued(server, cid, correction) > 0
    after = await eventually(case(server, cid), lambda v: "reopen" in v.pending_events)
    assert after.documents == before.documents and after.deadlines == before.deadlines
    window = next(d for d in after.deadlines if d.key == "complaint_window")
    assert window.status is DeadlineStatus.OPEN
    # the continued run wrote the case's record into its own history (an auditor reads each run whole)
    memo = await record_of(server, cid)
    assert memo["case"]["act_version_id"] == before.registration.act_version_id  # type: ignore[union-attr]
    assert {f"deadline:{d.key}" for d in before.deadlines} <= set(memo)
    await handle.execute_update(
        "reopen", ReopenInstruction(complaint_id="C-1", stage="completeness_check", reason="the contract was there")
    )
    reopened = await eventually(case(server, cid), lambda v: "completeness_decision" in v.pending_events)
    assert {d.key for d in reopened.deadlines} >= {"complaint_window", "completeness_check#2"}
    assert next(d for d in reopened.deadlines if d.key == "complaint_window").status is DeadlineStatus.MET
    await handle.terminate("test done")
    await save_golden(first_run, "mvno_permit", "continued_as_new_in_its_complaint_window")
    await save_golden(handle, "mvno_permit", "taken_up_in_the_complaint_window_then_reopened")
