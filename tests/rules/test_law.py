"""The law as dated data (``rules/data/law``) and the ``rules.law`` API: real dates, the real calendar, no mocks."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from models.egov_number_connection import CHANNEL_CITE, FACTORS, Channel
from models.mvno_permit import CONTRACT_CITES, GROUNDS, ContractEventKind, RefusalGround
from rules import law
from rules.calendar import ALMATY, WorkingCalendar
from rules.law import (
    ActNotInForce,
    CountsFrom,
    LawBook,
    ParagraphNotInForce,
    TermNotInForce,
    TermValue,
    Unit,
)
from rules.lawfiles import load_act
from rules.terms import TERMS

DATA = Path(law.__file__).parent / "data" / "law"
CAL = WorkingCalendar()


def _cited(a: law.Act) -> set[str]:
    """Every paragraph id that the act's data cite (versions, roll rule, term values, grounds, items)."""
    parts: list[str] = [*a.after_hours.reference]
    parts += [r for v in a.versions for r in v.reference]
    parts += [r for t in a.terms.values() for v in t.values for r in v.reference]
    parts += [r for p in (*a.grounds.values(), *a.items.values()) for r in p.reference]
    return {a.resolve(p)[0].id for p in parts}


# --- the data files ----------------------------------------------------------------------------------


def test_one_file_per_act_named_after_its_key() -> None:
    acts = law.acts()
    assert set(acts) == {"58", "71", "almatel-eds", "171", "665/NK"}
    assert {a.seed for a in acts.values()} == {"000", "001", "002", "003", "004"}
    assert all(a.file == a.key.replace("/", "-") + ".toml" for a in acts.values())
    assert sorted(p.name for p in DATA.glob("*.toml")) == sorted(a.file for a in acts.values())


def test_every_reference_names_a_paragraph_of_its_act_and_every_value_a_version() -> None:
    for a in law.acts().values():
        versions = set(a.version_ids)
        for t in a.terms.values():
            assert {v.since for v in t.values} <= versions, t.key
            for v in t.values:
                if v.reference:
                    law.cite(a.key, *v.reference)
        for g in (*a.grounds.values(), *a.items.values()):
            assert g.since in versions
            assert g.reference or g.law, g.id  # a paragraph of the act, or where else it comes from
            if g.reference:
                law.cite(a.key, *g.reference)
        for p in a.paragraphs.values():
            assert {w.since for w in p.wordings} <= versions


def test_every_executed_paragraph_is_cited_somewhere_in_the_data() -> None:
    for a in law.acts().values():
        executed = {p.id for p in law.coverage(a.key) if p.executed}
        assert executed - _cited(a) == set(), a.key


def test_every_paragraph_says_whether_it_is_executed_and_why_not() -> None:
    counts = {}
    for key in law.acts():
        paragraphs = law.coverage(key)
        assert all(p.executed or p.reason for p in paragraphs)
        counts[key] = (sum(p.executed for p in paragraphs), sum(not p.executed for p in paragraphs))
    assert counts == {"171": (13, 9), "58": (13, 12), "665/NK": (25, 14), "71": (7, 12), "almatel-eds": (11, 1)}


def test_every_term_of_the_engine_is_declared_with_its_counting() -> None:
    for key, values in law.book().latest_terms().items():
        for v in values:
            assert v.reference and v.text, key
            assert v.rolls == (v.counts_from is CountsFrom.RECEIPT and law.act(v.act).after_hours.rolls)
    assert set(TERMS) == set(law.book().latest_terms())


# --- dates of force ----------------------------------------------------------------------------------


