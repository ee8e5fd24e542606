"""The qualification check (665/NK p.7, Annex 4): within 3 working days of the completeness decision the
employee finds the applicant compliant, or takes a preliminary decision to refuse with a hearing notice.

The hearing's limits are checked against recorded instants: the local activity ``hearing_windows`` records,
for each of the next 30 days, the latest hearing and the earliest decision if the notice went out that day, and
the office hours of that day (a hearing outside them needs the employee's confirmation, Annex 1 item 8(2)).
A notice decided before the registration day goes out at the office's opening that day (p.6).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.hearing import hearing_windows
    from models.mvno_permit import (
        DecisionReceipt,
        HearingWindowsRequest,
        NoticeDay,
        QualificationDecision,
        propose_qualification,
    )
    from rules.law import cite

from workflows.mvno_permit.documents import PermitDocuments

__all__ = ["QualificationCheck"]

_WINDOW_DAYS = 30


class QualificationCheck(PermitDocuments):
    """665/NK p.7."""

    async def _qualification_check(self, start: datetime, counted_from: str) -> QualificationDecision:
        """The system proposes the grounds it sees, the employee decides within the term."""
        s = self.state
        assert s.applicant_registry is not None
        key = self._k("qualification_check")
        # A term never falls due before the event it counts from: never counted from before the receipt.
        received_at = s.application.received_at
        await self.clock.open(key, "mvno.qualification_check", start, counted_from=counted_from, not_before=received_at)
        s.qualification_proposal = propose_qualification(s.application, s.applicant_registry)
        await self._refresh_windows()
        self._tasks.append(asyncio.create_task(self._keep_windows()))
        await self._stage("qualification_check", "qualification_decision")
        await self._wait_stage(key, "qualification_check", lambda: self.state.decisions.qualification is not None)
        q = s.decisions.qualification
        assert q is not None
        if q.compliant:
            self._event("qualification_decision", "compliant, no ground for refusal", cite("665/NK", "p.7", "Annex 4"))
        return q

    async def _refresh_windows(self) -> None:
        reg = self.state.registration
        self.state.windows = await self.local(
            hearing_windows,
            HearingWindowsRequest(start=workflow.now(), days=_WINDOW_DAYS, terms=reg.terms if reg else {}),
            what="hearing calendar",
        )

    async def _keep_windows(self) -> None:
        """Keep the recorded hearing calendar ahead of now while the qualification decision is awaited, and
        recompute it when a calendar correction reaches the stage's term."""
        round_, key = self.state.round, self._k("qualification_check")

        def awaited() -> bool:
            return self.state.round == round_ and self.state.decisions.qualification is None

        while awaited():
            refresh_at = self.state.windows[-7].starts_at
            if await self.clock.until_recomputed(key, lambda: not awaited(), at=refresh_at) or awaited():
                await self._refresh_windows()

    def _window(self, at: datetime) -> NoticeDay | None:
        return next((w for w in self.state.windows if w.starts_at <= at < w.ends_at), None)

    def _notice_instant(self) -> datetime:
        """When a hearing notice decided now goes out: now, or the office's opening on the registration day when
        that is later (a result is not issued before the registration day, 665/NK p.6)."""
        return self._results_from() or workflow.now()

    def _outside_office_hours(self, at: datetime) -> str | None:
        """The warning for a hearing set outside the provider's office hours (665/NK Annex 1 item 8(2)), from the
        recorded hearing calendar; ``None`` within them, or where the calendar does not say (recorded before)."""
        w = self._window(at)
        if w is None or w.office_hours is None or any(i.starts_at <= at < i.ends_at for i in w.office_hours):
            return None
        if w.office_hours:
            hours = " and ".join(f"{i.starts_at:%H:%M}-{i.ends_at:%H:%M}" for i in w.office_hours)
            when = f"the office works {hours} on {w.day.isoformat()}"
        else:
            when = f"{w.day.isoformat()} is a day off ({w.day_off or 'no office hours'})"
        return (
            f"hearing.at {self._almaty(at)} is outside the provider's office hours: {when} "
            f"({cite('665/NK', 'Annex 1 item 8(2)')})"
        )

    @workflow.update
    def qualification_decision(self, d: QualificationDecision) -> DecisionReceipt:
        """Compliant → the permit; not compliant → preliminary refusal and hearing notice (665/NK p.7)."""
        self.state.accepting = ""
        self.state.decisions.qualification = d
        note = "permit next" if d.compliant else "preliminary refusal and hearing notice sent"
        if not d.compliant:
            at = self._notice_instant()
            self.state.decisions.notice_at = at
            self.state.decisions.notice_day = self._window(at)
            if at > workflow.now():
                note = f"preliminary refusal and hearing notice, sent on the registration day at {self._almaty(at)}"
            warning = self._outside_office_hours(d.hearing.at) if d.hearing else None
            if warning:  # confirmed, or the validator would have refused it
                self._event(
                    "hearing_outside_office_hours",
                    f"{warning}; confirmed by {d.decided_by}",
                    cite("665/NK", "Annex 1 item 8(2)"),
                )
        return DecisionReceipt(accepted_at=workflow.now(), update="qualification_decision", note=note)

    @qualification_decision.validator
    def validate_qualification_decision(self, d: QualificationDecision) -> None:
        self._ensure_accepting("qualification_decision")
        if d.compliant or d.hearing is None:
            return
        notice = self._notice_instant()
        w = self._window(notice)
        if w is None:
            raise ValueError("the hearing calendar does not cover this moment yet; retry in a minute")
        if d.hearing.at <= notice:
            sent = "" if notice == workflow.now() else f", sent on the registration day, {cite('665/NK', 'p.6')}"
            raise ValueError(
                f"hearing.at {self._almaty(d.hearing.at)} is not after the notice ({self._almaty(notice)}{sent})"
            )
        if d.hearing.at > w.hearing_due.due:
            raise ValueError(
                f"hearing.at {d.hearing.at.isoformat()} is too late: the hearing is held no later than "
                f"{w.hearing_due.amount} working days from the notice sent on {w.day.isoformat()}, i.e. by "
                f"{w.hearing_due.due.isoformat()} ({w.hearing_due.cite})"
            )
        warning = self._outside_office_hours(d.hearing.at)
        if warning and not d.hearing.outside_office_hours_confirmed:
            raise ValueError(
                f"{warning}; to hold the hearing then, confirm it (hearing.outside_office_hours_confirmed = true)"
            )
        if warning is None and self._window(d.hearing.at) is None:
            raise ValueError("the hearing calendar does not cover the hearing's day yet; retry in a minute")
