"""The registration activity (``activities.law``): the after-hours roll of the registration day, and the
refusal of an abolished act."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.law import register_case
from models.case import RegistrationRequest
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
