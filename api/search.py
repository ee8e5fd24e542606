"""Find a case: by application number, applicant name, BIN/IIN, phone number or case id, with filters (procedure,
status, due dates, open/closed/incidents), sorted and paged.

The text goes to our search index (``infra.case_index``: keyed hashes, exact match), never to Temporal; the case
ids it yields, with the filters, make one visibility query. Who may look people up is the caller's business
(``personal``): without it only the application number and the case id are tried.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator
from temporalio.client import Client

from api.cases import CASE_ID_PATTERN
from api.listing import INCIDENT_EXECUTIONS, MAX_ROWS, CaseRow, count, fetch, ids_clause, instant, procedures_clause
from infra import case_index
from models import search_attributes as sa
from models.procedure import ProcedureSpec
from rules.calendar import ALMATY

__all__ = [
    "CSV_COLUMNS",
    "MAX_ROWS",
    "PAGE_SIZE",
    "SearchForm",
    "SearchResult",
    "candidates",
    "csv_of",
    "parse_form",
    "search",
    "statuses_of",
]

PAGE_SIZE = 25
State = Literal["open", "closed", "incidents", "all"]
Sort = Literal["deadline", "started", "procedure", "status"]


class SearchForm(BaseModel):
    """The search page's query string."""

    q: str = Field(default="", max_length=200)
    procedure: str = ""
    status: str = ""
    # a due day in years a deadline can have (the Asia/Almaty midnight of 1 January 0001 is no instant Python holds)
    due_from: date | None = Field(default=None, ge=date(1900, 1, 1), le=date(2999, 12, 31))
    due_to: date | None = Field(default=None, ge=date(1900, 1, 1), le=date(2999, 12, 31))
    overdue: bool = False
    state: State = "open"
    sort: Sort = "deadline"
    page: int = Field(default=1, ge=1, le=10_000)

    @field_validator("due_from", "due_to", mode="before")
    @classmethod
    def _empty_date(cls, v: object) -> object:
        return None if v == "" else v

    @field_validator("q")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()


def parse_form(params: Mapping[str, str]) -> tuple[SearchForm, list[str]]:
    """The form from the query string, and the names of the fields that were not understood (left at defaults)."""
    data = {k: v for k, v in params.items() if k in SearchForm.model_fields}
    try:
        return SearchForm.model_validate(data), []
    except ValidationError as exc:
        bad = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        return SearchForm.model_validate({k: v for k, v in data.items() if k not in bad}), bad


def statuses_of(procedures: Mapping[str, ProcedureSpec], procedure: str) -> list[str]:
    """The statuses the status filter offers: the procedure's, or every procedure's."""
    specs = [procedures[procedure]] if procedure in procedures else list(procedures.values())
    return list(dict.fromkeys(s for spec in specs for s in spec.statuses))


@dataclass
class SearchResult:
    rows: list[CaseRow]
    """The page's cases."""
    total: int
    page: int
    pages: int
    truncated: bool = False
    """More cases matched than one list reads (``MAX_ROWS``): sorted and paged among the first ones only."""
    looked_up: bool = False
    """The text was looked up in the index (False: no text, or nothing matched before Temporal was asked)."""


def _query(procedures: Mapping[str, ProcedureSpec], form: SearchForm) -> str:
    keys = [form.procedure] if form.procedure in procedures else list(procedures)
    parts = [procedures_clause(keys)]
    if form.status and form.status in statuses_of(procedures, form.procedure):
        parts.append(f"{sa.STATUS.name} = '{form.status}'")
    if form.overdue:
        parts.append(f"{sa.OVERDUE.name} = true")
    if form.due_from:
        start = datetime.combine(form.due_from, time(0), tzinfo=ALMATY)
        parts.append(f"{sa.NEXT_DEADLINE.name} >= {instant(start)}")
    if form.due_to:
        end = datetime.combine(form.due_to + timedelta(days=1), time(0), tzinfo=ALMATY)
        parts.append(f"{sa.NEXT_DEADLINE.name} < {instant(end)}")
    incidents = ", ".join(f"'{e}'" for e in INCIDENT_EXECUTIONS)
    parts.append(
        {
            "open": "ExecutionStatus = 'Running'",
            "closed": "ExecutionStatus = 'Completed'",
            "incidents": f"(ExecutionStatus IN ({incidents}) OR "
            f"(ExecutionStatus = 'Running' AND {sa.STATUS.name} = 'blocked'))",
            "all": "ExecutionStatus != 'ContinuedAsNew'",
        }[form.state]
    )
    return " AND ".join(parts)


