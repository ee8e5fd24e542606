"""Our own tables behave the same on SQLite and on a real PostgreSQL server (one setting: the URL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from infra import db, store
from infra.settings import settings
from models.deadlines import Escalation
from models.sms import SmsRequest
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