def test_171_amendments_of_554_nk_apply_from_publication_plus_ten_days() -> None:
    added = ["p.119", "p.116", "p.120", "p.3(23-1)", *(f"p.55-{n}" for n in range(1, 7))]
    for pid in added:
        with pytest.raises(ParagraphNotInForce) as exc:
            law.paragraph("171", pid, on=date(2025, 6, 15))
        message = str(exc.value)
        assert f"171 {pid}" in message and "2025-06-15" in message
        assert "554/NK" in message and "2025-11-15" in message and "assumed" in message
        p = law.paragraph("171", pid, on=date(2025, 11, 20))
        assert p.introduced_by == "171/554-NK-2025" and p.in_force_from == date(2025, 11, 15)
    assert law.paragraph("171", "p.119", on=date(2025, 11, 20)).executed


def test_171_p52_4_was_reworded_not_added() -> None:
    before = law.paragraph("171", "p.52(4)", on=date(2025, 6, 15))
    assert before.wording_of == "171/2015" and not before.executed and not before.in_seed
    after = law.paragraph("171", "p.52(4)", on=date(2025, 11, 20))
    assert after.wording_of == "171/554-NK-2025" and after.executed and "fraud" in after.title


def test_act_71_abolished_by_305_nk_ten_days_after_publication() -> None:
    assert law.governing_version("71", date(2024, 6, 7)).version_id == "71/344-RR-2022"
    assert law.paragraph("71", "p.12", on=date(2024, 6, 7)).executed
    with pytest.raises(ActNotInForce, match=r"abolished by Order 305/NK.*2024-06-08"):
        law.governing_version("71", date(2024, 6, 8))
    with pytest.raises(ParagraphNotInForce, match=r"71 p\.12 does not apply on 2024-06-08: .*305/NK"):
        law.paragraph("71", "p.12", on=date(2024, 6, 8))
    assert law.term("mailbox.eds_confirmation", on=date(2024, 6, 7)).amount == 30


def test_act_58_of_2016_enters_into_force_ten_calendar_days_after_publication() -> None:
    v = law.act("58").version("58/2016")
    assert v.in_force_rule == "10 calendar days after publication"
    assert v.in_force_from == date(2016, 3, 6)  # published (assumed) 24 Feb 2016: 25 Feb … 5 Mar are the ten days
    with pytest.raises(ActNotInForce, match="2016-03-06"):
        law.governing_version("58", date(2016, 3, 5))
    assert law.governing_version("58", date(2016, 3, 6)).version_id == "58/2016"
    assert law.governing_version("58", date(2025, 1, 10)).version_id == "58/169-NK-2024"


def test_governing_day_rolls_only_where_the_act_does() -> None:
    friday_evening = datetime(2026, 3, 13, 20, 0, tzinfo=ALMATY)
    assert law.governing_day("665/NK", friday_evening, CAL) == date(2026, 3, 16)
    assert law.governing_day("171", friday_evening, CAL) == date(2026, 3, 13)
    assert law.governing_day("71", datetime(2024, 5, 31, 20, 0, tzinfo=ALMATY), CAL) == date(2024, 5, 31)
    assert law.governing_day("58", friday_evening, CAL) == date(2026, 3, 13)
    assert law.act("665/NK").after_hours.rolls and not law.act("171").after_hours.rolls


# --- terms ---------------------------------------------------------------------------------------------


def test_fraud_check_is_two_working_days_from_the_event() -> None:
    t = law.term("fraud.check", on=date(2025, 11, 20))
    assert (t.amount, t.unit, t.counts_from, t.rolls) == (2, Unit.WORKING_DAYS, CountsFrom.EVENT, False)
    assert t.reference == "171 p.119" and t.paragraphs == ("p.119",) and t.version == "171/554-NK-2025"
    with pytest.raises(TermNotInForce, match=r"fraud\.check of act 171 does not apply on 2025-06-15: .*2025-11-15"):
        law.term("fraud.check", on=date(2025, 6, 15))
    assert law.terms_of("171", on=date(2025, 6, 15)) == {}


