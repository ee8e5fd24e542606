"""Keyed hashes that stand in for personal data in workflow ids and search attributes.

The key is the installation's own (``pseudonym_key``): ``KZ_PSEUDONYM_KEY``, else ``<data dir>/pseudonym-key``,
generated at random on first use while key generation is on (``infra.keys``). A case id is only as
unguessable as this key: with a known key, a subscriber number (a few million candidates) is recovered from
its ``fraud_check-…`` id by enumeration in seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from infra.keys import KeyMissing, read_or_create
from infra.settings import settings

__all__ = ["KEY_FILE", "case_id", "pseudonym", "pseudonym_key"]

KEY_FILE = "pseudonym-key"
MIN_KEY_CHARS = 32
_PUBLIC = frozenset({"dev-only-pseudonym-key-change-me"})
"""Values that were once shipped as defaults: public, so never a key."""


@cache
def pseudonym_key() -> bytes:
    """The installation's pseudonym key (read once per process); ``KeyMissing`` names the setting when there is
    none and key generation is off, or when the configured value is too short or a published default."""
    configured = settings().pseudonym_key.get_secret_value().strip()
    if configured:
        if configured in _PUBLIC or len(configured) < MIN_KEY_CHARS:
            raise KeyMissing(
                f"KZ_PSEUDONYM_KEY must be a secret of at least {MIN_KEY_CHARS} characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`), not a published default"
            )
        return configured.encode()
    path = settings().data_dir / KEY_FILE
    text = read_or_create(
        path,
        lambda: secrets.token_urlsafe(32),
        generate=settings().key_generation,
        missing=f"no pseudonym key: set KZ_PSEUDONYM_KEY or provide {path} (key generation is off: "
        "KZ_KEY_GENERATION=false)",
    )
    if len(text) < MIN_KEY_CHARS:
        raise KeyMissing(f"{path} holds fewer than {MIN_KEY_CHARS} characters: not a key")
    return text.encode()


def pseudonym(*parts: str) -> str:
    """A stable, keyed, non-reversible token for personal data (HMAC-SHA256, 20 hex characters)."""
    message = "\x1f".join(p.strip() for p in parts).encode()
    return hmac.new(pseudonym_key(), message, hashlib.sha256).hexdigest()[:20]


def case_id(procedure: str, *parts: str) -> str:
    """A deterministic workflow id: the same application gives the same id, so it cannot start twice."""
    return f"{procedure}-{pseudonym(procedure, *parts)}"
