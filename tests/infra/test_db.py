"""Our database (``infra.db``): a table made by an older version gets the nullable columns it lacks, so an
existing data directory keeps working after an upgrade (e.g. ``api_keys.bin``: keys made before are bound to no
organisation)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import inspect, text

from infra.db import add_missing_columns, engine_for


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
