"""Taking fraud reports in (171 p.52(4), p.118, p.119): one report, or a bulk file from the antifraud centre.

A report opens the case of its suspect number or joins the open one in a single call (update-with-start,
``USE_EXISTING`` on a running case, ``ALLOW_DUPLICATE`` after a closed one). Every report is remembered by
its sender's reference in ``fraud_intake``, so sending it again (a re-run bulk file, a retried call)
creates no case, no report and no notification. Used by ``starter.py fraud`` and the demo; each report goes
through the one start path (``infra.cases.start_case``), as a report sent to the API does.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from temporalio.client import Client

from cli.body import problems
from infra.calendar import current_calendar
from infra.cases import CaseError, StartAnswer, check_text, refuse_future_receipt, start_case, taken_messages
from infra.pseudonym import pseudonym
from models.fraud_check import (
    SWEEP_REF,
    AnyReport,
    CentreInformation,
    FraudCaseInput,
    IntakeAck,
    ReportAnswer,
    WayIn,
)
from rules import law
from workflows.fraud_check import ACT, SPEC
from workflows.fraud_check.spec import WAY_IN_PARAGRAPHS

__all__ = ["BulkResult", "ParsedBulk", "bulk_intake", "check_sweep_receipt", "parse_bulk", "submit", "sweep_ref"]


async def submit(client: Client, report: AnyReport, *, task_queue: str | None = None, source: str = "") -> IntakeAck:
    """Open or join the case of ``report.suspect_number``; a reference already taken in changes nothing.

    Raises ``WorkflowUpdateFailedError`` when the case refuses the report (its validator says why).
    """
    started = await start_case(client, SPEC, FraudCaseInput(first=report), task_queue=task_queue, source=source)
    if started.answer is StartAnswer.DUPLICATE:
        return IntakeAck(case_id=started.case_id, answer=ReportAnswer.DUPLICATE)
    return IntakeAck.model_validate(started.result)


def check_sweep_receipt(received_at: datetime) -> None:
    """Refuse at the door a sweep received in the future, or whose information the law of its day does not take
    (171 p.119 was added by 554/NK): the one start path's checks (``ValueError`` saying why). Line by line, each
    refusal was reported as a failure to retry, which a re-run met again (an adversarial run, 2026-12-04)."""
    refuse_future_receipt(received_at)
    day = law.governing_day(ACT, received_at, current_calendar())
    for pid in WAY_IN_PARAGRAPHS[WayIn.CENTRE_INFORMATION]:
        law.paragraph(ACT, pid, on=day)


def sweep_ref(sweep_id: str, number: str) -> str:
    """The reference of a number in a centre's sweep (the number itself stays out of references; its form is
    ``models.fraud_check.SWEEP_REF``)."""
    ref = f"sweep:{sweep_id}:{pseudonym('fraud-sweep', number)}"
    assert SWEEP_REF.fullmatch(ref), ref
    return ref


@dataclass
class ParsedBulk:
    """A bulk file read line by line: good reports with their line numbers, and every bad line."""

    reports: list[tuple[int, CentreInformation]] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    repeated: list[tuple[int, int]] = field(default_factory=list)  # (line, first line with the same number)


_TRUE = {"1", "yes", "y", "true", "simbox", "sim-box"}
_FALSE = {"", "0", "no", "n", "false"}


def parse_bulk(text: str, *, sweep_id: str, received_at: datetime) -> ParsedBulk:
    """Read a sweep file: CSV ``number,signal,simbox,description`` (header optional, ``#`` comments).

    Every line is validated; a bad line is reported with its number and the others are still taken. A byte-order
    mark before the header (a spreadsheet's "CSV UTF-8" export) is not part of it.
    """
    text = text.removeprefix("\ufeff")
    out = ParsedBulk()
    first_line: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text))
    end = 0  # the file's lines read so far: a quoted description may span several (a record's number is its first)
    for row in reader:
        line_no, end = end + 1, reader.line_num
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if line_no == 1 and row[0].strip().lower() == "number":
            continue
        cells = [c.strip() for c in row] + [""] * 4
        number, signal, simbox, description = cells[:4]
        if len(row) > 4:
            out.bad.append((line_no, f"expected at most 4 columns (number,signal,simbox,description), got {len(row)}"))
            continue
        if simbox.lower() not in _TRUE | _FALSE:
            out.bad.append((line_no, "simbox must be yes or no"))  # not the value: a line may hold personal data
            continue
        try:
            probe = CentreInformation(
                ref="probe",
                suspect_number=number,
                received_at=received_at,
                signal=signal or "call",
                simbox=simbox.lower() in _TRUE,
                description=description or "SIM-box sweep of the antifraud centre",
            )
        except ValidationError as exc:
            out.bad.append((line_no, problems(exc)))  # the values refused are not repeated
            continue
        try:
            check_text(probe)  # the edge's check, line by line: such a line is bad, not a failure to retry
        except CaseError as exc:
            out.bad.append((line_no, exc.message.removeprefix("refused: ")))
            continue
        if probe.suspect_number in first_line:
            out.repeated.append((line_no, first_line[probe.suspect_number]))
            continue
        first_line[probe.suspect_number] = line_no
        out.reports.append((line_no, probe.model_copy(update={"ref": sweep_ref(sweep_id, probe.suspect_number)})))
    return out


@dataclass
class BulkResult:
    """What a bulk intake did, line by line."""

    opened: int = 0
    joined: int = 0
    already: int = 0  # taken in before (a re-run) or recorded in the case already
    bad: list[tuple[int, str]] = field(default_factory=list)
    repeated: list[tuple[int, int]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    case_ids: dict[int, str] = field(default_factory=dict)

    @property
    def taken(self) -> int:
        return self.opened + self.joined + self.already


async def bulk_intake(
    client: Client,
    path: Path,
    *,
    sweep_id: str,
    received_at: datetime,
    concurrency: int = 32,
    task_queue: str | None = None,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> BulkResult:
    """Take a sweep file in: at most ``concurrency`` cases started or joined at a time; safe to re-run."""
    check_sweep_receipt(received_at)
    parsed = parse_bulk(path.read_text(encoding="utf-8"), sweep_id=sweep_id, received_at=received_at)
    result = BulkResult(bad=parsed.bad, repeated=parsed.repeated)
    if on_total:
        on_total(len(parsed.reports))
    refs = [r.ref for _, r in parsed.reports]
    known = taken_messages(SPEC.key, WayIn.CENTRE_INFORMATION.value, refs)
    todo: list[tuple[int, CentreInformation]] = []
    for line_no, report in parsed.reports:
        if report.ref in known:
            result.already += 1
            result.case_ids[line_no] = known[report.ref]
            if progress:
                progress(1)
        else:
            todo.append((line_no, report))
    gate = asyncio.Semaphore(concurrency)
    source = f"bulk:{sweep_id}:{path.name}"

    async def one(line_no: int, report: CentreInformation) -> None:
        async with gate:
            try:
                ack = await submit(client, report, task_queue=task_queue, source=f"{source} line {line_no}")
            except Exception as exc:  # the line is reported; the others go on
                result.failed.append((line_no, str(getattr(exc, "message", None) or exc)))
            else:
                result.case_ids[line_no] = ack.case_id
                if ack.answer is ReportAnswer.OPENED:
                    result.opened += 1
                elif ack.answer is ReportAnswer.JOINED:
                    result.joined += 1
                else:
                    result.already += 1
            if progress:
                progress(1)

    await asyncio.gather(*(one(n, r) for n, r in todo))
    result.failed.sort()
    return result
