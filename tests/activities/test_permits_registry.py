"""The state system of permits' local implementation (``activities.permits_registry``, 665/NK p.9): a permit
entered once per case, its changes recorded once."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from temporalio.testing import ActivityEnvironment

from activities.permits_registry import LocalPermitsRegistry, PermitsRegistryActivities, load_permit, permit_changes
from models.mvno_permit import (
    PermitChange,
    PermitChangeRequest,
    PermitEntryRequest,
)
from rules.calendar import ALMATY

PERMITS = PermitsRegistryActivities(LocalPermitsRegistry())
enter_permit, record_permit_change = PERMITS.enter_permit, PERMITS.record_permit_change


async def test_permit_is_entered_once_per_case_and_changes_recorded_once() -> None:
    env = ActivityEnvironment()
    case = f"case-{uuid.uuid4().hex[:8]}"
    issued = datetime(2031, 5, 6, 11, 0, tzinfo=ALMATY)
    req = PermitEntryRequest(
        case_id=case,
        application_number="KZ-1",
        holder_name="Dala Mobile LLP",
        holder_id="210240000018",
        holder_kind="legal_entity",
        head_name="A. Zhanov",
        issued_at=issued,
        valid_until=datetime(2041, 5, 6, tzinfo=ALMATY),
        basis="665/NK p.7",
    )
    first = env.run(enter_permit, req)
    again = env.run(enter_permit, req)
    assert first.permit_number == again.permit_number and first.permit_number.startswith("MVNO-2031-")
    assert first.issued_on == date(2031, 5, 6) and first.valid_through == date(2041, 5, 5)
    other = env.run(enter_permit, req.model_copy(update={"case_id": case + "-b"}))
    assert other.permit_number != first.permit_number
    change = PermitChangeRequest(
        change_id=f"{case}/contract-1",
        permit_number=first.permit_number,
        change=PermitChange.TERMINATED,
        effective_at=issued + timedelta(days=400),
        reason="contract terminated early",
        cite="665/NK Annex 5 condition 3",
    )
    assert (env.run(record_permit_change, change)).status == "terminated"
    env.run(record_permit_change, change)
    assert permit_changes(first.permit_number) == ["terminated"]
    assert load_permit(first.permit_number).status == "terminated"  # type: ignore[union-attr]
