"""The console's search index: which cases an IIN/BIN, a phone number, a name or an application number belongs to,
without the personal data in clear.

Personal data stays encrypted in Temporal (inputs, memos) and never reaches visibility, so Temporal cannot search
it. The one start path (``infra.cases.start_case``) therefore writes, for every case it starts, joins or finds,
keyed hashes (HMAC-SHA256 under the installation's pseudonym key, ``infra.pseudonym``) of the input's identifiers,
phone numbers and the words of its names, each normalised first, to ``case_index_keys``; the procedure, the
application's own number and the key that started it go in clear to ``case_index``, unless that number reads as an
IIN or a phone number (``number_is_personal``): then it is hashed instead, and no list shows it. A search normalises
and hashes what the clerk typed the same way and matches exactly: no prefix, no fuzzy match, nothing to enumerate
without the key. Which fields count is a vocabulary of field names read through every procedure's input model
(nested models, lists, the chosen variant of a union), so a new procedure is indexed when its fields use these
names.

Cases started before the index existed are written by ``infra.reindex`` (``starter.py cases reindex``) from their
inputs as Temporal keeps them (decrypted by the client's codec), with the same normalisation and keys.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from infra.db import refusal, session
from infra.pseudonym import pseudonym
from models.tables import CaseActor, CaseIndexEntry, CaseIndexKey
from rules.identifiers import kz_mobile, personal_number_in, personal_number_whole

__all__ = [
    "IDENTIFIER_FIELDS",
    "NAME_FIELDS",
    "NUMBER_FIELDS",
    "PHONE_FIELDS",
    "REFERENCE_FIELDS",
    "IndexValues",
    "backfill",
    "cases_of",
    "entries",
    "extract",
    "find",
    "name_words",
    "normalise_identifier",
    "normalise_number",
    "normalise_phone",
    "number_is_personal",
    "record_actor",
    "record_start",
]

log = logging.getLogger(__name__)

IDENTIFIER_FIELDS = frozenset({"iin", "bin"})
"""IIN and BIN: twelve digits, hashed."""
PHONE_FIELDS = frozenset({"phone", "phones", "previous_phone", "numbers", "suspect_number", "reporter_number"})
"""Kazakhstan mobile numbers, hashed in E.164 form (``+77XXXXXXXXX``) whichever way they were typed."""
NAME_FIELDS = frozenset({"full_name", "name", "head_name"})
"""Names of people and organisations: each word (two letters or more) hashed apart, so the words' order does not
matter and a surname alone finds its cases."""
NUMBER_FIELDS = ("application_number", "complaint_number", "order_ref")
"""The application's own number (not personal data): kept in clear, upper case; hashed when it reads as personal
data (``number_is_personal``)."""
REFERENCE_FIELDS = frozenset({"appealed_case_id", "about_complaint_id"})
"""Fields naming the case another case is about (a complaint's appealed case, the complaint whose inaction it
appeals): the named case's number is indexed for this one too, as kind ``about``, so a clerk's search by a permit's
number also lists the complaints about it. The start's own resolution of a number (``infra.cases``) does not read
these rows: a number names one case."""


@dataclass
class IndexValues:
    """What one input contributes to the index."""

    application_number: str | None = None
    """In clear; ``None`` when the number reads as personal data (then in ``hashed_number``)."""
    hashed_number: str | None = None
    identifiers: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    name_words: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)
    """Case ids of ``REFERENCE_FIELDS``."""

    def digests(self) -> set[tuple[str, str]]:
        """``(kind, keyed hash)`` of every value."""
        return (
            {("id", _digest("id", v)) for v in self.identifiers}
            | {("phone", _digest("phone", v)) for v in self.phones}
            | {("name", _digest("name", v)) for v in self.name_words}
            | ({("number", _digest("number", self.hashed_number))} if self.hashed_number else set())
        )


def number_is_personal(number: str) -> bool:
    """Whether an application's own number holds an IIN or a phone number: as a whole (``8-701-123-45-67``), as one
    run of its digits (``KZ-900101300126``), or split into groups inside it (``KZ-9001-0130-0126``), read as a fraud
    report's ref is (``personal_number_in``). Such a number is not refused: the portal or the office made it, and a
    date-stamped one (``YYMMDD`` and a serial) reads as an IIN about 1 time in 16; it is indexed as a keyed hash,
    found by an exact search as any number is, and shown in no list. A number read so by chance loses only its place
    in the lists."""
    return bool(personal_number_whole(number) or personal_number_in(number))


def normalise_identifier(value: str) -> str | None:
    """An IIN or BIN as twelve digits 0–9 (spaces and dashes dropped, every script's digits as 0–9, as a search types
    them: ``９００…``), or None when it is not one."""
    digits = normalise_number(re.sub(r"[\s\-]", "", value))
    return digits if re.fullmatch(r"[0-9]{12}", digits) else None


def normalise_number(value: str) -> str:
    """An application's own number as the index keeps and a search matches it: compatibility forms folded (NFKC),
    every script's digits as ASCII digits (``８７０…``, ``٨٧٠…``), upper case."""
    text = unicodedata.normalize("NFKC", value).strip().upper()
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def normalise_phone(value: str) -> str | None:
    """A Kazakhstan mobile number in E.164, or None when ``value`` is not one."""
    if not re.search(r"\d{3}", value):
        return None
    try:
        return kz_mobile(value)
    except ValueError:
        return None


