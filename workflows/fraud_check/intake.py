"""The three ways into a fraud case, each an Update that also opens the case (update-with-start): a subscriber's
report to the reference service (171 p.52(4)), information from the National Bank antifraud centre (p.119),
the operator's own detection (p.118). Further reports join the open case.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.fraud_check import (
        AnyReport,
        CentreInformation,
        FraudCaseInput,
        IntakeAck,
        InternalDetection,
        RecordedReport,
        ReportAnswer,
        SubscriberReport,
    )
    from rules.law import cite

from workflows.fraud_check.notices import CentreNotices

__all__ = ["CHECK_FROM_THE_EARLIEST_REPORT", "REFS_ARE_THEIR_SENDERS", "WaysIn", "opening_report"]

REFS_ARE_THEIR_SENDERS = "fraud-refs-are-their-senders"
"""``workflow.patched`` id, asked only when a report comes with a ref the case holds from another way in: it is
another sender's message and is recorded. Before it, the second was answered "duplicate" and lost (the reference
service's ref had swallowed the centre's SIM-box report of the same ref, an adversarial run of 2026-12-04)."""


CHECK_FROM_THE_EARLIEST_REPORT = "fraud-check-from-the-earliest-report"
"""``workflow.patched`` id, asked only when a report joins that was received before the one the check counts from
while the check is still to be done: 171 p.119's 2 working days count from the earliest report, and the check is
counted again from it, the move recorded. Before it, such a report joined silently and the check kept counting from
the later one (an adversarial run, 2026-12-04)."""


def opening_report(inp: FraudCaseInput) -> tuple[str, AnyReport, str]:
    """The Update that carries a case's first report (its way in), the report, and its sender's ref (the Update id
    is a keyed hash of it, made at the edge)."""
    return inp.first.way_in.value, inp.first, inp.first.ref


class WaysIn(CentreNotices):
    """171 p.52(4), p.118, p.119: reports in; the operator's own detection is passed to the centre at once."""

    def _record(self, report: AnyReport) -> None:
        self._refs.add(report.ref)
        self._refs_by_way_in.add((report.way_in.value, report.ref))
        # After a not-confirmed outcome or a lift decision a new report deserves a check of its own.
        needs_new_check = self.check_outcome is not None and (not self.check_outcome.confirmed or self.lift is not None)
        self.reports.append(RecordedReport(report=report, recorded_at=workflow.now(), needs_new_check=needs_new_check))

    def _take(self, report: AnyReport) -> IntakeAck:
        if report.ref == self._opening_ref and not self._opening_answered:
            self._opening_answered = True
            answer = ReportAnswer.OPENED
        elif (report.way_in.value, report.ref) in self._refs_by_way_in or (
            report.ref in self._refs and not workflow.patched(REFS_ARE_THEIR_SENDERS)
        ):
            answer = ReportAnswer.DUPLICATE
        else:
            self._record(report)
            answer = ReportAnswer.JOINED
            if isinstance(report, InternalDetection):
                self._spawn(self._inform_of_detection(report))
            if self._counts_from_later_than(report) and workflow.patched(CHECK_FROM_THE_EARLIEST_REPORT):
                reason = f"report {report.ref}, received earlier, joined: the check counts from its receipt"
                self._spawn(self._count_check_from(report.received_at, f"{reason} ({cite('171', 'p.119')})"))
        return IntakeAck(
            case_id=workflow.info().workflow_id, answer=answer, reports_in_case=len(self.reports), status=self.status
        )

    def _counts_from_later_than(self, report: AnyReport) -> bool:
        """Whether the check, still to be done, counts from a report received after ``report``."""
        return self.clock.undone("check") and report.received_at < self.clock.request_of("check").start

    async def _count_check_from(self, start: datetime, reason: str) -> None:
        await self.clock.count_from("check", start, reason)

    def _refuse_unless_fits(self, report: AnyReport) -> None:
        if report.suspect_number != self.number:
            raise ValueError("the report is about another number than this case")
        if report.received_at > workflow.now() + self.timings.report_future_tolerance:
            raise ValueError("received_at is in the future")

    @workflow.update
    def subscriber_report(self, report: SubscriberReport) -> IntakeAck:
        """(a) A subscriber's report to the information-reference service (171 p.52(4))."""
        return self._take(report)

    @subscriber_report.validator
    def validate_subscriber_report(self, report: SubscriberReport) -> None:
        self._refuse_unless_fits(report)

    @workflow.update
    def centre_information(self, report: CentreInformation) -> IntakeAck:
        """(b) Information from the National Bank antifraud centre, incl. SIM boxes (171 p.119)."""
        return self._take(report)

    @centre_information.validator
    def validate_centre_information(self, report: CentreInformation) -> None:
        self._refuse_unless_fits(report)

    @workflow.update
    def internal_detection(self, report: InternalDetection) -> IntakeAck:
        """(c) The operator's own antifraud detection (171 p.118): the centre is informed at once."""
        return self._take(report)

    @internal_detection.validator
    def validate_internal_detection(self, report: InternalDetection) -> None:
        self._refuse_unless_fits(report)
