"""Our own tables' database: SQLite file by default, PostgreSQL by setting ``KZ_DATABASE_URL``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from infra.settings import settings

__all__ = ["engine", "session"]


@cache
def engine() -> Engine:
    """The process's engine; creates the tables on first use."""
    import models.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

    url = settings().db_url()
    eng = create_engine(url, pool_pre_ping=True)
    if url.startswith("sqlite"):

        @event.listens_for(eng, "connect")
        def _pragmas(conn, _record):  # type: ignore[no-untyped-def]
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.close()

    SQLModel.metadata.create_all(eng)
    return eng


@contextmanager
def session() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine(), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except Exception:
            s.rollback()
            raise
