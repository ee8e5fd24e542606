"""Our own tables behave the same on SQLite and on a real PostgreSQL server (one setting: the URL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, Table, create_engine, inspect, text
from sqlmodel import Session, SQLModel, select

from infra import db, store
from infra.settings import settings
from models.deadlines import Escalation
from models.sms import SmsRequest
from models.tables import SupervisorNotification
from tests.postgres import find_binaries, postgres_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'engine.db'}"
        return
    found = find_binaries()
    if isinstance(found, str):
        pytest.skip(found)
    with postgres_server() as url:
        yield url


@pytest.fixture
def backend(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(settings(), "database_url", database_url)
    return db.engine().dialect.name


NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_the_setting_chooses_the_backend(backend: str, database_url: str) -> None:
    assert backend == ("postgresql" if database_url.startswith("postgresql") else "sqlite")


def test_escalations_are_stored_once(backend: str) -> None:
    e = Escalation(
        case_id="c-1", procedure="p", deadline_key="check", term_text="t", cite="171 p.119", due=NOW, breached_at=NOW
    )
    assert store.record_escalation(e) is True
    assert store.record_escalation(e) is False


def test_documents_signatures_and_deliveries(backend: str) -> None:
    doc = store.store_document(
        doc_id="c-1/permit",
        case_id="c-1",
        kind="permit",
        title="Permit",
        cite="665/NK p.7",
        content="Рұқсат №1".encode(),
        sha256="x" * 64,
        created_at=NOW,
    )
    again = store.store_document(
        doc_id="c-1/permit",
        case_id="c-1",
        kind="permit",
        title="Other",
        cite="",
        content=b"other",
        sha256="y" * 64,
        created_at=NOW,
    )
    assert again.content == doc.content == "Рұқсат №1".encode()
    store.store_signature("c-1/permit", b"\x30\x01sig", b"PEM", "CN=Head")
    store.store_signature("c-1/permit", b"\x30\x01other", b"PEM", "CN=Other")
    signed = store.load_document("c-1/permit")
    assert signed is not None and signed.signature == b"\x30\x01sig" and signed.signer_subject == "CN=Head"
    first = store.deliver_document("c-1/permit", "c-1", "recipient-token")
    assert store.deliver_document("c-1/permit", "c-1", "recipient-token") == first


def test_sms_and_forwards_are_idempotent(backend: str) -> None:
    req = SmsRequest(message_id="c-2/otp", case_id="c-2", to="+77011234567", sender="1414", text="code")
    assert store.record_sms(req, NOW) == (NOW, True)
    assert store.record_sms(req, datetime(2027, 1, 1, tzinfo=UTC))[1] is False
    t = store.record_forward("c-2", "body", ["d1", "d2"], NOW)
    assert store.record_forward("c-2", "other", [], datetime(2027, 1, 1, tzinfo=UTC)) == t


# -- every table, not only the store's functions --------------------------------------------------------------

WHEN = datetime(2026, 11, 23, 5, 7, 9, 123456, tzinfo=UTC)


def _value(column: Column[Any], n: int) -> Any:
    """A value of ``column``'s type that a backend could get wrong: non-ASCII text, a high byte, an instant."""
    kind = datetime if isinstance(getattr(column.type, "impl", column.type), DateTime) else column.type.python_type
    if kind is bool:
        return n % 2 == 0
    if kind is int:
        return 2_000_000_000 + n  # near the top of PostgreSQL's INTEGER
    if kind is datetime:
        return WHEN + timedelta(minutes=n)
    if kind is bytes:
        return bytes([0, 255, n % 256]) + "Рұқсат".encode()
    return f"Қазақстан-{column.table.name}-{column.name}-{n}"


