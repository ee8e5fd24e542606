"""Acts and their dates of force; terms as data; the registration activity's refusal of an abolished act."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.law import ACT_NOT_IN_FORCE, register_case
from models.case import RegistrationRequest
from rules.acts import ActNotInForce, acts, governing_version
from rules.calendar import ALMATY
from rules.terms import TERMS, Direction, Unit, term


def test_five_acts_with_seeds() -> None:
    assert set(acts()) == {"58", "71", "almatel-eds", "171", "665/NK"}
    assert {a.seed for a in acts().values()} == {"000", "001", "002", "003", "004"}


def test_governing_version_follows_amendments() -> None:
    assert governing_version("171", date(2025, 6, 1)).version_id == "171/2015"
    v = governing_version("171", date(2025, 12, 1))
    assert v.version_id == "171/554-NK-2025"
    # registered 4 Nov 2025, "10 calendar days after publication": in force from 15 Nov (placeholder date)
    assert v.in_force_from == date(2025, 11, 15) and v.assumed


def test_665_not_in_force_before_its_60_days() -> None:
    with pytest.raises(ActNotInForce, match="not in force"):
        governing_version("665/NK", date(2024, 11, 1))
    assert governing_version("665/NK", date(2024, 12, 28)).version_id == "665/NK/2024"


def test_mailbox_act_abolished_by_305() -> None:
    assert governing_version("71", date(2024, 6, 7)).version_id == "71/344-RR-2022"
    with pytest.raises(ActNotInForce, match="abolished by Order 305/NK"):
        governing_version("71", date(2024, 6, 8))


def test_terms_have_one_unit_and_a_citation() -> None:
    assert term("mvno.completeness_check").amount == 2
    assert term("mvno.completeness_check").unit is Unit.WORKING_DAYS
    assert term("egov.service_term").unit is Unit.MINUTES
    assert term("mvno.permit_validity").unit is Unit.YEARS
    assert term("mvno.hearing_notice_lead").direction is Direction.BEFORE
    assert all(t.cite and t.text for t in TERMS.values())
    assert [t.key for t in TERMS.values() if t.to_be_confirmed] == ["numbers.review", "mvno.complaint_window"]
    with pytest.raises(KeyError, match="known"):
        term("no.such.term")


async def test_registration_activity_rolls_after_hours_and_refuses_abolished_act() -> None:
    env = ActivityEnvironment()
    reg = await env.run(
        register_case, RegistrationRequest(act_key="665/NK", received_at=datetime(2026, 3, 20, 19, 0, tzinfo=ALMATY))
    )
    assert reg.registered_on == date(2026, 3, 26) and reg.after_hours_roll
    assert reg.act_version_id == "665/NK/2024"
    with pytest.raises(ApplicationError) as exc:
        await env.run(
            register_case, RegistrationRequest(act_key="71", received_at=datetime(2025, 1, 10, 10, 0, tzinfo=ALMATY))
        )
    assert exc.value.type == ACT_NOT_IN_FORCE and exc.value.non_retryable
    assert "305/NK" in str(exc.value)