def test_complaint_terms_are_asked_under_the_act_of_the_appealed_service() -> None:
    day = date(2026, 2, 2)
    with pytest.raises(ValueError, match="declared by acts 58, 665/NK"):
        law.term("complaint.forward", on=day)
    under_58 = law.term("complaint.forward", on=day, act="58")
    under_665 = law.term("complaint.forward", on=day, act="665/NK")
    assert (under_58.reference, under_58.rolls) == ("58 p.10", False)
    assert (under_665.reference, under_665.rolls) == ("665/NK p.10", True)
    assert law.term("complaint.review_quality_body", on=day, act="665/NK").reference == "665/NK p.10"
    provider = law.term("complaint.review_provider", on=day, act="58")
    assert provider.reference == "Law on public services art. 25 p.2" and provider.paragraphs == ("p.10",)
    assert TERMS["complaint.review_quality_body"].cite == "58 p.10; 665/NK p.10"
    assert TERMS["complaint.forward"].cite == "58 p.10; 665/NK p.10"


def test_terms_of_an_act_are_the_snapshot_a_case_records() -> None:
    snapshot = law.terms_of("665/NK", on=date(2026, 2, 2))
    assert {"mvno.completeness_check", "complaint.forward", "mvno.permit_validity"} <= set(snapshot)
    recorded = {k: v.model_dump_json() for k, v in snapshot.items()}
    assert {k: TermValue.model_validate_json(v) for k, v in recorded.items()} == snapshot
    with pytest.raises(ActNotInForce):
        law.terms_of("665/NK", on=date(2024, 11, 1))


def _amended_171(tmp_path: Path) -> Path:
    """171.toml with a test amendment (published 1 Feb 2026) making the fraud check 3 working days, and an
    announced (expected) one making it 4."""
    text = (DATA / "171.toml").read_text(encoding="utf-8")
    old = '  amount = 2\n  reference = ["p.119"]\n'
    assert text.count(old) == 1
    text = text.replace(
        old,
        old
        + '\n  [[term.value]]\n  since = "171/test-2026"\n  amount = 3\n  reference = ["p.119"]\n'
        + '\n  [[term.value]]\n  since = "171/draft"\n  amount = 4\n  reference = ["p.119"]\n',
    )
    text += """
[[version]]
id = "171/test-2026"
basis = "a test amendment"
published = 2026-02-01
in_force = "10 calendar days after publication"
source = "tests/rules/test_law.py"

[[version]]
id = "171/draft"
basis = "an announced amendment"
published_assumed = 2026-03-01
in_force = "10 calendar days after publication"
source = "tests/rules/test_law.py"
expected = true
"""
    path = tmp_path / "171.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_dated_amendment_changes_the_term_from_its_date_of_force(tmp_path: Path) -> None:
    amended = LawBook.from_files([_amended_171(tmp_path)])
    assert amended.term("fraud.check", on=date(2026, 2, 11)).amount == 2
    three = amended.term("fraud.check", on=date(2026, 2, 12))
    assert (three.amount, three.version, three.in_force_from) == (3, "171/test-2026", date(2026, 2, 12))
    assert amended.governing_version("171", date(2026, 2, 12)).assumed is False
    # an announced version never governs: still 3 long after its assumed date of force
    assert amended.term("fraud.check", on=date(2027, 1, 1)).amount == 3
    assert law.term("fraud.check", on=date(2026, 2, 12)).amount == 2  # the package's own law is untouched


# --- citations, grounds, items ---------------------------------------------------------------------


def test_cite_builds_citations_from_checked_paragraph_ids() -> None:
    assert law.cite("665/NK", "p.7", "Annex 1 item 10") == "665/NK p.7; Annex 1 item 10"
    assert law.cite("665/NK", "Annex 1 item 10(6)") == "665/NK Annex 1 item 10(6)"
    assert law.cite("665/NK", "p.7", "p.9", "Annex 5") == "665/NK p.7, p.9; Annex 5"
    assert law.cite("665/NK", "p.7", "Annex 4") == "665/NK p.7; Annex 4"  # a whole annex: the head of its items
    assert law.cite("171", "p.55-4", "p.57(16)") == "171 p.55-4, p.57(16)"
    with pytest.raises(LookupError, match=r"act 665/NK has no paragraph 'p\.77'"):
        law.cite("665/NK", "p.7", "p.77")
    for unknown in ("Annex 1 item 10(7)", "Annex 6", "p.7(1)"):
        with pytest.raises(LookupError):
            law.cite("665/NK", unknown)
    with pytest.raises(KeyError, match="unknown act"):
        law.cite("999", "p.1")


