"""The permit (Annex 5) and its ten years (Annex 1 item 11): entered in the state system of permits (p.9),
signed by the head, delivered; then contract events terminate or extend it and the validity instant
expires it. At most a year is waited in one run: the case then continues as new, handing its whole
``PermitState`` to the next run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.permits_registry import PermitsRegistryActivities
    from models.mvno_permit import (
        CONTRACT_CITES,
        ContractEvent,
        ContractEventKind,
        DecisionReceipt,
        PermitApplication,
        PermitChange,
        PermitChangeRequest,
        PermitEntryRequest,
        PermitLife,
        PermitState,
    )
    from models.procedure import SenderError
    from rules.law import cite
    from rules.text import Sentence
    from workflows.clock import Woke

from workflows.mvno_permit.base import BASE_OPERATOR, VALIDITY_CANCELLED_WITH_ITS_REASON
from workflows.mvno_permit.documents import PermitDocuments

__all__ = ["PermitLifetime", "initial_state"]

_INPUT: TypeAdapter[PermitApplication | PermitState] = TypeAdapter(PermitApplication | PermitState)


def initial_state(start: PermitApplication | PermitState | dict[str, Any], life: PermitLife | None) -> PermitState:
    """The case's state from the run's input: a new application (``[PermitApplication]``, from the API and the
    command line), the state the previous run handed over (``[PermitState]``), or a run continued as new by
    the code before ``PermitState`` (``[PermitApplication, PermitLife]``)."""
    # The SDK applies type hints only when the payload count matches the parameters: an input of one payload
    # arrives as plain JSON (validated at the edge, or written by the previous run).
    read = _INPUT.validate_python(start)
    if isinstance(start, dict):
        # The SDK keeps the run's input for the run's life (its frames hold the arguments): emptied once read into
        # the state, an open case holds its application once, not twice (5 KiB a permit, issue 18). This function
        # is the input's one reader; ``run`` takes the state from ``__init__``.
        start.clear()
    if life is not None:
        assert isinstance(read, PermitApplication)
        return life.to_state(read)
    return read if isinstance(read, PermitState) else PermitState(application=read)


PERMIT_VALIDITY_CARRIED = "permit-validity-carried-across-checkpoints"
"""``workflow.patched`` id: a continued run keeps the validity computed at issue instead of recomputing it."""


class PermitLifetime(PermitDocuments):
    """665/NK p.7, p.9, Annex 5; Annex 1 item 11."""

    async def _issue_permit(self) -> None:
        """The permit (Annex 5): entered in the permits registry (p.9), signed by the head, delivered; issued on the
        registration day at the earliest (p.6), its validity counted from the issue."""
        s = self.state
        assert s.registration is not None
        await self._on_the_registration_day("the permit")
        validity = await self.clock.open(
            self._validity_key(1), "mvno.permit_validity", workflow.now(), counted_from="day"
        )
        a = s.application.applicant
        head = a.head_name if a.kind == "legal_entity" else None
        s.permit = await self.outside(
            PermitsRegistryActivities.enter_permit,
            PermitEntryRequest(
                case_id=self._id,
                application_number=s.application.application_number,
                holder_name=a.display_name,
                holder_id=a.identifier,
                holder_kind=a.kind,
                head_name=head,
                issued_at=validity.deadline.start,
                valid_until=validity.due,
                basis=f"{cite('665/NK', 'p.7')} ({s.registration.act_basis}); "
                f"application {s.application.application_number}",
            ),
            what="permits_registry",
        )
        p = s.permit
        await self._send_permit(p, validity.deadline)
        s.result_issued = True
        self.outcome = "permit_issued"
        self._event(
            "permit_issued",
            f"{p.permit_number}, valid through {p.valid_through.isoformat()}",
            cite("665/NK", "p.7", "p.9", "Annex 5"),
        )
        await self._stage("permit_valid", "contract_event")

    async def _permit_life(self) -> None:
        """Expiry at the recorded validity instant, or a contract event; a checkpoint each year."""
        s = self.state
        assert s.permit is not None
        while True:
            key = self._validity_key(s.validity_n)
            woke = await self.clock.within(
                key,
                lambda: bool(self.state.contract_events),
                at_most=self.timings.permit_checkpoint,
                checkpoint=self._checkpoint,
            )
            if woke in (Woke.AT_MOST, Woke.CHECKPOINT):
                await self._continue_as_new()
            if woke is Woke.DUE:
                validity = self.clock.met(key).deadline
                await self._permit_change(
                    PermitChange.EXPIRED,
                    f"validity-{s.validity_n}",
                    None,
                    f"the {validity.amount}-year validity ended",
                    validity.cite,
                )
                self.close("permit_expired", "permit_expired")
                await self._report("permit_expired")
                return
            ev = s.contract_events.pop(0)
            condition = CONTRACT_CITES[ev.kind]
            self.clock.cancel(key, ev.kind.value if workflow.patched(VALIDITY_CANCELLED_WITH_ITS_REASON) else None)
            if ev.kind is not ContractEventKind.EXTENDED_COMPLIANCE_CONFIRMED:  # Annex 5 conditions 1 and 3
                await self._permit_change(
                    PermitChange.TERMINATED,
                    f"contract-{len(s.events)}",
                    None,
                    f"contract {ev.contract_number}: {ev.kind.value} on {ev.occurred_on.isoformat()}",
                    condition,
                )
                self.close("permit_terminated", "permit_terminated")
                await self._report("permit_terminated", ev.kind.value)
                return
            s.validity_n += 1  # Annex 5 condition 2: a new validity counted from the extension day
            new = await self.clock.open(
                self._validity_key(s.validity_n), "mvno.permit_validity", workflow.now(), counted_from="day"
            )
            await self._permit_change(
                PermitChange.EXTENDED,
                f"extension-{s.validity_n}",
                new.due,
                f"contract {ev.contract_number} extended to "
                f"{ev.contract_valid_until.isoformat() if ev.contract_valid_until else '?'}, "
                "compliance confirmed",
                condition,
            )
            await self._stage("permit_valid", "contract_event", f"extended ({condition})")

    async def _take_up(self) -> None:
        """Take up an issued permit's case where the previous run left it. The validity stays the instant computed
        at issue (runs continued before ``PERMIT_VALIDITY_CARRIED`` recomputed it here, as their histories show):
        a later amendment of the term must not change an issued permit's expiry."""
        s = self.state
        assert s.registration is not None
        s.result_issued = True
        if not workflow.patched(PERMIT_VALIDITY_CARRIED):
            key = self._validity_key(s.validity_n)
            validity = s.deadlines.pop(key)
            await self.clock.open(key, "mvno.permit_validity", validity.deadline.start, counted_from="day")
        why = "its yearly checkpoint or a long history" if self._continues_when_suggested else "yearly checkpoint"
        self._took_up(f"the permit's case continued as new ({why})")
        s.accepting = "contract_event"

    async def _permit_change(
        self, change: PermitChange, suffix: str, valid_until: datetime | None, reason: str, cite: str
    ) -> None:
        """Record a change of the permit in the state system of permits (p.9), once per change id."""
        assert self.state.permit is not None
        self.state.permit = await self.outside(
            PermitsRegistryActivities.record_permit_change,
            PermitChangeRequest(
                change_id=f"{self._id}/{suffix}",
                permit_number=self.state.permit.permit_number,
                change=change,
                effective_at=workflow.now(),
                valid_until=valid_until,
                reason=reason,
                cite=cite,
            ),
            what="permits_registry",
        )
        self._event(f"permit_{change.value}", reason, cite)

    @workflow.update
    def contract_event(self, ev: ContractEvent) -> DecisionReceipt:
        """A base-operator contract ended, was terminated early, or was extended with compliance confirmed."""
        self.state.accepting = ""
        self.state.contract_events.append(ev)
        return DecisionReceipt(accepted_at=workflow.now(), update="contract_event", note=CONTRACT_CITES[ev.kind])

    @contract_event.validator
    def validate_contract_event(self, ev: ContractEvent) -> None:
        """The contract must be one of the permit's, and the reporting base operator's own when the event names
        it (the API names it for a base operator's key). The refusals name only what was sent, never the permit's
        contracts (``SenderError``)."""
        self._ensure_accepting("contract_event")
        contracts = self.state.application.qualification.contracts
        contract = next((c for c in contracts if c.contract_number == ev.contract_number), None)
        if contract is None or ev.base_operator_bin not in (None, contract.base_operator_bin):
            if ev.base_operator_bin:
                raise SenderError(
                    Sentence(
                        "contract_number is not a contract of this permit with the base operator of BIN {bin}",
                        bin=ev.base_operator_bin,
                    )
                )
            raise SenderError(Sentence("contract_number is not a contract of this permit"))
        if ev.contract_valid_until is not None and ev.contract_valid_until <= ev.occurred_on:
            raise SenderError(Sentence("contract_valid_until must be after occurred_on"))
        # An event is reported once it has happened, and happens to the issued permit's contract (Annex 5): a date
        # ahead ended a valid permit at once, a date before the permit's issue or the contract's signing too.
        now = workflow.now()
        today = (self._local(now) or now).date()  # Asia/Almaty's day, as the registration recorded its zone
        if ev.occurred_on > today:
            raise SenderError(
                Sentence(
                    "occurred_on {day} is after today ({today}, Asia/Almaty): a contract event is reported once it "
                    "has happened",
                    day=ev.occurred_on.isoformat(),
                    today=today.isoformat(),
                )
            )
        permit = self.state.permit
        earliest = max(contract.signed_on, permit.issued_on) if permit is not None else contract.signed_on
        if ev.occurred_on < earliest:
            raise SenderError(  # naming neither day: the permit's issue is the case's, not the sender's
                Sentence(
                    "occurred_on is before the day the permit was issued or its contract signed: a contract event "
                    "concerns the issued permit"
                )
            )

    def parties(self) -> dict[str, list[str]]:
        """The base operators of the permit's contracts (their BINs, where the application gives them): each
        reports its own contracts' events (Annex 5)."""
        contracts = self.state.application.qualification.contracts
        bins = sorted({c.base_operator_bin for c in contracts if c.base_operator_bin})
        return {BASE_OPERATOR: bins} if bins else {}
