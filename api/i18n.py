"""The console's texts in Kazakh, Russian and English, from gettext ``.po`` catalogues.

Why ``.po`` read with Babel: it is the format translators and their tools know, the catalogues are
plain text in review, and Babel's extractor checks them against the templates (a test does). They are
read directly at start-up, so there is no compiled ``.mo`` to keep in sync. A text with no translation
falls back to English (the msgid).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

__all__ = ["DEFAULT", "LANGUAGES", "catalogue", "gettext"]

LOCALES = Path(__file__).parent / "locales"
LANGUAGES: dict[str, str] = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
DEFAULT = "kk"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid → translation for ``lang`` (empty for English, whose msgids are the texts)."""
    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string and isinstance(m.id, str)}


def gettext(lang: str, text: str) -> str:
    """``text`` in ``lang``."""
    return catalogue(lang).get(text, text) if lang in LANGUAGES else text
