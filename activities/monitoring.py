"""The public-services monitoring system (665/NK p.8): every stage of a case is reported.

Locally the reports go to the ``monitoring_stage_reports`` table. Idempotent on ``report_id`` (chosen by the
workflow): a retried activity reports a stage once.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity

from infra.db import session
from models.mvno_permit import StageReport
from models.tables import MonitoringStageReport

__all__ = ["LocalMonitoringSystem", "MonitoringActivities", "MonitoringSystem", "stages_of"]

log = logging.getLogger(__name__)


class MonitoringSystem(Protocol):
    """Takes a stage report once per ``report_id``; answers whether this call recorded it."""

    def report(self, report: StageReport) -> bool: ...


class LocalMonitoringSystem:
    """The ``monitoring_stage_reports`` table."""

    def report(self, report: StageReport) -> bool:
        try:
            with session() as s:
                if s.get(MonitoringStageReport, report.report_id) is not None:
                    return False
                s.add(
                    MonitoringStageReport(
                        report_id=report.report_id,
                        case_id=report.case_id,
                        procedure=report.procedure,
                        stage=report.stage,
                        status=report.status,
                        at=report.at.astimezone(UTC),
                        cite=report.cite,
                        detail=report.detail,
                    )
                )
        except IntegrityError:
            return False
        return True


class MonitoringActivities:
    """The monitoring system's activity."""

    def __init__(self, system: MonitoringSystem) -> None:
        self.system = system

    @activity.defn(name="report_stage")
    def report_stage(self, report: StageReport) -> bool:
        """Report one stage; returns False when this report id was already reported (a retry)."""
        created = self.system.report(report)
        if created:
            log.info("monitoring: case=%s stage=%s (%s)", report.case_id, report.stage, report.cite)
        return created


def stages_of(case_id: str) -> list[str]:
    """The stages reported for a case, in order (console, tests)."""
    with session() as s:
        rows = s.exec(
            select(MonitoringStageReport)
            .where(MonitoringStageReport.case_id == case_id)
            .order_by(MonitoringStageReport.report_id)  # type: ignore[arg-type]
        ).all()
        return [r.stage for r in rows]
