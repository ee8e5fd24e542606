"""The MVNO permit's outside systems, local implementations: idempotent, and what they answer."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta

from temporalio.testing import ActivityEnvironment

from activities.hearing import hearing_windows
from activities.monitoring import LocalMonitoringSystem, MonitoringActivities, stages_of
from activities.permits_registry import LocalPermitsRegistry, PermitsRegistryActivities, load_permit, permit_changes
from activities.state_registry import (
    LocalStateRegistries,
    StateRegistryActivities,
    add_court_restriction,
    add_legal_entity,
)
from models.mvno_permit import (
    HearingWindowsRequest,
    PermitChange,
    PermitChangeRequest,
    PermitEntryRequest,
    RegistryLookupRequest,
    StageReport,
)
from rules.calendar import ALMATY, WorkingCalendar

report_stage = MonitoringActivities(LocalMonitoringSystem()).report_stage
PERMITS = PermitsRegistryActivities(LocalPermitsRegistry())
enter_permit, record_permit_change = PERMITS.enter_permit, PERMITS.record_permit_change
lookup_applicant = StateRegistryActivities(LocalStateRegistries()).lookup_applicant


async def test_monitoring_reports_each_stage_once() -> None:
    case = f"case-{uuid.uuid4().hex[:8]}"
    env = ActivityEnvironment()
    report = StageReport(
        report_id=f"{case}/001",
        case_id=case,
        procedure="mvno_permit",
        stage="registered",
        status="registered",
        at=datetime.now(UTC),
    )
    assert env.run(report_stage, report) is True
    assert env.run(report_stage, report) is False  # a retry
    env.run(report_stage, report.model_copy(update={"report_id": f"{case}/002", "stage": "completeness_check"}))
    assert stages_of(case) == ["registered", "completeness_check"]


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


async def test_registry_answers_registration_data_and_court_restrictions_in_force() -> None:
    env = ActivityEnvironment()
    bin_ = "190840001231"
    add_legal_entity(bin_, "Steppe Telecom LLP", "B. Test", "Almaty", active=False)
    now = datetime.now(UTC)
    add_court_restriction(
        bin_, "special_right_deprivation", "Court No. 2", f"1-{uuid.uuid4().hex[:6]}", now - timedelta(days=1)
    )
    add_court_restriction(bin_, "activity_ban", "Court No. 3", f"2-{uuid.uuid4().hex[:6]}", now + timedelta(days=30))
    data = env.run(lookup_applicant, RegistryLookupRequest(case_id="c", kind="legal_entity", identifier=bin_, at=now))
    assert data.found and data.name == "Steppe Telecom LLP" and not data.active
    assert [r.kind for r in data.restrictions] == ["special_right_deprivation"]  # the ban is not in force yet
    assert bin_ not in data.recipient
    later = env.run(
        lookup_applicant,
        RegistryLookupRequest(case_id="c", kind="legal_entity", identifier=bin_, at=now + timedelta(days=31)),
    )
    assert {r.kind for r in later.restrictions} == {"special_right_deprivation", "activity_ban"}
    missing = env.run(
        lookup_applicant, RegistryLookupRequest(case_id="c", kind="individual", identifier="880302400054", at=now)
    )
    assert not missing.found and missing.restrictions == []


async def test_hearing_windows_give_the_two_limits_of_p7_per_notice_day() -> None:
    cal = WorkingCalendar()
    start = datetime(2027, 3, 19, 15, 0, tzinfo=ALMATY)  # the Friday before Nauryz 2027
    days = await ActivityEnvironment().run(hearing_windows, HearingWindowsRequest(start=start, days=10))
    assert len(days) == 10 and days[0].day == date(2027, 3, 19)
    first = days[0]
    assert first.hearing_due.due == datetime.combine(
        cal.add_working_days(date(2027, 3, 19), 2), time(18, 30), tzinfo=ALMATY
    )
    assert first.hearing_due.cite == "665/NK p.7"
    assert first.decision_not_before == datetime.combine(
        cal.add_working_days(date(2027, 3, 19), 3), time(0), tzinfo=ALMATY
    )
    assert first.decision_not_before.date() > date(2027, 3, 24)  # the holidays are not counted
    assert all(d.starts_at < d.ends_at == n.starts_at for d, n in itertools.pairwise(days))
