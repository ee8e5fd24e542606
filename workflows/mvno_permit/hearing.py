"""The hearing and the decision after it (665/NK p.7): the preliminary decision to refuse with the hearing
notice, the hearing within 2 working days of the notice, then the permit or a reasoned refusal, no earlier than the
first working day that the notice precedes by 3 working days (the notice goes out no later than 3 working days
before the act). When that earliest day lies past the 7-working-day service term (Annex 1 item 4) the overrun is
recorded and a term of its own governs the decision.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.hearing import hearing_windows
    from models.deadlines import Deadline
    from models.mvno_permit import (
        GROUNDS,
        DecisionReceipt,
        FinalDecision,
        HearingRecord,
        HearingWindowsRequest,
        NoticeDay,
        QualificationDecision,
        ServiceTermOverrun,
    )
    from rules.law import cite
    from rules.text import Sentence

from workflows.mvno_permit.documents import PermitDocuments

__all__ = ["NOTICE_DAY_FOLLOWS_CORRECTIONS", "Hearing"]

NOTICE_DAY_FOLLOWS_CORRECTIONS = "permit-notice-day-follows-calendar-corrections"
"""``workflow.patched`` id: a calendar correction that moves a due instant also counts the hearing notice day again
(the latest hearing, the earliest decision) until the decision opens, and the wait for the decision follows it.
Before it the hearing term moved but the notice day did not: the decision opened a working day early after a new day
off. Decided when the hearing notice goes out."""


class Hearing(PermitDocuments):
    """665/NK p.7, from the preliminary decision to the decision after the hearing."""

    _notice_day_follows = False

    async def _hearing(self, q: QualificationDecision) -> bool:
        """The notice, the hearing, then the decision; True when the permit is to be issued."""
        d = self.state.decisions
        notice, notice_at = d.notice_day, d.notice_at
        assert notice is not None and notice_at is not None and q.hearing is not None
        self._notice_day_follows = workflow.patched(NOTICE_DAY_FOLLOWS_CORRECTIONS)
        self._event(
            "preliminary_refusal",
            "grounds: " + ", ".join(GROUNDS[g].cite for g in q.grounds),
            cite("665/NK", "p.7", "Annex 1 item 10"),
        )
        hearing_key = self._k("hearing")
        hearing_due = await self.clock.open(hearing_key, "mvno.hearing_after_notice", notice_at, counted_from="day")
        await self._on_the_registration_day("the preliminary decision and the hearing notice")  # p.6
        await self._send_preliminary_refusal(q, notice, hearing_due.deadline)
        service = self.clock.get(self._k("service_term"))
        if notice.decision_not_before > service.due:
            await self._record_overrun(notice, service.deadline)
        await self._stage("hearing_scheduled", "record_hearing")
        await self._wait_stage(hearing_key, "hearing", lambda: self.state.decisions.hearing_record is not None)
        held = d.hearing_record
        assert held is not None
        self._event(
            "hearing",
            "held; applicant " + ("attended" if held.applicant_attended else "did not attend"),
            cite("665/NK", "p.7"),
        )
        return await self._final_decision(notice, notice_at)

    async def _record_overrun(self, notice: NoticeDay, service: Deadline) -> None:
        """The notice allows the decision only after the service term: recorded, shown and reported."""
        overrun = ServiceTermOverrun(
            service_term_due=service.due,
            decision_not_before=notice.decision_not_before,
            recorded_at=workflow.now(),
            explanation=(
                f"the hearing notice of {notice.day.isoformat()} allows the decision no earlier than "
                f"{notice.decision_not_before.date().isoformat()} ({notice.decision_term.cite}), after the "
                f"{service.amount}-working-day service term ending {self._almaty(service.due)} "
                f"({service.cite})"
            ),
        )
        self.state.overrun = overrun
        self.record.memo({"service_term_overrun": overrun.model_dump(mode="json")})
        self._event("service_term_overrun", overrun.explanation, cite("665/NK", "Annex 1 item 4", "p.7"))
        await self._report("service_term_overrun", overrun.explanation)

    async def _final_decision(self, notice: NoticeDay, notice_at: datetime) -> bool:
        """Not before the first working day the notice precedes by 3 working days; within the service term, or the
        overrun's own term (due at the close of that earliest day)."""
        s = self.state
        s.accepting = ""
        self.set_status("decision_pending")
        if self._notice_day_follows:
            notice = await self._until_the_decision_is_possible()
        else:
            await self.clock.not_before(notice.decision_not_before)
        s.decisions.decision_open = True
        await self._stage("decision_pending", "final_decision")

        def decided() -> bool:
            return self.state.decisions.final is not None

        if s.overrun is not None:
            key = self._k("decision")
            if notice.notice_lead is not None:  # counted back from the act (p.7)
                await self.clock.open(key, "mvno.hearing_notice_lead", notice_at, counted_from="day", earliest_act=True)
            else:  # the forward reading of hearing calendars recorded before
                await self.clock.open(key, "mvno.decision_after_notice", notice_at, counted_from="day")
            await self._wait_stage(key, "decision_pending", decided)
        elif not await self.clock.until_breached(self._k("service_term"), decided):
            # The decision is due within the service term; its breach is the service term's (watched beside).
            self.set_status("decision_pending_overdue")
            await self._report("decision_pending_overdue", "the service term passed without the decision")
            await workflow.wait_condition(decided)
        final = s.decisions.final
        assert final is not None
        if final.grant:
            self._event("final_decision", "permit after the hearing", cite("665/NK", "p.7"))
            return True
        self._event(
            "final_decision",
            "reasoned refusal: " + ", ".join(GROUNDS[g].cite for g in final.grounds),
            cite("665/NK", "p.7", "Annex 1 item 10"),
        )
        held = s.decisions.hearing_record
        assert held is not None
        await self._send_reasoned_refusal(final, held)
        s.result_issued = True
        self.close("refused", "refused")
        await self._report("refused")
        return False

    async def _until_the_decision_is_possible(self) -> NoticeDay:
        """Wait for the earliest day of the decision, as the notice day reads it now: a calendar correction that
        moves it (``on_calendar_corrected``) moves the wait."""
        d = self.state.decisions

        def recounted(seen: NoticeDay) -> Callable[[], bool]:
            return lambda: d.notice_day is not seen

        while True:
            notice = d.notice_day
            assert notice is not None
            wait = (notice.decision_not_before - workflow.now()).total_seconds()
            if wait <= 0:
                return notice
            try:
                await workflow.wait_condition(recounted(notice), timeout=wait)
            except TimeoutError:
                return notice

    async def on_calendar_corrected(self) -> None:
        """The notice day counted again under the corrected calendar, until the decision opens: the latest hearing
        and the earliest decision (665/NK p.7) move with the terms, recorded, and an overrun it now makes is
        recorded too. Cases whose hearing began before this kept the notice day they computed."""
        d = self.state.decisions
        if not self._notice_day_follows or d.notice_day is None or d.notice_at is None or d.decision_open:
            return
        reg = self.state.registration
        [day] = await self.local(
            hearing_windows,
            HearingWindowsRequest(start=d.notice_at, days=1, terms=reg.terms if reg else {}),
            what="hearing calendar",
        )
        old, d.notice_day = d.notice_day, day
        if (day.hearing_due.due, day.decision_not_before) == (old.hearing_due.due, old.decision_not_before):
            return
        self._event(
            "hearing_notice_day_recounted",
            f"after a calendar correction: the hearing no later than {self._almaty(day.hearing_due.due)}, the "
            f"decision from {day.decision_not_before.date().isoformat()} (were {self._almaty(old.hearing_due.due)} "
            f"and {old.decision_not_before.date().isoformat()})",
            cite("665/NK", "p.7"),
        )
        service = self.clock.get(self._k("service_term"))
        if self.state.overrun is None and day.decision_not_before > service.due:
            await self._record_overrun(day, service.deadline)

    @workflow.update
    def record_hearing(self, h: HearingRecord) -> DecisionReceipt:
        """The hearing as held and the applicant's position (665/NK p.7)."""
        d = self.state.decisions
        self.state.accepting = ""
        d.hearing_record = h
        nb = d.notice_day.decision_not_before.date().isoformat() if d.notice_day else ""
        note = f"the decision may be adopted from {nb}"
        return DecisionReceipt(accepted_at=workflow.now(), update="record_hearing", note=note)

    @record_hearing.validator
    def validate_record_hearing(self, h: HearingRecord) -> None:
        self._ensure_accepting("record_hearing")
        d = self.state.decisions
        notice_at = d.notice_at
        assert notice_at is not None
        if _minute(h.held_at) > _minute(workflow.now()):  # the minute now is not "in the future"
            raise ValueError(
                Sentence("held_at {at} is in the future: record a hearing once it is held", at=self._almaty(h.held_at))
            )
        # compared to the minute, as people give and read these times: a hearing recorded in the minute of the notice
        # or of its notified time was refused as "19:31 … before … 19:31" (an adversarial run, 2026-12-05)
        if _minute(h.held_at) < _minute(notice_at):
            raise ValueError(
                Sentence(
                    "held_at {at} is before the notice ({notice})",
                    at=self._almaty(h.held_at),
                    notice=self._almaty(notice_at),
                )
            )
        notified = d.qualification.hearing if d.qualification else None
        if notified is not None and _minute(h.held_at) < _minute(notified.at):
            raise ValueError(
                Sentence(
                    "held_at {at} is before the hearing's notified time {notified} ({cite}): the applicant was told "
                    "to come then",
                    at=self._almaty(h.held_at),
                    notified=self._almaty(notified.at),
                    cite=cite("665/NK", "p.7"),
                )
            )

    @workflow.update
    def final_decision(self, d: FinalDecision) -> DecisionReceipt:
        """After the hearing: the permit or a reasoned refusal (665/NK p.7)."""
        self.state.accepting = ""
        self.state.decisions.final = d
        return DecisionReceipt(
            accepted_at=workflow.now(), update="final_decision", note="permit" if d.grant else "reasoned refusal"
        )

    @final_decision.validator
    def validate_final_decision(self, d: FinalDecision) -> None:
        self._ensure_accepting("final_decision")


def _minute(instant: datetime) -> datetime:
    """``instant`` to the minute (its seconds dropped)."""
    return instant.replace(second=0, microsecond=0)
