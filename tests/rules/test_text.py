"""What a text may hold (``rules.text.HIDDEN_CHARACTERS``): the characters a reader does not see are refused at the
edges; what people and emoji need stays."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Asel\U000e0041\U000e0042 Bekova", 0xE0041),  # tag characters alone spell hidden ASCII
        ("🏴\U000e0041\U000e0042\U000e007f", 0xE0041),  # not a subdivision's tags (capitals)
        ("Asel\ufe0f Bekova", 0xFE0F),  # an emoji's variation selector after a letter
        ("Asel\U000e0100 Bekova", 0xE0100),
        ("❤\U000e0100", 0xE0100),  # an ideographic variation selector, after an emoji too
        ("Asel\u180b Bekova", 0x180B),  # the Mongolian free variation selectors
        ("ᠠ\u180f", 0x180F),
        ("Asel\u17b4Bekova", 0x17B4),  # the Khmer invisible vowels
        ("ក\u17b5", 0x17B5),
        ("Asel\u200dBekova", 0x200D),  # a joiner between letters
        ("👨\u200dBekova", 0x200D),
        ("Asel\u200d👩", 0x200D),
        ("👨\u200d", 0x200D),
        ("❤️\ufe0f", 0xFE0F),  # a second selector
    ],
)
def test_emoji_joiners_selectors_and_tags_outside_an_emoji_sequence_are_found(text: str, code: int) -> None:
    """An adversarial run (2026-12-04) put each of these into a name and a ``decided_by``, and they were taken: they
    were kept for emoji, but nothing asked whether an emoji was there."""
    found = HIDDEN_CHARACTERS.search(text)
    assert found is not None and ord(found.group()) == code


@pytest.mark.parametrize(
    "text",
    [
        "Асел 👨\u200d👩\u200d👧 Бекова",
        "❤️ and ❤︎",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Scotland",
        "👩🏽\u200d💻",
        "🏳️\u200d🌈",
        "1️⃣",
        "ZWNJ for scripts: می\u200cخواهم",
    ],
)
def test_emoji_sequences_keep_their_joiners_selectors_and_tags(text: str) -> None:
    assert HIDDEN_CHARACTERS.search(text) is None


def test_a_decision_signed_with_a_tag_character_is_refused_at_the_edge() -> None:
    """``decided_by`` is recorded as who decided and shown on the console: ``supervisor<U+E0041>`` was taken."""
    from infra.cases import CaseError, check_text
    from models.case import LawMigration

    for by in ("supervisor-1\U000e0041\U000e0042", "supervisor-1\u200d", "supervisor-1\ufe0f"):
        migration = LawMigration(to_version="58/2024", reason="Order 621-KN", decided_by=by)
        with pytest.raises(CaseError, match=f"decided_by: holds the invisible character U\\+{ord(by[12]):04X}"):
            check_text(migration)
    check_text(LawMigration(to_version="58/2024", reason="Order 621-KN ❤️", decided_by="supervisor-1 👩\u200d💻"))


_ALWAYS = ["\u202e", "\u200b", "\u180b", "\u17b4", "\x00"]
_PARTS = ["\u200d", "\ufe0f", "\ufe0e", "\U000e0041", "\U000e0067", "\U000e007f", "\U000e0100", "\u20e3"]


@given(st.lists(st.sampled_from(["a", "Ә", "1", " ", "👨", "❤", "🏴", "🏽", *_PARTS, *_ALWAYS]), max_size=12))
def test_what_is_found_is_hidden_and_what_is_always_hidden_is_found(parts: list[str]) -> None:
    text = "".join(parts)
    found = HIDDEN_CHARACTERS.search(text)
    assert found is None or found.group() in (*_PARTS[:-1], *_ALWAYS)  # U+20E3 is drawn: never found
    if any(c in text for c in _ALWAYS):
        assert found is not None
