"""pydantic's validation messages in the page's language, by the error's *type*, never by its English text.

pydantic reports each error with a stable ``type`` (``missing``, ``string_too_short``, ``enum``…) and a ``ctx`` of
the constraint it checked (``min_length``, ``pattern``, ``expected``…). ``TEMPLATES`` gives one English msgid per
type, with ``{placeholders}`` named after the ``ctx`` keys; the catalogues translate it and the ``ctx`` fills it.
Our own validators (``models/``, ``rules/identifiers.py``) raise ``ValueError`` with a sentence of their own: pydantic
reports it as ``value_error`` and the sentence itself is the msgid. A type or a sentence the catalogue does not know
keeps pydantic's English message.

The rejected value is never shown: no template names ``{input}``, ``ctx`` values are constraints of the model, and
whatever is left is passed through ``rules.text.without_input`` (a library's message may quote the value).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import ErrorDetails

from api.i18n import N_, gettext
from models.types import RUN_ID_PATTERN
from rules.text import CONSTRAINT_ONLY, without_input

__all__ = ["PATTERNS_SAID", "TEMPLATES", "message"]


TEMPLATES: dict[str, str] = {
    "missing": N_("required"),
    "string_too_short": N_("at least {min_length} characters"),
    "string_too_long": N_("at most {max_length} characters"),
    "string_pattern_mismatch": N_("does not have the required form ({pattern})"),
    "string_type": N_("must be text"),
    "datetime_parsing": N_("not a date and time"),
    "datetime_from_date_parsing": N_("not a date and time"),
    "datetime_type": N_("not a date and time"),
    "timezone_aware": N_("the date and time needs its time zone"),
    "date_parsing": N_("not a date"),
    "date_from_datetime_parsing": N_("not a date"),
    "date_type": N_("not a date"),
    "int_parsing": N_("not a whole number"),
    "int_type": N_("not a whole number"),
    "int_from_float": N_("not a whole number"),
    "float_parsing": N_("not a number"),
    "float_type": N_("not a number"),
    "decimal_parsing": N_("not a number"),
    "enum": N_("choose one of: {expected}"),
    "literal_error": N_("choose one of: {expected}"),
    "bool_parsing": N_("must be yes or no"),
    "bool_type": N_("must be yes or no"),
    "greater_than": N_("must be greater than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "too_short": N_("at least {min_length} items"),  # a list too short (pydantic 2 has no "list_too_short" type)
    "too_long": N_("at most {max_length} items"),
    "list_type": N_("must be a list"),
    "dict_type": N_("must be a group of fields"),
    "model_type": N_("must be a group of fields"),
    "model_attributes_type": N_("must be a group of fields"),
    "union_tag_invalid": N_("choose one of: {expected_tags}"),
    "union_tag_not_found": N_("choose the kind first"),
    "extra_forbidden": N_("not a field of this form"),
    "json_invalid": N_("not valid JSON"),
    "url_parsing": N_("not a web address"),
    "date_future": N_("must be in the future"),
    "date_past": N_("must be in the past"),
    "datetime_future": N_("must be in the future"),
    "datetime_past": N_("must be in the past"),
    "multiple_of": N_("must be a multiple of {multiple_of}"),
}
"""The English msgid of each pydantic error type; ``{name}`` is filled from the error's ``ctx``."""

PATTERNS_SAID: dict[str, str] = {
    RUN_ID_PATTERN: N_("a run id: 32 hexadecimal digits in groups of 8-4-4-4-12"),
    r"\S": N_("not only spaces"),
    r"^[0-9]{12}$": N_("12 digits"),
    r"^[\w\-/.]+$": N_("letters, digits and - / . only, no spaces"),
    r"^[A-Za-z0-9._/-]+$": N_("Latin letters, digits and . _ / - only"),
    r"^[A-Za-z0-9:._/-]+$": N_("Latin letters, digits and : . _ / - only"),
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": N_("an e-mail address, name@example.kz"),
    r"^KZ[0-9]{2}[0-9A-Z]{16}$": N_("KZ, 2 digits and 16 capital Latin letters or digits"),
    r"^[A-Za-z0-9][A-Za-z0-9\-/]{2,39}$": N_(
        "3 to 40 Latin letters, digits, - and /, beginning with a letter or digit"
    ),
    r"^[a-z][a-z0-9._-]{2,31}$": N_("3 to 32 small Latin letters, digits and . _ -, beginning with a letter"),
}
"""A pattern a person is shown in words: a clerk was shown the run id's regular expression (an adversarial run,
2026-12-05); a pattern not named here is shown as given."""

_OWN = ("value_error", "assertion_error")
"""Types whose text is our validator's own sentence (``ctx["error"]``)."""


def message(error: ErrorDetails, lang: str) -> str:
    """The message of one pydantic error in ``lang``, without the rejected value."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    if kind in _OWN and "error" in ctx:
        own = str(ctx["error"])
        return without_input(gettext(lang, own), value)
    if kind in CONSTRAINT_ONLY and kind not in TEMPLATES:  # our own rule's words (the EDS password policy)
        return gettext(lang, str(error["msg"]))
    template = TEMPLATES.get(kind)
    if template is None:
        return without_input(str(error["msg"]), value)
    try:
        text = gettext(lang, template).format(**{k: _shown(k, v, lang) for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):  # a ctx without the named constraint: pydantic's own words
        return without_input(str(error["msg"]), value)
    return without_input(text, value, kind)


_QUOTED = re.compile(r"'([^']*)'")


def _shown(key: str, value: Any, lang: str) -> str:
    """A constraint as a person reads it: the choices pydantic lists (``'a', 'b' or 'c'``) as the form shows them,
    each through the catalogue (``legal_entity`` → "юридическое лицо"); numbers and patterns as given."""
    if key in ("expected", "expected_tags") and isinstance(value, str) and _QUOTED.search(value):
        return ", ".join(gettext(lang, code) for code in _QUOTED.findall(value))
    if key == "pattern" and value in PATTERNS_SAID:
        return gettext(lang, PATTERNS_SAID[value])
    return str(value)
