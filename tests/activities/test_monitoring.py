"""The public-services monitoring system's local implementation (``activities.monitoring``, 665/NK p.8): each
stage reported once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from temporalio.testing import ActivityEnvironment

from activities.monitoring import LocalMonitoringSystem, MonitoringActivities, stages_of
from models.mvno_permit import StageReport

report_stage = MonitoringActivities(LocalMonitoringSystem()).report_stage


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
