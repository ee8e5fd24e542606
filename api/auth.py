"""API keys and roles: keys are stored as SHA-256 of their secret part and shown once, when created.

A key reads ``kz_<key id>.<secret>``. The key id is public (it names the key in logs and the table); the
secret has 256 bits of entropy, so a plain SHA-256 is enough to make the stored value useless to a thief.
Roles: ``staff``, ``auditor``, ``supervisor``, ``operator:<system>``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import select

from infra.db import session
from models.procedure import Role
from models.tables import ApiKey

__all__ = [
    "CASE_READERS",
    "CODEC_ROLES",
    "CONSOLE_ROLES",
    "Principal",
    "create_key",
    "list_keys",
    "revoke_key",
    "valid_role",
    "verify_key",
]

_ROLE = re.compile(r"^(staff|auditor|supervisor|operator:[a-z0-9_]{1,64})$")
_KEY = re.compile(r"^kz_([0-9a-f]{12})\.([A-Za-z0-9_-]{20,100})$")

# Who may read cases, their documents and the outbox; operator systems send their events only.
CASE_READERS = frozenset({Role.STAFF, Role.AUDITOR, Role.SUPERVISOR})
CONSOLE_ROLES = CASE_READERS
CODEC_ROLES = frozenset({Role.STAFF, Role.AUDITOR})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's id, its holder's name and roles."""

    key_id: str
    name: str
    roles: frozenset[str]

    def may(self, allowed: frozenset[str]) -> bool:
        return bool(self.roles & allowed)

    def describe(self) -> str:
        """Who this is, as a case records it: the key holder's name and the key's id."""
        return f"{self.name} (key {self.key_id})"


def valid_role(role: str) -> bool:
    return bool(_ROLE.match(role))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(name: str, roles: list[str]) -> tuple[str, ApiKey]:
    """Create a key; returns the full key (shown once, never stored) and its row."""
    bad = [r for r in roles if not valid_role(r)]
    if bad or not roles:
        raise ValueError(
            f"unknown role(s) {', '.join(bad) or '(none given)'}: use staff, auditor, supervisor or operator:<system>"
        )
    if not name.strip():
        raise ValueError("give the key holder's name")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = ApiKey(key_id=key_id, secret_sha256=_digest(secret), name=name.strip(), roles=",".join(sorted(set(roles))))
    with session() as s:
        s.add(row)
    return f"kz_{key_id}.{secret}", row


def verify_key(key: str | None) -> Principal | None:
    """The principal of a valid, unrevoked key, else None (the same answer for every kind of wrong key)."""
    m = _KEY.match(key.strip()) if key else None
    if m is None:
        return None
    key_id, secret = m.groups()
    with session() as s:
        row = s.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        _digest(secret)  # same work either way
        return None
    if not hmac.compare_digest(row.secret_sha256, _digest(secret)):
        return None
    return Principal(key_id=row.key_id, name=row.name, roles=frozenset(r for r in row.roles.split(",") if r))


def list_keys() -> list[ApiKey]:
    with session() as s:
        return list(s.exec(select(ApiKey).order_by(ApiKey.created_at)))  # type: ignore[arg-type]


def revoke_key(key_id: str) -> bool:
    """Revoke a key; False when there is no such key."""
    with session() as s:
        row = s.get(ApiKey, key_id)
        if row is None:
            return False
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            s.add(row)
        return True


def principal_from_session(data: dict[str, object] | object) -> Principal | None:
    """The console user of a session, re-checked against the keys table (a revoked key signs out)."""
    key_id = data.get("key_id") if isinstance(data, dict) else None
    if not isinstance(key_id, str):
        return None
    with session() as s:
        row = s.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return None
    return Principal(key_id=row.key_id, name=row.name, roles=frozenset(r for r in row.roles.split(",") if r))
