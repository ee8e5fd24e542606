"""What a text may hold that a person, a form or a signed document shows: no character its reader does not see."""

from __future__ import annotations

import re

__all__ = ["HIDDEN_CHARACTERS"]

HIDDEN_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u034f\u061c\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
"""Characters a reader does not see: controls (not tab and line ends), the direction marks (U+061C, U+200E, U+200F)
and overrides, and the zero-width and invisible formatting characters (soft hyphen, U+200B, word joiner, BOM…);
U+202E, or U+061C before digits, turns an IIN around on the console and in a signed document. The joiners emoji and
scripts need (U+200C, U+200D) and the tag characters of flag emoji stay."""
