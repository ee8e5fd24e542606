"""The console's search index (``infra.case_index``): what each procedure's input contributes, normalisation, exact
matches through keyed hashes, and no personal data in clear in its tables."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from infra import case_index
from infra.db import engine
from models.complaint import ComplaintInput
from models.contract_eds_signing import ContractApplication
from models.egov_number_connection import EgovConnectionInput
from models.electronic_mailbox import MailboxApplicationInput
from models.fraud_check import FraudCaseInput
from models.individual_numbers import NumbersApplicationInput
from models.mvno_permit import PermitApplication
from tests.subscribers import new_iin, new_phone

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC).isoformat()


def test_names_phones_and_identifiers_are_normalised() -> None:
    assert case_index.name_words("  АСАНОВ   Асан,  Ёлкин-Асанұлы A. ") == ["асанов", "асан", "елкин", "асанұлы"]
    assert case_index.name_words("Kcell «JSC»") == ["kcell", "jsc"]
    assert case_index.normalise_phone("8 (701) 123-45-67") == "+77011234567"
    assert case_index.normalise_phone("+7 701 123 4567") == "+77011234567"
    assert case_index.normalise_phone("Asanov") is None
    assert case_index.normalise_phone("+7 999 123") is None
    assert case_index.normalise_identifier("900101 300126") == "900101300126"
    assert case_index.normalise_identifier("90010130012") is None
    # a search typed in another script's digits finds the IIN the models now hold in 0–9 only
    assert case_index.normalise_identifier("９００１０１ ３００１２６") == "900101300126"
    assert case_index.normalise_identifier("٩٠٠١٠١٣٠٠١٢٦") == "900101300126"


def test_every_procedures_input_gives_its_identifiers_phones_names_and_number() -> None:
    permit = PermitApplication.model_validate_json(
        (ROOT / "demo/mvno_permit/application_legal_entity.json").read_bytes()
    )
    v = case_index.extract(permit)
    assert v.application_number == permit.application_number.upper()
    assert permit.applicant.identifier in v.identifiers
    assert set(case_index.name_words(permit.applicant.display_name)) <= v.name_words
    assert {str(p) for p in permit.applicant.phones} <= v.phones
    assert set(case_index.name_words(permit.applicant.head_name)) <= v.name_words  # its head, by name too
    base_bins = {c.base_operator_bin for c in permit.qualification.contracts if c.base_operator_bin}
    assert not (base_bins & v.identifiers)  # other organisations named in the application are not its parties

    complaint = ComplaintInput.model_validate_json((ROOT / "demo/complaint/complaint.json").read_bytes())
    v = case_index.extract(complaint)
    assert v.application_number == complaint.complaint_number.upper()
    assert v.identifiers == {complaint.complainant.iin} and v.phones == {complaint.complainant.phone}
    assert set(case_index.name_words(complaint.complainant.full_name)) == v.name_words

    fraud = FraudCaseInput.model_validate(
        {
            "first": {
                "way_in": "subscriber_report",
                "ref": "R-1",
                "suspect_number": "+77017654321",
                "reporter_number": "87011234567",
                "received_at": NOW,
                "description": "a call asking for a card number",
            }
        }
    )
    assert case_index.extract(fraud).phones == {"+77017654321", "+77011234567"}

    egov = EgovConnectionInput.model_validate(
        {"iin": "900101300126", "phone": "+77011234567", "channel": "portal", "received_at": NOW}
    )
    assert case_index.extract(egov).identifiers == {"900101300126"}
    numbers = NumbersApplicationInput.model_validate(
        {"iin": "900101300126", "numbers": ["+77017654321"], "received_at": NOW, "contract_case_id": "c-1"}
    )
    assert case_index.extract(numbers).phones == {"+77017654321"}
    signing = ContractApplication.model_validate(
        {
            "order_ref": "ord-2026-1",
            "iin": "900101300126",
            "full_name": "ASANOV ASAN",
            "phone": "+77011234567",
            "address": "Almaty",
            "services": ["IPTV"],
            "tariff": "Family+",
            "received_at": NOW,
        }
    )
    v = case_index.extract(signing)
    assert v.application_number == "ORD-2026-1" and v.name_words == {"asanov", "asan"}
    mailbox = MailboxApplicationInput.model_validate(
        {"bin": "941240000341", "login": "kcell.a", "channel": "online", "received_at": NOW}
    )
    assert case_index.extract(mailbox).identifiers == {"941240000341"}


def stored_in_the_index() -> str:
    """Every value of the index's two tables, as one text to look for personal data in."""
    with engine().connect() as conn:
        return " ".join(
            str(v)
            for table in ("case_index", "case_index_keys")
            for row in conn.execute(text(f"SELECT * FROM {table}"))
            for v in row
        )