def name_words(value: str) -> list[str]:
    """The words of a name, compared without case, accents' compositions or punctuation (``ё`` as ``е``), in
    order, each once; one-letter words (initials) are left out."""
    text = unicodedata.normalize("NFKC", value).casefold().replace("ё", "е")
    words = re.sub(r"[^\w]+", " ", text).split()
    return list(dict.fromkeys(w for w in words if len(w) >= 2 and not w.isdigit()))


def _digest(kind: str, value: str) -> str:
    return pseudonym("case-index", kind, value)


def extract(model: BaseModel) -> IndexValues:
    """The index values of an input model, by field name (``IDENTIFIER_FIELDS`` …), at any depth."""
    out = IndexValues()
    _walk(model, "", out)
    return out


def _walk(value: object, name: str, out: IndexValues) -> None:
    if isinstance(value, BaseModel):
        for child in type(value).model_fields:
            _walk(getattr(value, child), child, out)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _walk(item, name, out)
    elif isinstance(value, str) and value.strip():
        if name in IDENTIFIER_FIELDS and (ident := normalise_identifier(value)):
            out.identifiers.add(ident)
        elif name in PHONE_FIELDS and (phone := normalise_phone(value)):
            out.phones.add(phone)
        elif name in NAME_FIELDS:
            out.name_words.update(name_words(value))
        elif name in REFERENCE_FIELDS:
            out.references.add(value)
        elif name in NUMBER_FIELDS and out.application_number is None and out.hashed_number is None:
            number = normalise_number(value)
            if number_is_personal(number):
                out.hashed_number = number
            else:
                out.application_number = number


def record_start(procedure: str, case_id: str, inp: BaseModel, key_id: str | None = None) -> None:
    """Index the case ``inp`` started, joined or found (idempotent: a repeated start adds nothing new; a further
    report that joins a case adds its own values). ``key_id`` is the API key that sent it, if any."""
    _write_once(procedure, case_id, extract(inp), key_id)
    if key_id:
        record_actor(case_id, key_id)


def backfill(procedure: str, case_id: str, inp: BaseModel, key_id: str | None = None) -> int:
    """Index a case started before the index existed, from its decoded input (``infra.reindex``), as
    ``record_start`` does (the key that started it, from the start's memo, becomes its actor). Returns the rows
    added: 0 when the case was fully indexed, so a re-run changes nothing."""
    added = _write_once(procedure, case_id, extract(inp), key_id)
    if key_id and added:
        record_actor(case_id, key_id)
    return added


LOCKED_RETRIES = (0.05, 0.2, 1.0)
"""Seconds before writing again after the database refused the write as busy (SQLite: another process's
transaction, a snapshot that moved under the session's read). A demo started with a fresh stack lost its permit's
entry so, and then could not name it by its application number."""


def _write_once(procedure: str, case_id: str, values: IndexValues, key_id: str | None) -> int:
    conflicts, waits = 0, iter(LOCKED_RETRIES)
    while True:
        try:
            return _write(procedure, case_id, values, key_id)
        except IntegrityError:  # a concurrent start of the same case wrote first: then add what it lacks
            conflicts += 1
            if conflicts > 1:
                raise
        except OperationalError as exc:
            wait = next(waits, None)
            if wait is None:
                raise
            log.info("case index busy (%s): writing again in %.2f s", refusal(exc), wait)
            time.sleep(wait)


