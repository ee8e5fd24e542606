"""API keys and roles: keys are stored as SHA-256 of their secret part and shown once, when created.

A key reads ``kz_<key id>.<secret>``. The key id is public (it names the key in logs and the table); the
secret has 256 bits of entropy, so a plain SHA-256 is enough to make the stored value useless to a thief.
Roles: ``staff``, ``auditor``, ``supervisor``, ``operator:<system>``.

An operator system acts for an organisation: its key is bound to that organisation's BIN when created, and acts
only on the cases whose parties list that BIN for its role (``models.procedure.Caller``). A key with operator
roles is therefore refused without a BIN, and a BIN is refused on a person's key (staff, supervisor, auditor) or
on a key that mixes both kinds. Keys made before this rule have no BIN: they act on nothing until re-issued.
Nor does one key hold two operator roles whose events check one another (``mixed_checks``): a key made with such
a mix before that rule acts on nothing either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import select

from infra.db import session
from models.procedure import Caller, Role
from models.tables import ApiKey
from rules.identifiers import bin_check
from rules.text import HIDDEN_CHARACTERS

__all__ = [
    "CASE_READERS",
    "CODEC_ROLES",
    "CONSOLE_ROLES",
    "Principal",
    "create_key",
    "list_keys",
    "mixed_checks",
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
    bin: str | None = None
    """The organisation an operator system's key acts for."""

    def may(self, allowed: frozenset[str]) -> bool:
        return self.caller.may(allowed)

    def describe(self) -> str:
        """Who this is, as a case records it: the key holder's name, its organisation's BIN and the key's id."""
        return f"{self.name} (BIN {self.bin}, key {self.key_id})" if self.bin else f"{self.name} (key {self.key_id})"

    @property
    def caller(self) -> Caller:
        """This key as the start and event paths check it against a case's parties."""
        return Caller(key_id=self.key_id, bin=self.bin, roles=self.roles)


def valid_role(role: str) -> bool:
    return bool(_ROLE.fullmatch(role))  # not ``match``: its ``$`` takes a role with a newline after it


def mixed_checks(roles: Iterable[str]) -> tuple[str, str] | None:
    """Two of a key's ``roles`` whose events check one another (the biometric provider's verdict on the portal's
    request, act 58), or ``None``: a key that holds both is refused when made and acts on nothing when used."""
    from workflows.catalogue import roles_checking_one_another  # the catalogue: not for every importer of keys

    return roles_checking_one_another(roles)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(name: str, roles: list[str], bin: str | None = None) -> tuple[str, ApiKey]:
    """Create a key; returns the full key (shown once, never stored) and its row. A key with operator-system
    roles needs ``bin``, its organisation's BIN (validated); a person's key (staff, supervisor, auditor) has none."""
    bad = [r for r in roles if not valid_role(r)]
    if bad or not roles:
        raise ValueError(
            f"unknown role(s) {', '.join(bad) or '(none given)'}: use staff, auditor, supervisor or operator:<system>"
        )
    if not name.strip():
        raise ValueError("give the key holder's name")
    if hidden := HIDDEN_CHARACTERS.search(name):
        # the name is shown on the console and recorded as who started a case; the console fills decisions with it
        raise ValueError(f"the key holder's name holds the invisible character U+{ord(hidden.group()):04X}")
    operator = [r for r in roles if Role.is_operator(r)]
    if operator and len(operator) != len(roles):
        raise ValueError("a key is either an operator system's (operator:<system>) or a person's, not both")
    if operator and not bin:
        raise ValueError("an operator system's key acts for its organisation: give its BIN (--bin)")
    if bin and not operator:
        raise ValueError("a BIN binds an operator system's key; staff, supervisor and auditor keys have none")
    if pair := mixed_checks(roles):
        raise ValueError(
            f"{pair[0]} checks what {pair[1]} sends: one key may not hold both (give each system a key of its own)"
        )
    org = bin_check(bin) if bin else None
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = ApiKey(
        key_id=key_id, secret_sha256=_digest(secret), name=name.strip(), roles=",".join(sorted(set(roles))), bin=org
    )
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
    return _principal(row)


def _principal(row: ApiKey) -> Principal:
    return Principal(
        key_id=row.key_id, name=row.name, roles=frozenset(r for r in row.roles.split(",") if r), bin=row.bin
    )


def key_holder(key_id: str) -> str | None:
    """Who holds the key ``key_id``, as a case records it (``Principal.describe``), revoked or not; ``None`` for a
    key this installation never made."""
    with session() as s:
        row = s.get(ApiKey, key_id)
    return _principal(row).describe() if row is not None else None


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
    return _principal(row)
