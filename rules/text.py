"""What a text may hold that a person, a form or a signed document shows: no character its reader does not see."""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "CONSTRAINT_ONLY",
    "EDS_PASSWORD_POLICY",
    "HIDDEN_CHARACTERS",
    "Sentence",
    "error_loc",
    "error_text",
    "path_shown",
    "without_input",
]


class Sentence(str):
    """An English sentence that keeps its template and values, so that a reader can say it in another language:
    ``Sentence("act {key} is not in force on {day}", key="58", day="2024-06-01")`` is that text, everywhere a
    ``str`` goes (logs, exceptions, problem documents), and the console says it through its catalogue
    (``api.i18n.say``): the template translated, each value that is a ``Sentence`` itself said too, other values as
    they are. The templates are msgids (``api.i18n.sentence_templates`` reads them from the code)."""

    template: str
    values: dict[str, str]
    texts: dict[str, str]
    """Its own translations by language (``own``), said instead of the catalogue's; empty for a catalogue's text."""

    def __new__(cls, template: str, /, **values: str) -> Sentence:
        self = super().__new__(cls, template.format(**values))
        self.template = template
        self.values = values
        self.texts = {}
        return self

    @classmethod
    def word(cls, text: str) -> Sentence:
        """A word of the catalogues (a case's status, why a day is off) as a sentence of its own, said by its
        translation; a brace in it is text."""
        return cls(text.replace("{", "{{").replace("}", "}}"))

    @classmethod
    def own(cls, text: str, **texts: str) -> Sentence:
        """A text that brings its own translations (the law files' words: an act's title, an annex item, in
        ``kk``/``ru``), said from them, not through the catalogue; English ``text`` where it has none."""
        said = cls.word(text)
        said.texts = {lang: t for lang, t in texts.items() if t}
        return said

    def __reduce__(self) -> tuple[Any, ...]:
        return _sentence, (self.template, self.values, self.texts)

    def data(self) -> dict[str, Any]:
        """The sentence as JSON data (its template and values, a value that is a sentence as data too, its own
        translations), to cross a boundary that carries only data: a case's refusal of an Update, as its failure's
        details."""
        out: dict[str, Any] = {
            "template": self.template,
            "values": {k: v.data() if isinstance(v, Sentence) else str(v) for k, v in self.values.items()},
        }
        if self.texts:
            out["texts"] = dict(self.texts)
        return out

    @classmethod
    def from_data(cls, data: Any) -> Sentence | None:
        """The sentence ``data()`` gave, or ``None`` when ``data`` is not one."""
        if not (isinstance(data, dict) and isinstance(data.get("template"), str)):
            return None
        values: dict[str, str] = {}
        for k, v in (data.get("values") or {}).items():
            if not isinstance(k, str):
                return None
            inner = cls.from_data(v) if isinstance(v, dict) else None
            if isinstance(v, dict) and inner is None:
                return None
            values[k] = inner if inner is not None else str(v)
        texts = data.get("texts") or {}
        if not (isinstance(texts, dict) and all(isinstance(k, str) and isinstance(t, str) for k, t in texts.items())):
            return None
        try:
            said = cls(data["template"], **values)
        except (KeyError, IndexError, ValueError):
            return None
        said.texts = dict(texts)
        return said


def _sentence(template: str, values: dict[str, str], texts: dict[str, str] | None = None) -> Sentence:
    said = Sentence(template, **values)
    said.texts = dict(texts or {})
    return said


_ALWAYS_HIDDEN = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200e\u200f"
    "\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2800\u3164\ufeff\uffa0\ufff9-\ufffb"
)
_EMOJI_PARTS = "\u200d\ufe00-\ufe0f\U000e0000-\U000e007f\U000e0100-\U000e01ef"
"""The zero-width joiner, the variation selectors and the tag characters: hidden unless in an emoji sequence."""
_PICTOGRAPH = (
    "[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u21aa\u231a-\u23ff\u24c2\u25aa-\u25fe\u2600-\u27bf\u2934\u2935"
    "\u2b05-\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]"
)
_EMOJI = f"{_PICTOGRAPH}[\U0001f3fb-\U0001f3ff]?[\ufe0e\ufe0f]?"  # with a skin tone, as text or as emoji
_EMOJI_SEQUENCE = re.compile(
    "\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7}\U000e007f"  # a subdivision's flag: 🏴 gbsct ␡
    "|[0-9#*]\ufe0f\u20e3"  # a keycap
    f"|{_EMOJI}(?:\u200d{_EMOJI})*"  # an emoji, or emoji joined by U+200D
)


class _HiddenCharacters:
    """``search(text)``: the first character of ``text`` its reader does not see, as a match, or ``None``."""

    _hidden = re.compile(f"[{_ALWAYS_HIDDEN}{_EMOJI_PARTS}]")

    def search(self, text: str) -> re.Match[str] | None:
        # an emoji sequence's joiners, selectors and tags are drawn with it: blanked out, the rest keeps its place
        return self._hidden.search(_EMOJI_SEQUENCE.sub(lambda m: " " * len(m.group()), text))