def test_find_matches_exactly_and_keeps_no_personal_data_in_clear() -> None:
    iin, other = "900101300126", "900101300127"
    word = "zh" + uuid.uuid4().hex[:8].translate(str.maketrans("0123456789", "ghijklmnop"))
    number = f"KZ-T-{uuid.uuid4().hex[:8]}"
    signing = ContractApplication.model_validate(
        {
            "order_ref": number,
            "iin": iin,
            "full_name": f"{word.upper()} Асан",
            "phone": "+77019998877",
            "address": "Almaty",
            "services": ["IPTV"],
            "tariff": "Family+",
            "received_at": NOW,
        }
    )
    case_id = f"contract_eds_signing-{uuid.uuid4().hex[:12]}"
    case_index.record_start("contract_eds_signing", case_id, signing, "keyA")
    case_index.record_start("contract_eds_signing", case_id, signing, "keyB")  # again: nothing new, the first stands

    assert case_id in case_index.find(iin)
    assert case_id in case_index.find("8 701 999 88 77")
    assert case_id in case_index.find(f"асан {word}")  # any order, any case
    assert case_id in case_index.find(word)  # a surname alone
    assert case_id in case_index.find(number.lower())
    assert case_id not in case_index.find(word[:-1])  # no prefix match
    assert case_id not in case_index.find(f"{word} Болат")  # every word must match
    assert case_id not in case_index.find(other)
    assert case_index.find(iin, personal=False) == set()  # only the application number without personal lookups
    assert case_index.find(number, personal=False) == {case_id}
    assert case_index.entries([case_id])[case_id].started_by_key == "keyA"
    assert case_id in case_index.cases_of("keyA") and case_id in case_index.cases_of("keyB")

    stored = stored_in_the_index()
    assert iin not in stored and "7019998877" not in stored and word not in stored.lower()
    assert number.upper() in stored  # the application's number is kept in clear


def test_an_application_number_that_reads_as_personal_data_is_hashed_found_and_never_listed() -> None:
    """An IIN or a phone number given as the application's own number (a clerk's slip, a portal that numbers by
    it) is not refused, since the portal made it: it is indexed as a keyed hash, found by the same exact search, in
    no list and in no table in clear; an entry written before with it in clear loses it when indexed again."""
    iin, phone = new_iin(), new_phone()
    assert case_index.number_is_personal(iin) and case_index.number_is_personal(f"KZ-MVNO-{iin}")
    assert case_index.number_is_personal("8 (" + phone[2:5] + ") " + phone[5:])
    assert case_index.number_is_personal(f"KZ-{iin[:4]}-{iin[4:8]}-{iin[8:]}")  # split into groups inside it
    assert case_index.number_is_personal("ORD.8." + ".".join((phone[2:5], phone[5:8], phone[8:10], phone[10:])))
    assert not case_index.number_is_personal("KZ-MVNO-2026-000123")
    assert not case_index.number_is_personal("DEMO-MVNO-0001") and not case_index.number_is_personal("ORD-2026-0001")
    assert not case_index.number_is_personal("202612040001")  # a date-stamped number no IIN can be (month 26)
    permit = PermitApplication.model_validate_json(
        (ROOT / "demo/mvno_permit/application_legal_entity.json").read_bytes()
    ).model_copy(update={"application_number": f"kz-{iin}"})
    v = case_index.extract(permit)
    assert v.application_number is None and v.hashed_number == f"KZ-{iin}"
    case_id = f"mvno_permit-{uuid.uuid4().hex[:12]}"
    case_index.record_start("mvno_permit", case_id, permit, "keyA")
    assert case_index.find(f"KZ-{iin}") == case_index.find(f"kz-{iin}", personal=False) == {case_id}
    wide = "".join(chr(ord(c) + 0xFEE0) for c in iin)  # full-width digits, as some keyboards type them
    assert case_index.find(f"KZ-{wide}") == {case_id}
    assert case_index.entries([case_id])[case_id].application_number is None

    legacy = f"mvno_permit-{uuid.uuid4().hex[:12]}"  # written in clear before numbers were read for personal data
    with engine().begin() as conn:
        conn.execute(
            text("INSERT INTO case_index (case_id, procedure, application_number, indexed_at) VALUES (:c, :p, :n, :t)"),
            {"c": legacy, "p": "mvno_permit", "n": f"KZ-{iin}", "t": datetime.now(UTC)},
        )
    assert case_index.find(f"KZ-{iin}") == {case_id, legacy}  # as it was found
    assert case_index.backfill("mvno_permit", legacy, permit) > 0  # `cases reindex`: the number out, its hash in
    assert case_index.entries([legacy])[legacy].application_number is None
    assert case_index.backfill("mvno_permit", legacy, permit) == 0
    assert case_index.find(f"KZ-{iin}") == {case_id, legacy}

    assert iin not in stored_in_the_index()