def test_cite_range_names_consecutive_paragraphs_in_the_order_of_the_act() -> None:
    assert law.cite_range("171", "p.55-1", "p.55-6") == "171 p.55-1…p.55-6"
    assert law.book().span("58", "p.5", "p.9") == ["p.5", "p.6", "p.7", "p.8", "p.9"]
    with pytest.raises(ValueError, match="does not come after"):
        law.cite_range("171", "p.55-6", "p.55-1")
    with pytest.raises(LookupError, match=r"no paragraph 'p\.99'"):
        law.cite_range("171", "p.55-1", "p.99")
    with pytest.raises(LookupError, match="not subitems"):
        law.cite_range("58", "p.5", "Annex item 9(1)")


def test_grounds_and_items_carry_what_the_models_use_today() -> None:
    for g in RefusalGround:
        data = law.ground("665/NK", g.value, on=date(2026, 2, 2))
        assert data.reference == GROUNDS[g].cite and data.en == GROUNDS[g].en and data.ru == GROUNDS[g].ru
        assert data.kk and data.from_seed == ("kk",)
    for kind in ContractEventKind:
        assert law.item("665/NK", kind.value).reference == CONTRACT_CITES[kind]
    for channel in Channel:
        item = law.item("58", f"channel.{channel.value}")
        assert item.reference == CHANNEL_CITE[channel] and item.value == list(FACTORS[channel])
    assert [g.reference for g in law.book().grounds("58")] == ["58 Annex item 9(1)", "58 Annex item 9(2)"]
    assert law.item("171", "numbers.limit").value == 10
    assert law.item("almatel-eds", "password_policy").text("kk").startswith("Құпиясөзде")


# --- the loader refuses what it cannot trust -------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (('amount = 2\n  reference = ["p.119"]', 'amount = 2\n  reference = ["p.191"]'), "no paragraph 'p.191'"),
        (('since = "171/554-NK-2025"\n  amount = 2', 'since = "171/2016"\n  amount = 2'), "unknown version"),
        (('counts_from = "event"', 'counts_from = "event"\ncount_from = "x"'), "unknown keys"),
        (
            (
                'since = "171/554-NK-2025"\n  amount = 2\n  reference = ["p.119"]',
                'since = "171/2015"\n  amount = 2\n  reference = ["p.119"]',
            ),
            r"171 p\.119 is not in force in 171/2015",
        ),
    ],
)
def test_a_broken_data_file_is_refused_with_its_name(change: tuple[str, str], error: str) -> None:
    text = (DATA / "171.toml").read_text(encoding="utf-8")
    assert change[0] in text
    text = text.replace(*change, 1)
    with pytest.raises(ValueError, match=error) as exc:
        load_act("171.toml", text)
    assert "171.toml" in str(exc.value)


def test_every_version_gives_all_of_a_procedures_terms_or_none() -> None:
    """``law.terms_missing`` refuses a version that gives none of a case's terms; a version giving some of them
    would let a migration drop a term the case counts by, so the law files never have one."""
    from workflows.catalogue import WORKFLOWS

    for wf in WORKFLOWS:
        counted = set(getattr(wf, "TERMS", ()))
        for act in law.acts().values():
            for version in act.versions:
                given = counted & set(law.terms_at_version(act.key, version.id))
                assert given in (set(), counted), (wf.__name__, version.id, counted - given)
    assert law.terms_missing("171", "171/2015", ["fraud.check"])
    assert not law.terms_missing("171", "171/554-NK-2025", ["fraud.check"])
