"""Permit for a mobile virtual network operator (665/NK), from the application to the end of the permit.

``run`` reads like the Rules: registration (p.6) → completeness check, 2 working days (p.6) → qualification
check, 3 working days (p.7) → the permit (Annex 5), or a preliminary decision to refuse with a hearing
notice → the hearing (p.7) → the permit or a reasoned refusal. The 7-working-day service term (Annex 1
item 4) runs beside it and its overrun is recorded. Every stage goes to the monitoring system (p.8),
permits to the state system of permits (p.9). After issue the same case lives the permit's ten years
(Annex 1 item 11). A refused case stays open for the complaint window so an upheld complaint can reopen
it (p.10).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.sms import SmsActivities
    from activities.state_registry import StateRegistryActivities
    from models.failures import ACT_NOT_IN_FORCE
    from models.mvno_permit import PermitApplication, PermitLife, PermitOutcome, PermitState, RegistryLookupRequest
    from models.sms import SmsRequest
    from rules.law import cite

from workflows.mvno_permit.base import ACT
from workflows.mvno_permit.completeness import CompletenessCheck
from workflows.mvno_permit.hearing import Hearing
from workflows.mvno_permit.life import PermitLifetime, initial_state
from workflows.mvno_permit.qualification import QualificationCheck
from workflows.mvno_permit.reopening import Reopening

__all__ = ["MvnoPermit"]


@workflow.defn
class MvnoPermit(CompletenessCheck, QualificationCheck, Hearing, PermitLifetime, Reopening):
    """One application for the MVNO permit and, once issued, the permit's life."""

    @workflow.init
    def __init__(self, start: PermitApplication | PermitState, life: PermitLife | None = None) -> None:
        super().__init__(initial_state(start, life))

    @workflow.run
    async def run(self, start: PermitApplication | PermitState, life: PermitLife | None = None) -> PermitOutcome:
        """The case from the application (``start``, read into ``self.state`` by ``__init__``) to its end."""
        await self._case()
        await self.handlers_finished()
        return self._outcome()

    async def _case(self) -> None:
        if self.state.permit is not None:  # an issued permit's next run (yearly checkpoint)
            await self._take_up()
            await self._permit_life()
            return
        if self._in_complaint_window():  # a refused case's next run (a long history, p.10)
            self._took_up("the case continued as new in its complaint window (a long history)")
            if not await self._complaint_window():
                return
            stage, since, counted_from = self._next_round()
        elif not await self._register():  # p.6
            return
        else:
            stage, since, counted_from = "completeness_check", self.state.application.received_at, "registration"
        while True:
            await self._service_term(since, counted_from)  # Annex 1 item 4, beside the stages
            if self.state.applicant_registry is None and self._service_term_before_registries:
                await self._ask_registries()  # p.6
            if stage == "completeness_check":
                if not await self._completeness_check(since, counted_from):  # p.6
                    await self._refuse_to_consider()
                    if not await self._complaint_window():  # p.10
                        return
                    stage, since, counted_from = self._next_round()
                    continue
                decided_at = self.state.decisions.completeness_at
                assert decided_at is not None
                # A decision taken after hours or on a day off counts as taken on the next working day.
                since, counted_from = decided_at, "registration"
            q = await self._qualification_check(since, counted_from)  # p.7, Annex 4
            if q.compliant or await self._hearing(q):  # p.7
                await self._issue_permit()  # p.7, p.9, Annex 5
                await self._permit_life()  # Annex 1 item 11
                return
            if not await self._complaint_window():  # p.10
                return
            stage, since, counted_from = self._next_round()

    async def _register(self) -> bool:
        """Registration (p.6) under the act in force, the applicant told by SMS, the state registries asked.

        False when 665/NK does not govern the application: the case closes with the reason.
        """
        app = self.state.application
        try:
            reg = await self.register(ACT, app.received_at)
        except (ActivityError, ApplicationError) as exc:  # a local activity's failure may arrive unwrapped
            why = next(
                (e for e in (exc, exc.cause) if isinstance(e, ApplicationError) and e.type == ACT_NOT_IN_FORCE), None
            )
            if why is None:
                raise
            self._event("act_not_in_force", why.message, ACT)
            self.close("act_not_in_force", "act_not_in_force")
            return False
        self.set_status("registered")
        self._event(
            "registered",
            f"registered on {reg.registered_on.isoformat()}, act version {reg.act_version_id}"
            + (f"; {reg.after_hours_roll}" if reg.after_hours_roll else ""),
            cite("665/NK", "p.6"),
        )
        await self._report("registered")
        await self.outside(
            SmsActivities.send_sms,
            SmsRequest(
                message_id=f"{self._id}/registered",
                case_id=self._id,
                to=app.applicant.phones[0],
                sender="EGOV",
                **(
                    {
                        "template": "permit_registered",
                        "params": {
                            "application_number": app.application_number,
                            "registered_on": reg.registered_on.isoformat(),
                            "cite": cite("665/NK", "p.6"),
                        },
                    }
                    if self._sms_from_templates
                    else {
                        "text": f"Application {app.application_number} for an MVNO permit is registered "
                        f"on {reg.registered_on.isoformat()} ({cite('665/NK', 'p.6')}). "
                        "Decisions arrive in your personal account."
                    }
                ),
            ),
            what="sms_gateway",
        )
        if not self._service_term_before_registries:
            await self._ask_registries()
        return True

    async def _ask_registries(self) -> None:
        """The registration data and court restrictions through the e-government gateway (p.6). A registry that
        refuses for good blocks the case visibly; the service term already runs (``SERVICE_TERM_BEFORE_REGISTRIES``)."""
        app = self.state.application
        self.state.applicant_registry = await self.outside(
            StateRegistryActivities.lookup_applicant,
            RegistryLookupRequest(
                case_id=self._id, kind=app.applicant.kind, identifier=app.applicant.identifier, at=workflow.now()
            ),
            what="state_registry",
        )
        self._event(
            "state_registries",
            "registration data and court restrictions fetched through the e-government gateway",
            cite("665/NK", "p.6"),
        )

    async def _service_term(self, since: datetime, counted_from: str) -> None:
        """The 7-working-day service term (Annex 1 item 4) runs beside the stages until the result is issued."""
        key = self._k("service_term")
        await self.clock.open(key, "mvno.service_term", since, counted_from=counted_from)
        self._tasks.append(asyncio.create_task(self.clock.watch(key, lambda: self.state.result_issued)))
