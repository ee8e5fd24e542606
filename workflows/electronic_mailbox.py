"""Electronic subscriber mailbox (act 71, abolished by Order 305/NK of 28 May 2024).

For an application registered while the act was in force: the mailbox is created when the
application is submitted (p.7) under a login unique among all users (p.11); the user confirms the
personal-account data with an EDS for official correspondence (p.12); the user is identified by IIN
or BIN against the state databases and entered in the single database (p.13). An application dated
after the abolition is refused at once with a message naming 305/NK (the registration activity
raises ``ActNotInForce``); the edge refuses it even before a case starts (``cli.subscriber``).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.eds import EdsActivities
    from activities.mailbox import MailboxActivities
    from activities.state_registry import StateRegistryActivities
    from models.case import EventDoesNotFit
    from models.eds import SignatureCheck
    from models.electronic_mailbox import (
        CreateMailboxRequest,
        MailboxApplicationInput,
        MailboxResult,
        MailboxStepRequest,
    )
    from models.failures import ACT_NOT_IN_FORCE
    from models.identification import EdsSignatureEvent, IdentityCheckRequest
    from models.procedure import EventSpec, Governs, ProcedureSpec, Role
    from rules import law
    from rules.law import cite
    from workflows.case import CaseWorkflow
    from workflows.subscriber_common import cause_type, signature_check

__all__ = ["EDS_ONLY_FOR_OFFICIAL_CORRESPONDENCE", "SPEC", "ElectronicMailbox"]

EDS_ONLY_FOR_OFFICIAL_CORRESPONDENCE = "mailbox-eds-only-for-official-correspondence"
"""``workflow.patched`` id: the EDS confirmation of p.12 is asked only of a mailbox for official correspondence.
Cases begun before it asked every applicant."""


@workflow.defn
class ElectronicMailbox(CaseWorkflow):
    """One application for an electronic subscriber mailbox."""

    PROCEDURE = "electronic_mailbox"
    TERMS = ("mailbox.eds_confirmation",)

    def __init__(self) -> None:
        super().__init__()
        self.inp: MailboxApplicationInput | None = None
        self.confirmation: SignatureCheck | None = None
        self.awaiting_eds = False
        # Decided once, at the case's first activation, so the patch marker always sits at the same place.
        self._eds_only_for_official_correspondence = self.patches.patched(EDS_ONLY_FOR_OFFICIAL_CORRESPONDENCE)

    @workflow.run
    async def run(self, inp: MailboxApplicationInput) -> MailboxResult:
        self.inp = inp
        wid = workflow.info().workflow_id
        try:
            await self.register("71", inp.received_at)
        except (ActivityError, ApplicationError) as err:
            kind, message = cause_type(err)
            if kind != ACT_NOT_IN_FORCE:
                raise
            abolished_by = law.act("71").abolished_by or ""
            self.close("refused", "refused_act_abolished", reason=message, cite=abolished_by)
            return MailboxResult(outcome="refused", reason=message, cite=abolished_by, decided_at=workflow.now())
        self.set_status("mailbox_creation")
        if not await self.outside(
            MailboxActivities.create_mailbox,
            CreateMailboxRequest(case_id=wid, login=inp.login, holder_id=inp.holder_id),
            what="mailbox_system",
        ):
            return self._refuse(
                f"the login {inp.login!r} is taken: a login is unique among all users", cite("71", "p.11")
            )
        if self._eds_only_for_official_correspondence and not inp.official_correspondence:
            return await self._include(wid, inp)  # p.12 asks the EDS confirmation for official correspondence only
        self.awaiting_eds = True
        self.set_status("awaiting_eds_confirmation")
        await self.clock.open("eds_confirmation", "mailbox.eds_confirmation", workflow.now(), counted_from="day")
        in_time = await self.clock.wait(
            "eds_confirmation", lambda: self.confirmation is not None, keep_waiting=False, escalate=False
        )
        self.awaiting_eds = False
        await workflow.wait_condition(workflow.all_handlers_finished)
        if not in_time or self.confirmation is None:
            why, p12 = "the personal-account data were not confirmed with an EDS", cite("71", "p.12")
            self.close("abandoned", "abandoned_no_eds_confirmation", reason=why, cite=p12)
            return MailboxResult(outcome="abandoned", reason=why, cite=p12, decided_at=workflow.now())
        if not self.confirmation.valid:
            return self._refuse(f"the EDS confirmation is not accepted: {self.confirmation.reason}", cite("71", "p.12"))
        await self.outside(
            MailboxActivities.mark_mailbox, MailboxStepRequest(case_id=wid, step="confirmed"), what="mailbox_system"
        )
        return await self._include(wid, inp)

    async def _include(self, wid: str, inp: MailboxApplicationInput) -> MailboxResult:
        """p.13: identification by IIN or BIN against the state databases, then inclusion in the single database."""
        self.set_status("identification")
        ident = await self.outside(
            StateRegistryActivities.check_identity,
            IdentityCheckRequest(id_number=inp.holder_id, at=workflow.now()),
            what="state_registry",
        )
        if ident.refusal or not ident.found:
            return self._refuse(
                f"identification by {'IIN' if inp.iin else 'BIN'} failed: {ident.refusal}", cite("71", "p.13")
            )
        await self.outside(
            MailboxActivities.mark_mailbox, MailboxStepRequest(case_id=wid, step="included"), what="mailbox_system"
        )
        self.close("included", "included_in_single_database")
        return MailboxResult(outcome="included", cite=cite("71", "p.13"), decided_at=workflow.now())

    def _refuse(self, reason: str, cite: str) -> MailboxResult:
        self.close("refused", "refused", reason=reason, cite=cite)
        return MailboxResult(outcome="refused", reason=reason, cite=cite, decided_at=workflow.now())

    def signing_payload(self) -> str:
        """The personal-account data the user confirms for official correspondence (p.12)."""
        assert self.inp is not None
        who = f"IIN {self.inp.iin}" if self.inp.iin else f"BIN {self.inp.bin}"
        return f"Mailbox {workflow.info().workflow_id}: login {self.inp.login}, holder {who} ({cite('71', 'p.12')})"

    def pending_events(self) -> list[str]:
        return ["confirm_with_eds"] if self.awaiting_eds and self.confirmation is None else []

    @workflow.query
    def payload_to_sign(self) -> str:
        """What the user signs with the EDS."""
        return self.signing_payload()

    @workflow.update
    async def confirm_with_eds(self, event: EdsSignatureEvent) -> SignatureCheck:
        """The user confirms the personal-account data with an EDS; the signer must be the holder (IIN/BIN)."""
        with self.taking("eds_confirmation"):
            assert self.inp is not None
            check = await signature_check(self, self.signing_payload(), event, self.inp.iin)
            if check.valid and self.inp.bin and check.bin != self.inp.bin:
                check = check.model_copy(
                    update={"valid": False, "reason": "the BIN in the signer's certificate is not the applicant's"}
                )
            self.confirmation = check
            return check

    @confirm_with_eds.validator
    def validate_confirm_with_eds(self, event: EdsSignatureEvent) -> None:
        if not self.awaiting_eds or self.confirmation is not None:
            raise EventDoesNotFit(f"the case is not waiting for an EDS confirmation (status: {self.status})")


_POST = Role.operator("national_postal_operator")


def _case_id(inp: MailboxApplicationInput) -> str:
    """The keyed case id, computed at the edge (the API's start path), never by workflow code."""
    from infra.pseudonym import case_id  # at the edge only: the key comes from settings

    return case_id("electronic_mailbox", inp.holder_id, inp.login)


SPEC = ProcedureSpec(
    key=ElectronicMailbox.PROCEDURE,
    title="Electronic subscriber mailbox (act 71, abolished by 305/NK)",
    act_key="71",
    workflow=ElectronicMailbox,
    run=ElectronicMailbox.run,
    input_model=MailboxApplicationInput,
    case_id=_case_id,
    start_roles=frozenset({_POST, Role.STAFF}),
    designated=frozenset({_POST}),  # the one national postal operator
    events=(
        EventSpec(
            "confirm_with_eds",
            EdsSignatureEvent,
            frozenset({_POST}),
            "Confirm the personal-account data with an EDS",
            cite("71", "p.12"),
        ),
    ),
    result_model=MailboxResult,
    governs=lambda inp: Governs("71", ("p.6",), inp.received_at),
    activities=(
        StateRegistryActivities.check_identity,
        MailboxActivities.create_mailbox,
        MailboxActivities.mark_mailbox,
        EdsActivities.verify_signature,
    ),
    statuses=(
        "mailbox_creation",
        "awaiting_eds_confirmation",
        "identification",
        "included_in_single_database",
        "refused_act_abolished",
        "abandoned_no_eds_confirmation",
        "refused",
    ),
)
