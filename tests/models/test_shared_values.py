"""The law a case counts by is held once per process (``models.base.one_per_value``): cases of the same act version
share their terms, timings and skipped days instead of each holding a copy (issue 18: memory per open case). Shared
values are frozen, so no case can change another's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import BaseModel, ValidationError

from models.base import one_per_value
from models.case import LawSnapshot, Registration
from models.deadlines import Deadline, SkippedDayRecord
from rules import law
from rules.calendar import DayOffReason
from rules.terms import Direction, Unit


def _registration_json() -> str:
    fraud = ("fraud.check", "fraud.suspension")
    return Registration(
        act_key="171",
        received_at=datetime(2026, 12, 17, 5, tzinfo=UTC),
        registered_on=date(2026, 12, 17),
        act_version_id="171/554-NK-2025",
        act_basis="amended by Order 554/NK",
        act_in_force_from=date(2025, 11, 15),
        act_version_assumed=False,
        calendar_version="holidays-test",
        terms={k: law.term(k, date(2026, 12, 17), act="171") for k in fraud},
        timings={"local_timeout": "PT30S"},
    ).model_dump_json()


def test_two_cases_registered_under_one_version_hold_one_copy_of_its_terms_and_timings() -> None:
    raw = _registration_json()
    first, second = Registration.model_validate_json(raw), Registration.model_validate_json(raw)
    assert first == second and first is not second
    assert first.terms.keys() == {"fraud.check", "fraud.suspension"}
    for key, term in first.terms.items():
        assert second.terms[key] is term
    assert second.timings is first.timings
    assert first.terms is not second.terms  # each case's own mapping: a migration replaces a case's terms only


def test_a_law_snapshot_shares_the_terms_of_the_registration() -> None:
    registration = Registration.model_validate_json(_registration_json())
    terms = {k: v.model_dump(mode="json") for k, v in registration.terms.items()}
    snapshot = LawSnapshot.model_validate({"act_key": "171", "version": "171/554-NK-2025", "terms": terms})
    assert snapshot.terms["fraud.check"] is registration.terms["fraud.check"]


def test_deadlines_that_skipped_the_same_day_share_its_record() -> None:
    def deadline(start: int) -> Deadline:
        return Deadline(
            term_key="fraud.check",
            amount=2,
            unit=Unit.WORKING_DAYS,
            direction=Direction.AFTER,
            cite="171 p.119",
            text="check",
            start=datetime(2026, 12, start, 5, tzinfo=UTC),
            due=datetime(2026, 12, 21, 13, 30, tzinfo=UTC),
            calendar_version="holidays-test",
            skipped=[{"day": date(2026, 12, 19), "reason": DayOffReason.WEEKEND, "name": "Saturday"}],
        )

    a, b = deadline(17), deadline(18)
    assert a.skipped[0] is b.skipped[0]


def test_a_shared_value_cannot_be_changed_by_the_case_that_holds_it() -> None:
    registration = Registration.model_validate_json(_registration_json())
    with pytest.raises(ValidationError):
        registration.terms["fraud.check"].amount = 30  # type: ignore[misc]
    with pytest.raises(ValidationError):
        SkippedDayRecord(day=date(2026, 12, 19), reason=DayOffReason.WEEKEND, name="Saturday").name = "x"  # type: ignore[misc]


def test_only_frozen_values_are_shared() -> None:
    class Mutable(BaseModel):
        n: int

    with pytest.raises(TypeError, match="not frozen"):
        one_per_value(Mutable(n=1))
