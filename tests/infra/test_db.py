"""Our tables' engine (``infra.db``): a table made by an older version gets the nullable columns it lacks (e.g.
``api_keys.bin``: keys made before are bound to no organisation); a failed write names its statement, never its
values (IINs, names); a database whose ``idempotency_records`` still keep answers (bodies with personal data) gets
the table anew."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from infra.db import add_missing_columns, engine_for
from models.tables import Subscriber

IIN, SURNAME, NAME = "850412400309", "Бекова", "Динара"


def test_a_table_made_by_an_older_version_gets_its_new_nullable_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE api_keys (key_id VARCHAR PRIMARY KEY, secret_sha256 VARCHAR NOT NULL, name VARCHAR NOT NULL,"
            " roles VARCHAR NOT NULL, created_at DATETIME NOT NULL, revoked_at DATETIME)"
        )
        db.execute("INSERT INTO api_keys VALUES ('k1', 'x', 'old system', 'operator:bank', '2026-01-01', NULL)")
    eng = engine_for(f"sqlite:///{path}")
    assert "bin" in {c["name"] for c in inspect(eng).get_columns("api_keys")}
    with eng.connect() as conn:
        assert conn.execute(text("SELECT key_id, bin FROM api_keys")).all() == [("k1", None)]
    assert add_missing_columns(eng) == []  # nothing left to add; a second process finds the same


def test_a_failed_write_does_not_repeat_its_values(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    eng = engine_for(f"sqlite:///{tmp_path / 'engine.db'}")
    with Session(eng) as s:
        s.add(Subscriber(iin=IIN, surname=SURNAME, name=NAME))
        s.commit()
    with caplog.at_level(logging.DEBUG), Session(eng) as s, pytest.raises(IntegrityError) as failed:
        s.add(Subscriber(iin=IIN, surname=SURNAME, name=NAME))  # the IIN is unique: the write fails
        s.commit()
    message = str(failed.value)
    assert "INSERT INTO subscribers" in message and "parameters hidden" in message  # what failed, not with what
    for value in (IIN, SURNAME, NAME):
        assert value not in message and value not in caplog.text


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
