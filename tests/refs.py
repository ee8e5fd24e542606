"""References for tests that read as no personal data."""

from __future__ import annotations

import uuid

_DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def opaque(prefix: str, length: int = 12) -> str:
    """``prefix`` and ``length`` random letters: a fraud ref, an order ref or an application number no other test
    uses. Letters, never hex: a run of hex digits read as a phone number one time in a few thousand
    (``ref-service:b77070713332``), and such a ref is refused, such an application number hidden from the lists."""
    return prefix + uuid.uuid4().hex[:length].translate(_DIGITS_AS_LETTERS)
