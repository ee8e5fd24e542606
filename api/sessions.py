"""Console sessions kept on the server, so that signing out ends them.

The console's cookie (Starlette's ``SessionMiddleware``, signed with ``KZ_SESSION_SECRET``) carries a random
session id of 256 bits; the ``console_sessions`` table holds its SHA-256 with the key it signed in with, when,
and when it was last used. A request opens the console only while its row exists, was used within
``KZ_SESSION_IDLE_SECONDS`` (30 min), was created within ``KZ_SESSION_MAX_SECONDS`` (8 h), and its key is not
revoked (``api.auth`` re-reads the key on every request). Signing out deletes the row, so a cookie copied
before (from a shared computer, a proxy's log) opens nothing afterwards; an expired or revoked session's row is
deleted when it is met, and rows past their limits are purged at every sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, delete

from api.auth import Principal, principal_from_session
from infra.db import session as db_session
from infra.settings import settings
from models.tables import ConsoleSession

__all__ = ["SESSION_ID", "close_session", "open_session", "session_principal"]

SESSION_ID = "sid"
"""The cookie's field holding the session id."""


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives back naive UTC


def open_session(key_id: str) -> str:
    """A new session for the key's holder; returns the id the cookie carries (never stored as such)."""
    now = datetime.now(UTC)
    limits = settings()
    session_id = secrets.token_urlsafe(32)
    with db_session() as s:
        s.exec(
            delete(ConsoleSession).where(
                (col(ConsoleSession.created_at) < now - timedelta(seconds=limits.session_max_seconds))
                | (col(ConsoleSession.last_seen_at) < now - timedelta(seconds=limits.session_idle_seconds))
            )
        )
        s.add(ConsoleSession(session_sha256=_digest(session_id), key_id=key_id, created_at=now, last_seen_at=now))
    return session_id


def session_principal(data: Mapping[str, object]) -> Principal | None:
    """The signed-in user of the cookie's session data, or None (no session, signed out, expired, key revoked).

    A live session's last use is moved forward (at most every tenth of the idle limit, to spare writes)."""
    session_id = data.get(SESSION_ID)
    if not isinstance(session_id, str):
        return None
    now = datetime.now(UTC)
    limits = settings()
    digest = _digest(session_id)
    with db_session() as s:
        row = s.get(ConsoleSession, digest)
    if row is None:
        return None
    idle = now - _aware(row.last_seen_at)
    expired = idle > timedelta(seconds=limits.session_idle_seconds) or now - _aware(row.created_at) > timedelta(
        seconds=limits.session_max_seconds
    )
    principal = None if expired else principal_from_session({"key_id": row.key_id})
    if principal is None:
        _delete(digest)
    elif idle > timedelta(seconds=limits.session_idle_seconds / 10):
        with db_session() as s:
            s.exec(update(ConsoleSession).where(col(ConsoleSession.session_sha256) == digest).values(last_seen_at=now))
    return principal


def _delete(digest: str) -> None:
    with db_session() as s:
        s.exec(delete(ConsoleSession).where(col(ConsoleSession.session_sha256) == digest))


def close_session(data: Mapping[str, object]) -> None:
    """Sign out: the session's row is deleted, whatever the cookie still says."""
    session_id = data.get(SESSION_ID)
    if isinstance(session_id, str):
        _delete(_digest(session_id))