def candidates(text: str, *, personal: bool) -> set[str]:
    """The case ids ``text`` may name: the index's matches (with the cases about a case of that number), and the
    text itself when it looks like a case id."""
    found = case_index.find(text, personal=personal, about=True)
    if re.match(CASE_ID_PATTERN, text) and "-" in text:
        found.add(text)
    return found


async def search(
    client: Client, procedures: Mapping[str, ProcedureSpec], form: SearchForm, *, personal: bool, paged: bool = True
) -> SearchResult:
    """The cases of ``form``: its page (all of them, up to ``MAX_ROWS``, when not ``paged``)."""
    query = _query(procedures, form)
    truncated = False
    if form.q:
        ids = sorted(await asyncio.to_thread(candidates, form.q, personal=personal))
        rows: list[CaseRow] = []
        for i in range(0, len(ids), 200):
            more, cut = await fetch(client, f"{query} AND {ids_clause(ids[i : i + 200])}")
            rows += more
            truncated = truncated or cut
        total = len(rows)
    else:
        rows, truncated = await fetch(client, query)
        total = await count(client, query) if truncated else len(rows)
    if form.due_from or form.due_to:  # the attribute keeps a met term's instant: the outstanding one decides
        kept = [r for r in rows if r.next_deadline is not None and _due_between(r.next_deadline, form)]
        total -= len(rows) - len(kept)
        rows = kept
    _sort(rows, form.sort)
    pages = max(1, -(-min(total, len(rows)) // PAGE_SIZE))
    page = min(form.page, pages)
    if paged:
        rows = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    found = await asyncio.to_thread(case_index.entries, [r.case_id for r in rows])
    for r in rows:
        if r.case_id in found:
            r.application_number = found[r.case_id].application_number
    return SearchResult(rows=rows, total=total, page=page, pages=pages, truncated=truncated, looked_up=bool(form.q))


def _due_between(due: datetime, form: SearchForm) -> bool:
    day = due.astimezone(ALMATY).date()
    return (form.due_from is None or day >= form.due_from) and (form.due_to is None or day <= form.due_to)


def _sort(rows: list[CaseRow], sort: Sort) -> None:
    far = datetime.max.replace(tzinfo=UTC)
    old = datetime.min.replace(tzinfo=UTC)
    if sort == "started":
        rows.sort(key=lambda r: (r.started_at or old, r.case_id), reverse=True)
    elif sort == "procedure":
        rows.sort(key=lambda r: (r.procedure, r.next_deadline or far, r.case_id))
    elif sort == "status":
        rows.sort(key=lambda r: (r.status, r.next_deadline or far, r.case_id))
    else:  # overdue first, then the nearest deadline, then the newest
        rows.sort(key=lambda r: (not r.overdue, r.next_deadline or far, -(r.started_at or old).timestamp()))


CSV_COLUMNS = (
    "case_id",
    "procedure",
    "application_number",
    "status",
    "execution",
    "overdue",
    "next_deadline",
    "working_days_left",
    "started_at",
    "closed_at",
)


def _cell(value: object) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(ALMATY).isoformat(timespec="minutes")
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_of(rows: list[object], columns: tuple[str, ...]) -> str:
    """``rows`` (models or objects with ``columns`` as attributes) as CSV with a header; instants in Asia/Almaty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(getattr(row, c)) for c in columns])
    return out.getvalue()
