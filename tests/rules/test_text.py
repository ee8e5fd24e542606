"""What a text may hold (``rules.text.HIDDEN_CHARACTERS``): the characters a reader does not see are refused at the
edges; what people and emoji need stays."""

from __future__ import annotations

import pytest

from rules.text import HIDDEN_CHARACTERS


@pytest.mark.parametrize(
    "code",
    [0x202E, 0x200B, 0x2060, 0x200E, 0x2066, 0x00AD, 0xFEFF, 0x3164, 0x115F, 0x1160, 0xFFA0, 0x2800, 0x2028, 0x2029],
)
def test_a_character_drawn_blank_or_not_at_all_is_found(code: int) -> None:
    """Among them the Hangul fillers, the braille blank and the line separators an adversarial run put into an
    applicant's name (2026-12-04): ``Asel<U+3164>Bekova`` read as two words on every page."""
    found = HIDDEN_CHARACTERS.search(f"Asel{chr(code)}Bekova")
    assert found is not None and ord(found.group()) == code


@pytest.mark.parametrize(
    "text", ["Асел Бекова", "line\nnext\ttab", "❤️", "👨\u200d👩\u200d👧", "🏴\U000e0067\U000e0062\U000e007f"]
)
def test_what_people_and_emoji_need_stays(text: str) -> None:
    assert HIDDEN_CHARACTERS.search(text) is None
