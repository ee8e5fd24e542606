"""Keyed hashes that stand in for personal data in workflow ids and search attributes."""

from __future__ import annotations

import hashlib
import hmac

from infra.settings import settings

__all__ = ["case_id", "pseudonym"]


def pseudonym(*parts: str) -> str:
    """A stable, keyed, non-reversible token for personal data (HMAC-SHA256, 20 hex characters)."""
    message = "\x1f".join(p.strip() for p in parts).encode()
    return hmac.new(settings().pseudonym_key.encode(), message, hashlib.sha256).hexdigest()[:20]


def case_id(procedure: str, *parts: str) -> str:
    """A deterministic workflow id: the same application gives the same id, so it cannot start twice."""
    return f"{procedure}-{pseudonym(procedure, *parts)}"
