"""The qualification check (665/NK p.7, Annex 4): within 3 working days of the completeness decision the
employee finds the applicant compliant, or takes a preliminary decision to refuse with a hearing notice.

The hearing's limits are checked against recorded instants: the local activity ``hearing_windows`` records,
for each of the next 30 days, the latest hearing and the earliest decision if the notice went out that day, and
the office hours of that day (a hearing outside them needs the employee's confirmation, Annex 1 item 8(2)).
It is computed when a preliminary decision to refuse needs it (``HEARING_CALENDAR_ON_DEMAND``): the decision's
handler records it and checks the hearing then; a retry is checked by the validator against the recorded calendar.
A notice decided before the registration day goes out at the office's opening that day (p.6).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

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
    from rules.text import Sentence

from workflows.mvno_permit.documents import PermitDocuments

__all__ = ["INVALID_HEARING", "QualificationCheck"]

_WINDOW_DAYS = 30
INVALID_HEARING = "InvalidHearing"
"""The error type of a preliminary decision whose hearing the calendar, computed for it, refuses (the API's 422)."""


def _day_off(text: str) -> Sentence:
    """Why a day is off as the calendar names it (``weekend: Saturday``, ``holiday: Independence Day``), each word a
    msgid of the console's catalogues."""
    reason, _, name = text.partition(": ")
    return (
        Sentence("{reason}: {name}", reason=Sentence.word(reason), name=Sentence.word(name))
        if name
        else Sentence.word(reason)
    )


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
        if not self._hearing_calendar_on_demand:  # cases started before kept the calendar from the stage's start
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
        seen = self._term_calendar()
        self.state.windows = await self.local(
            hearing_windows,
            HearingWindowsRequest(start=workflow.now(), days=_WINDOW_DAYS, terms=reg.terms if reg else {}),
            what="hearing calendar",
        )
        self._windows_seen = seen

    def _term_calendar(self) -> str:
        """The calendar version of this round's qualification term (a correction that recomputes it changes it)."""
        state = self.clock.states.get(self._k("qualification_check"))
        return state.deadline.calendar_version if state else ""

    def _windows_cover(self, *instants: datetime) -> bool:
        """Whether the recorded hearing calendar is current and covers ``instants``. Only cases that compute it on
        demand can find it missing or stale; earlier cases keep it ahead (``_keep_windows``)."""
        if self._hearing_calendar_on_demand and (not self.state.windows or self._windows_seen != self._term_calendar()):
            return False
        return all(self._window(at) is not None for at in instants)

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
        when: str
        if w.office_hours:
            spans = [f"{i.starts_at:%H:%M}-{i.ends_at:%H:%M}" for i in w.office_hours]
            pair = len(spans) == 2  # the office's morning and afternoon
            hours = Sentence("{first} and {second}", first=spans[0], second=spans[1]) if pair else " and ".join(spans)
            when = Sentence("the office works {hours} on {day}", hours=hours, day=w.day.isoformat())
        else:
            off = _day_off(w.day_off) if w.day_off else Sentence("no office hours")
            when = Sentence("{day} is a day off ({why})", day=w.day.isoformat(), why=off)
        return Sentence(
            "hearing.at {at} is outside the provider's office hours: {when} ({cite})",
            at=self._almaty(at),
            when=when,
            cite=cite("665/NK", "Annex 1 item 8(2)"),
        )

    @workflow.update
    async def qualification_decision(self, d: QualificationDecision) -> DecisionReceipt:
        """Compliant → the permit; not compliant → preliminary refusal and hearing notice (665/NK p.7)."""
        with self.taking("qualification_decision"):
            self.state.accepting = ""
            if (
                not d.compliant
                and d.hearing is not None
                and not self._windows_cover(self._notice_instant(), d.hearing.at)
            ):
                await self._refresh_windows()  # a hearing is needed: its calendar is recorded now
                if problem := self._hearing_problem(d):
                    self.state.accepting = "qualification_decision"
                    said = [problem.data()] if isinstance(problem, Sentence) else []  # workflows.refusals
                    raise ApplicationError(problem, *said, type=INVALID_HEARING, non_retryable=True)
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
        if not self._windows_cover(notice, d.hearing.at):  # the handler computes the calendar, then checks
            problem = self._hearing_not_after_notice(d.hearing.at, notice)
        else:
            problem = self._hearing_problem(d)
        if problem:
            raise ValueError(problem)

    def _hearing_not_after_notice(self, at: datetime, notice: datetime) -> str | None:
        if at > notice:
            return None
        if notice == workflow.now():
            return Sentence(
                "hearing.at {at} is not after the notice ({notice})", at=self._almaty(at), notice=self._almaty(notice)
            )
        return Sentence(
            "hearing.at {at} is not after the notice ({notice}, sent on the registration day, {cite})",
            at=self._almaty(at),
            notice=self._almaty(notice),
            cite=cite("665/NK", "p.6"),
        )

    def _hearing_problem(self, d: QualificationDecision) -> str | None:
        """Why the recorded hearing calendar refuses the hearing of a preliminary decision to refuse (665/NK p.7,
        Annex 1 item 8(2)), or ``None``."""
        assert d.hearing is not None
        notice = self._notice_instant()
        w = self._window(notice)
        if w is None:
            return Sentence("the hearing calendar does not cover this moment yet; retry in a minute")
        if problem := self._hearing_not_after_notice(d.hearing.at, notice):
            return problem
        if d.hearing.at > w.hearing_due.due:
            return Sentence(
                "hearing.at {at} is too late: the hearing is held no later than {n} working days from the notice "
                "sent on {day}, i.e. by {due} ({cite})",
                at=self._almaty(d.hearing.at),  # a history keeps the text it recorded; replay does not compare it
                n=str(w.hearing_due.amount),
                day=w.day.isoformat(),
                due=self._almaty(w.hearing_due.due),
                cite=w.hearing_due.cite,
            )
        warning = self._outside_office_hours(d.hearing.at)
        if warning and not d.hearing.outside_office_hours_confirmed:
            return Sentence(
                "{warning}; to hold the hearing then, confirm it (hearing.outside_office_hours_confirmed = true)",
                warning=warning,
            )
        if warning is None and self._window(d.hearing.at) is None:
            return Sentence("the hearing calendar does not cover the hearing's day yet; retry in a minute")
        return None