HIDDEN_CHARACTERS = _HiddenCharacters()
"""Characters a reader does not see: controls (not tab and line ends), the direction marks (U+061C, U+200E, U+200F)
and overrides, and the zero-width and invisible formatting characters (soft hyphen, U+200B, word joiner, BOM…);
U+202E, or U+061C before digits, turns an IIN around on the console and in a signed document. Letters that are drawn
blank (the Hangul fillers U+115F, U+1160, U+3164, U+FFA0, the braille blank U+2800, the Khmer invisible vowels
U+17B4, U+17B5), the Mongolian free variation selectors U+180B–U+180F and the line and paragraph separators U+2028,
U+2029 (a line break most pages do not draw) are refused too (adversarial runs, 2026-12-04). The joiner U+200C
scripts need stays. The zero-width joiner U+200D, the variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF) and the
tag characters (U+E0000–U+E007F) stay only in an emoji sequence, so an applicant may write ``👨‍👩‍👧``, ``❤️`` or
a subdivision's flag: alone, a tag character spells hidden ASCII, and a selector or a joiner after a letter is
drawn as nothing."""


# --- what an error message may show of the value it refuses ------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d[\d ()\-.]{2,}\d")  # four or more digits, perhaps spaced as "+7 999 123 45 67"
_HIDDEN = "…"
_LONGEST_QUOTED = 2000
"""A value longer than this is not looked for in a message (messages quote short values: a phone, an IIN, a name);
looking through a value of a megabyte would hold the event loop."""


EDS_PASSWORD_POLICY = "eds_password_policy"
"""The error type of an EDS password that breaks the policy (``models.types``): its message names the policy only,
so nothing is cut from it (a password "password" cut the word out of "EDS password must contain…")."""
CONSTRAINT_ONLY = frozenset(
    {
        "string_pattern_mismatch",
        "string_too_short",
        "string_too_long",
        "literal_error",
        "enum",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "eds_password_policy",
    }
)
"""Pydantic error types whose message names only the model's constraint (the pattern, the choices, the bound), never
the value: hiding the value in them hid the constraint where it looked alike (``"665/NK "`` blanked ``665/NK`` out of
the pattern ``^(58|665/NK)$``: an adversarial run, 2026-12-03)."""


def without_input(msg: str, value: object, kind: str | None = None) -> str:
    """``msg`` without anything it quotes of the rejected ``value``: the value itself (as given, stripped or
    quoted) and every run of four or more of its digits (a phone number reformatted, an IIN's first digits). A
    message of a ``kind`` in ``CONSTRAINT_ONLY`` is left as it is."""
    if kind in CONSTRAINT_ONLY or not isinstance(value, str | int | float) or isinstance(value, bool):
        return msg
    text = str(value)
    if len(text) > _LONGEST_QUOTED:
        return msg
    # the value quoted, then as given (long enough not to be a word of the message itself)
    for form in (repr(text), repr(text.strip()), text, text.strip()):
        if len(form) >= 5:
            msg = msg.replace(form, _HIDDEN)
    digits = re.sub(r"\D+", "", text)

    def hide(m: re.Match[str]) -> str:
        found = re.sub(r"\D", "", m.group(0))
        return _HIDDEN if len(found) >= 4 and found in digits else m.group(0)

    return _DIGIT_RUN.sub(hide, msg) if len(digits) >= 4 else msg


_ENUM_REPR = re.compile(r"<\w+\.\w+: ('[^']*')>")


def error_text(error: Any) -> str:
    """A pydantic error's message (``ErrorDetails``) without the rejected value. A discriminated union's refusal
    quoted the tag it was given (an IIN, a name typed into ``way_in`` or ``kind``) beside the enums' reprs, since its
    input is the whole object (the second adversarial run of 2026-12-03): it says which tags are expected instead."""
    ctx = error.get("ctx") or {}
    if error["type"] == "union_tag_invalid" and "expected_tags" in ctx:
        expected = _ENUM_REPR.sub(r"\1", str(ctx["expected_tags"]))
        return f"{ctx.get('discriminator', 'the tag')} must be one of: {expected}"
    return without_input(str(error["msg"]), error.get("input"), error["type"])


UNKNOWN_FIELD = "(a field it does not have)"


_FIELD_NAME = re.compile(r"[a-z_][a-z0-9_]{0,63}")
"""What a field's name looks like (``recieved_at``): a key given that does not is not shown."""


def error_loc(error: Any) -> tuple[Any, ...]:
    """Where a pydantic error is (``ErrorDetails``), as it may be shown. A field the model does not have is named by
    the key given only when that looks like a field's name and holds no personal number (a misspelt ``recieved_at``
    is worth naming); any other key (``{"900101300017": "x"}``, a name: the third adversarial run of 2026-12-03) is
    shown as ``UNKNOWN_FIELD`` under the object that got it."""
    from rules.identifiers import personal_number_in  # phonenumbers: not for a command's --help

    loc = tuple(error["loc"])
    if error["type"] != "extra_forbidden" or not loc:
        return loc
    key = str(loc[-1])
    if _FIELD_NAME.fullmatch(key) and personal_number_in(key) is None:
        return loc
    return (*loc[:-1], UNKNOWN_FIELD)


# --- what a log line or a problem shows of the path a caller asked for ------------------------------------------

_SEVEN_DIGITS = re.compile(r"(?:\d\D{0,3}){7}")


def path_shown(path: str) -> str:
    """``path`` as the access log and a problem's ``instance`` show it: a segment that holds what reads as a phone
    number or an IIN is ``…`` (a caller put one where an id goes, ``/v1/cases/900101300017``). No shape is exempt:
    ``fraud_check-900101300017abcdabcd`` has our case ids' shape; a real id's hex reads as a number by chance once
    in some 2,000 ids, and its log lines show ``…``."""
    from urllib.parse import unquote

    from rules.identifiers import personal_number_in  # phonenumbers: not for a command's --help

    def shown(segment: str) -> str:
        text = unquote(segment)
        return _HIDDEN if _SEVEN_DIGITS.search(text) and personal_number_in(text) else segment

    return "/".join(shown(s) for s in path.split("/"))