def test_a_busy_database_is_written_again_and_its_words_are_logged_without_values(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A fresh stack's demo lost its permit's entry to a busy SQLite write ("not written to the search index:
    OperationalError") and then could not name the permit by its application number. The write is tried again."""
    number = f"KZ-B-{uuid.uuid4().hex[:8]}"
    app = ContractApplication.model_validate(
        {
            "order_ref": number,
            "iin": "900101300126",
            "full_name": "ASANOV ASAN",
            "phone": "+77019998877",
            "address": "Almaty",
            "services": ["IPTV"],
            "tariff": "Family+",
            "received_at": NOW,
        }
    )
    write = case_index._write
    refused: list[int] = []

    def busy_twice(*args: Any) -> int:
        if len(refused) < 2:
            refused.append(1)
            raise OperationalError(
                "INSERT INTO case_index …", {"iin": "900101300126"}, sqlite3.OperationalError("database is locked")
            )
        return write(*args)

    monkeypatch.setattr(case_index, "_write", busy_twice)
    monkeypatch.setattr(case_index, "LOCKED_RETRIES", (0.0, 0.0, 0.0))
    case_id = f"contract_eds_signing-{uuid.uuid4().hex[:12]}"
    with caplog.at_level(logging.INFO, logger="infra.case_index"):
        case_index.record_start("contract_eds_signing", case_id, app)
    assert len(refused) == 2 and case_index.find(number, personal=False) == {case_id}
    assert "database is locked" in caplog.text and "900101300126" not in caplog.text and "INSERT" not in caplog.text

    refused.clear()
    monkeypatch.setattr(case_index, "LOCKED_RETRIES", (0.0,))  # busy for longer than it waits: the error stands
    with pytest.raises(OperationalError):
        case_index.record_start("contract_eds_signing", f"contract_eds_signing-{uuid.uuid4().hex[:12]}", app)


def test_a_search_by_a_cases_number_also_lists_the_cases_about_it_but_a_start_names_only_that_case() -> None:
    """A complaint naming a permit (by its case id) is found by the permit's number, whether that number is kept in
    clear or hashed, and so is a complaint about that complaint's inaction; the start's resolution of a number
    (``find`` without ``about``) still names the permit alone."""
    demo = ROOT / "demo"
    permits = {
        "clear": f"KZ-T-{uuid.uuid4().hex[:8]}".upper(),
        "hashed": f"KZ-{new_iin()}",  # reads as an IIN: kept only as a keyed hash
    }
    for kind, number in permits.items():
        permit = PermitApplication.model_validate_json(
            (demo / "mvno_permit/application_legal_entity.json").read_bytes()
        ).model_copy(update={"application_number": number})
        permit_id = f"mvno_permit-{uuid.uuid4().hex[:12]}"
        case_index.record_start("mvno_permit", permit_id, permit)
        complaint = ComplaintInput.model_validate_json((demo / "complaint/complaint.json").read_bytes())
        first = complaint.model_copy(
            update={"complaint_number": f"C-{uuid.uuid4().hex[:8]}", "appealed_case_id": permit_id}
        )
        first_id = f"complaint-{uuid.uuid4().hex[:12]}"
        case_index.record_start("complaint", first_id, first)
        second = complaint.model_copy(
            update={"complaint_number": f"C-{uuid.uuid4().hex[:8]}", "about_complaint_id": first_id}
        )
        second_id = f"complaint-{uuid.uuid4().hex[:12]}"
        case_index.record_start("complaint", second_id, second)

        assert case_index.find(number.lower(), about=True) == {permit_id, first_id}, kind
        assert case_index.find(number, personal=False) == {permit_id}, kind  # what a start resolves
        assert case_index.find(first.complaint_number, about=True) == {first_id, second_id}, kind
        assert case_index.entries([first_id])[first_id].application_number == first.complaint_number.upper()
        assert case_index.backfill("complaint", first_id, first) == 0  # indexed once: a re-run adds nothing
    assert permits["hashed"][3:] not in stored_in_the_index()