def _rows() -> list[tuple[Table, dict[str, Any]]]:
    """One row for every table, parents first; a foreign key refers to the parent's row."""
    rows: list[tuple[Table, dict[str, Any]]] = []
    made: dict[str, dict[str, Any]] = {}
    for table in SQLModel.metadata.sorted_tables:
        row: dict[str, Any] = {}
        for n, column in enumerate(table.columns):
            if column.foreign_keys:
                fk = next(iter(column.foreign_keys)).column
                row[column.name] = made[fk.table.name][fk.name]
            else:
                row[column.name] = _value(column, n)
        made[table.name] = row
        rows.append((table, row))
    return rows


def test_every_table_is_made_and_keeps_what_it_is_given(backend: str) -> None:
    import models.tables  # noqa: F401  (every table of ours is on SQLModel.metadata)

    eng = db.engine()
    ours = {t.name for t in SQLModel.metadata.sorted_tables}
    assert len(ours) >= 30 and {"api_keys", "idempotency_records", "console_sessions", "start_ledger"} <= ours
    assert ours <= set(inspect(eng).get_table_names())
    rows = _rows()
    with eng.begin() as conn:
        for table, _row in reversed(rows):
            conn.execute(table.delete())
        for table, row in rows:
            conn.execute(table.insert().values(**row))
    with eng.connect() as conn:
        for table, row in rows:
            [got] = conn.execute(table.select()).mappings().all()
            for name, sent in row.items():
                assert got[name] == sent, f"{backend}: {table.name}.{name}"  # instants come back aware, in UTC
    with eng.begin() as conn:
        for table, _row in reversed(rows):
            conn.execute(table.delete())


def test_instants_stay_utc_when_the_servers_zone_is_not(backend: str, database_url: str) -> None:
    """A PostgreSQL server whose zone is Asia/Almaty: our sessions still run in UTC, and an instant written is the
    instant read, by us and by a plain session of the server (the columns hold instants, not wall times)."""
    if backend != "postgresql":
        pytest.skip("a server's time zone is PostgreSQL's")
    with db.engine().begin() as conn:
        conn.execute(text("ALTER DATABASE postgres SET timezone TO 'Asia/Almaty'"))
    try:
        almaty = db.engine_for(database_url + "?application_name=almaty")  # a new engine: new sessions
        with almaty.connect() as conn:
            assert conn.execute(text("SELECT current_setting('TimeZone')")).scalar() == "UTC"
        e = Escalation(
            case_id="c-tz", procedure="p", deadline_key="tz", term_text="t", cite="c", due=WHEN, breached_at=WHEN
        )
        assert store.record_escalation(e) is True
        with Session(almaty) as s:
            row = s.exec(select(SupervisorNotification).where(SupervisorNotification.case_id == "c-tz")).one()
        assert row.due == WHEN and row.due.utcoffset() == timedelta(0)
        raw = create_engine(database_url)
        with raw.connect() as plain:
            zone = plain.execute(text("SELECT current_setting('TimeZone')")).scalar()
            due = plain.execute(text("SELECT due FROM supervisor_notifications WHERE case_id = 'c-tz'")).scalar()
        raw.dispose()
        assert zone == "Asia/Almaty" and due == WHEN and due.utcoffset() == timedelta(hours=5)
    finally:
        with db.engine().begin() as conn:
            conn.execute(text("ALTER DATABASE postgres RESET timezone"))


def test_hosts_starting_together_on_an_empty_database_make_the_tables_once(backend: str, database_url: str) -> None:
    """Four engines (as four hosts) reach a fresh PostgreSQL database at once: none fails making the tables."""
    if backend != "postgresql":
        pytest.skip("SQLite is one host's file")
    name = f"fresh_{uuid.uuid4().hex[:8]}"
    with create_engine(database_url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    fresh = database_url.rsplit("/", 1)[0] + f"/{name}"
    with ThreadPoolExecutor(4) as pool:
        engines = list(pool.map(lambda i: db.engine_for(f"{fresh}?application_name=host{i}"), range(4)))
    ours = {t.name for t in SQLModel.metadata.sorted_tables}
    assert ours <= set(inspect(engines[0]).get_table_names())
    for eng in engines:
        eng.dispose()
