"""Our own tables' database: SQLite file by default, PostgreSQL (or any SQLAlchemy URL) by setting
``KZ_DATABASE_URL``, e.g. ``postgresql+psycopg://user:pass@host/db``. The schema is the same on both, and
every table (the activities' and the API's) is made by the first process that connects
(``tests/store/test_backends.py`` writes and reads each one on both). Instants are stored as UTC: PostgreSQL
sessions run in UTC whatever the server's zone.

The engine hides statement parameters (``hide_parameters``): an error of a write (a constraint, a lost
connection) names the statement but never the values, which are IINs, names and phone numbers, so neither the
worker's log of a failed activity nor a failure recorded in a history repeats them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine

from infra.settings import settings

__all__ = ["engine", "engine_for", "refusal", "session"]

log = logging.getLogger(__name__)

_SCHEMA_LOCK = 0x6B7A5F7363686D61
"""The PostgreSQL advisory lock held while a process makes or amends our tables."""


def add_missing_columns(eng: Engine) -> list[str]:
    """Add the nullable columns a table made by an older version lacks (``create_all`` makes only new tables),
    e.g. ``api_keys.bin``: the existing rows get NULL. Returns ``table.column`` of each column added."""
    added = []
    existing_tables = set(inspect(eng).get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        have = {c["name"] for c in inspect(eng).get_columns(table.name)}
        for column in table.columns:
            if column.name in have or not column.nullable or column.primary_key:
                continue
            kind = column.type.compile(dialect=eng.dialect)
            try:
                with eng.begin() as conn:
                    conn.execute(text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
            except DBAPIError:  # another process starting at the same time added it first
                if column.name not in {c["name"] for c in inspect(eng).get_columns(table.name)}:
                    raise
                continue
            added.append(f"{table.name}.{column.name}")
            log.warning("added column %s.%s to a table made by an older version", table.name, column.name)
    return added


@cache
def engine_for(url: str) -> Engine:
    """One engine per database URL; creates the tables on first use."""
    import models.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

    # A pooled PostgreSQL connection may have been closed by the server or a proxy: ping it before use. A SQLite
    # connection is a file handle in this process; the ping was 2.5% of a worker's samples (issue 18).
    kwargs: dict[str, Any] = {"pool_pre_ping": not url.startswith("sqlite"), "hide_parameters": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif url.startswith("postgresql"):
        # Our columns hold UTC without an offset (as SQLite keeps them): a session in the server's own zone (say
        # Asia/Almaty) would turn an aware instant into that zone's wall time, read back as UTC hours off.
        kwargs["connect_args"] = {"options": "-c timezone=UTC"}
    eng = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(eng, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    with eng.connect() as lock:
        if eng.dialect.name == "postgresql":  # hosts starting together on an empty database make the tables once
            lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _SCHEMA_LOCK})
            lock.commit()
        try:
            _drop_stored_responses(eng)
            _create_tables(eng)
            add_missing_columns(eng)
        finally:
            if eng.dialect.name == "postgresql":
                lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _SCHEMA_LOCK})
                lock.commit()
    return eng


def _create_tables(eng: Engine) -> None:
    """Create the tables that do not exist. Processes starting together (a worker's first activity and a command's
    first write) race between the check and the ``CREATE``: the loser's "already exists" is the winner's table,
    so it checks again."""
    for attempt in range(5):
        try:
            SQLModel.metadata.create_all(eng)
            return
        except OperationalError as exc:
            if "already exists" not in str(exc) or attempt == 4:
                raise


def _drop_stored_responses(eng: Engine) -> None:
    """A database made before idempotency records stopped keeping responses (answers with personal data) has
    them in a ``body`` column: that table is dropped and made anew (it remembers keys for a day only). SQLite
    overwrites the freed pages (``secure_delete``) and checkpoints its WAL, so the answers are gone from the files."""
    tables = inspect(eng)
    if "idempotency_records" in tables.get_table_names() and "body" in {
        c["name"] for c in tables.get_columns("idempotency_records")
    }:
        sqlite = eng.dialect.name == "sqlite"
        with eng.begin() as conn:
            if sqlite:
                conn.execute(text("PRAGMA secure_delete=ON"))
            conn.execute(text("DROP TABLE idempotency_records"))
        if sqlite:
            with eng.connect() as conn:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def refusal(exc: SQLAlchemyError) -> str:
    """What the database said, for a log: the error's class and the driver's first line (``database is locked``),
    never the statement or its values (they may be personal data)."""
    said = str(exc.orig).splitlines()[0][:120] if isinstance(exc, DBAPIError) and exc.orig is not None else ""
    return f"{exc.__class__.__name__}: {said}" if said else exc.__class__.__name__


def engine() -> Engine:
    """The engine of the configured database."""
    return engine_for(settings().db_url())


@contextmanager
def session() -> Iterator[Session]:
    """A session that commits on success and rolls back on error; objects stay readable after commit."""
    with Session(engine(), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except Exception:
            s.rollback()
            raise
