"""The registration activity (``activities.law``): the after-hours roll of the registration day, the
refusal of an abolished act, and the terms a registration records."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.law import law_snapshot, register_case
from models.case import LawSnapshotRequest, RegistrationRequest
from models.failures import ACT_NOT_IN_FORCE
from rules.calendar import ALMATY


async def test_registration_activity_rolls_after_hours_and_refuses_abolished_act() -> None:
    env = ActivityEnvironment()
    reg = env.run(
        register_case, RegistrationRequest(act_key="665/NK", received_at=datetime(2026, 3, 20, 19, 0, tzinfo=ALMATY))
    )
    assert reg.registered_on == date(2026, 3, 26) and reg.after_hours_roll
    assert reg.act_version_id == "665/NK/2024"
    with pytest.raises(ApplicationError) as exc:
        env.run(
            register_case, RegistrationRequest(act_key="71", received_at=datetime(2025, 1, 10, 10, 0, tzinfo=ALMATY))
        )
    assert exc.value.type == ACT_NOT_IN_FORCE and exc.value.non_retryable
    assert "305/NK" in str(exc.value)


def test_registration_and_snapshot_record_the_terms_the_procedure_counts() -> None:
    """665/NK gives a permit's and a complaint's terms: a complaint's registration records its three only (a term
    the version does not give stays absent), with the values of the day; no selection records every term."""
    env = ActivityEnvironment()
    at = datetime(2026, 3, 20, 12, 0, tzinfo=ALMATY)
    every = env.run(register_case, RegistrationRequest(act_key="665/NK", received_at=at))
    assert {"mvno.completeness_check", "complaint.forward"} <= set(every.terms)
    chosen = ["complaint.forward", "complaint.review_provider", "no.such_term"]
    reg = env.run(register_case, RegistrationRequest(act_key="665/NK", received_at=at, terms=chosen))
    assert set(reg.terms) == {"complaint.forward", "complaint.review_provider"}
    assert reg.terms["complaint.forward"] == every.terms["complaint.forward"]
    snapshot = env.run(law_snapshot, LawSnapshotRequest(act_key="665/NK", version=reg.act_version_id, terms=chosen))
    assert set(snapshot.terms) == set(reg.terms) and not snapshot.refusal