def _write(procedure: str, case_id: str, values: IndexValues, key_id: str | None) -> int:
    """Write what the index lacks of ``values``; the number of rows added or corrected (0: the case was indexed
    already). An entry written before numbers were read for personal data loses a number that reads so (the
    number's hash is added), which ``cases reindex`` does for every case."""
    added = 0
    with session() as s:
        entry = s.get(CaseIndexEntry, case_id)
        if entry is not None and entry.application_number and number_is_personal(entry.application_number):
            entry.application_number = None
            s.add(entry)
            added += 1
        if entry is None:
            added += 1
            s.add(
                CaseIndexEntry(
                    case_id=case_id,
                    procedure=procedure,
                    application_number=values.application_number,
                    started_by_key=key_id,
                )
            )
        have = set(s.exec(select(CaseIndexKey.kind, CaseIndexKey.digest).where(CaseIndexKey.case_id == case_id)))
        wanted = values.digests() | {("about", d) for d in _numbers_of(s, values.references)}
        for kind, digest in sorted(wanted - {(k, d) for k, d in have}):
            s.add(CaseIndexKey(case_id=case_id, kind=kind, digest=digest))
            added += 1
    return added


def _numbers_of(s: Session, case_ids: set[str]) -> set[str]:
    """The number digests (kind ``number``'s hash) of the cases ``case_ids``, whether kept in clear or hashed."""
    out: set[str] = set()
    for case_id in case_ids:
        entry = s.get(CaseIndexEntry, case_id)
        if entry is not None and entry.application_number:
            out.add(_digest("number", entry.application_number))
        q = select(CaseIndexKey.digest).where(CaseIndexKey.case_id == case_id, CaseIndexKey.kind == "number")
        out.update(s.exec(q))
    return out


def record_actor(case_id: str, key_id: str) -> None:
    """Remember that the key ``key_id`` acted in the case (started it, recorded a decision)."""
    for _ in range(2):  # a concurrent first write of the same pair wins; then update it
        with suppress(IntegrityError), session() as s:
            row = s.get(CaseActor, (case_id, key_id))
            if row is None:
                s.add(CaseActor(case_id=case_id, key_id=key_id))
            else:
                row.last_at = datetime.now(UTC)
                s.add(row)
            return


def cases_of(key_id: str) -> set[str]:
    """The cases the key started or acted in."""
    with session() as s:
        return set(s.exec(select(CaseActor.case_id).where(CaseActor.key_id == key_id)))


def entries(case_ids: list[str]) -> dict[str, CaseIndexEntry]:
    """The index entries of ``case_ids`` that exist."""
    out: dict[str, CaseIndexEntry] = {}
    with session() as s:
        for i in range(0, len(case_ids), 500):
            chunk = case_ids[i : i + 500]
            for row in s.exec(select(CaseIndexEntry).where(col(CaseIndexEntry.case_id).in_(chunk))):
                out[row.case_id] = row
    return out


def find(text: str, *, personal: bool = True, about: bool = False) -> set[str]:
    """The cases ``text`` names: an application number (any case; with ``about``, also the cases about the case of
    that number, ``REFERENCE_FIELDS``), or, when ``personal``, an IIN/BIN, a phone number or the words of a name (a
    case matches when it has every word)."""
    text = text.strip()
    if not text:
        return set()
    found: set[str] = set()
    with session() as s:
        number = normalise_number(text)
        found |= set(s.exec(select(CaseIndexEntry.case_id).where(CaseIndexEntry.application_number == number)))
        found |= _with_digest(s, "number", _digest("number", number))
        if about:
            found |= _with_digest(s, "about", _digest("number", number))
        if not personal:
            return found
        probes = [("id", normalise_identifier(text)), ("phone", normalise_phone(text))]
        for kind, value in probes:
            if value:
                found |= _with_digest(s, kind, _digest(kind, value))
        words = name_words(text)
        if words and not probes[0][1] and not probes[1][1]:
            matches = [_with_digest(s, "name", _digest("name", w)) for w in words]
            found |= set.intersection(*matches)
    return found


def _with_digest(s: Session, kind: str, digest: str) -> set[str]:
    q = select(CaseIndexKey.case_id).where(CaseIndexKey.kind == kind, CaseIndexKey.digest == digest)
    return set(s.exec(q))
