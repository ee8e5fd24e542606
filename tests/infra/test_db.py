"""Our tables' engine (``infra.db``): a database whose ``idempotency_records`` still keep answers (bodies with
personal data) gets the table anew."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import inspect

from infra.db import engine_for

IIN, NAME = "850412400309", "Динара"


def test_idempotency_records_that_kept_answers_are_made_anew(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE idempotency_records (key_sha256 VARCHAR PRIMARY KEY, request_sha256 VARCHAR, "
            "status_code INTEGER, body VARCHAR, location VARCHAR, created_at DATETIME)"
        )
        con.execute(
            "INSERT INTO idempotency_records VALUES ('k', 'r', 201, ?, NULL, '2026-01-01 00:00:00')",
            (f'{{"name": "{NAME}", "iin": "{IIN}"}}',),
        )
    eng = engine_for(f"sqlite:///{path}")
    columns = {c["name"] for c in inspect(eng).get_columns("idempotency_records")}
    assert "body" not in columns and {"case_id", "update_id", "answer"} <= columns
    assert IIN.encode() not in b"".join(p.read_bytes() for p in tmp_path.glob("old.db*"))
