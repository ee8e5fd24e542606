"""Connecting a subscriber number to the e-government portal account (act 58).

The request is registered, the 10-minute service term (58 Annex item 3) starts, the applicant is
checked against the state registries (refusal grounds of Annex item 9), and a one-time password is
sent by SMS from 1414. Each channel then needs its factors (p.5 portal: OTP + EDS; p.6 mobile app:
EDS + OTP + biometrics; p.7 bank app: biometrics + OTP; p.8 change of number: OTP + EDS), each an
Update answered at once. A wrong OTP beyond the attempts, failed biometrics or a signature that is
not the applicant's → not connected (p.9); the term running out → a reasoned refusal. Connected: the
number is in the Mobile Citizens Database, shown in the personal account (Annex item 5).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.biometrics import BiometricActivities
    from activities.eds import EdsActivities
    from activities.mobile_citizens import MobileCitizensActivities
    from activities.otp import OtpActivities
    from activities.state_registry import StateRegistryActivities
    from models.case import EventDoesNotFit
    from models.deadlines import DeadlineStatus
    from models.eds import SignatureCheck
    from models.egov_number_connection import (
        CHANNEL_CITE,
        FACTORS,
        Channel,
        ConnectNumberRequest,
        EgovConnectionInput,
        EgovConnectionResult,
        EgovView,
    )
    from models.identification import (
        SESSION_REUSED,
        BiometricCheck,
        BiometricReport,
        CodeEntry,
        EdsSignatureEvent,
        IdentityCheckRequest,
        IssuedSecret,
        IssueSecretRequest,
        PersonRef,
        SecretCheck,
        SecretEntry,
    )
    from models.procedure import EventSpec, Governs, ProcedureSpec, Role
    from rules import law
    from rules.law import cite, cite_range
    from workflows.case import CaseWorkflow
    from workflows.subscriber_common import (
        OTP_MAX_ATTEMPTS,
        RESULT_DOCUMENT_ACTIVITIES,
        biometric_report_at_the_edge,
        biometric_verdict,
        entered_secret,
        result_document,
        signature_check,
    )

__all__ = ["SPEC", "EgovNumberConnection"]

FACTORS_DONE_AS_THE_TERM_RAN_OUT = "egov-factors-done-as-the-term-ran-out"
"""``workflow.patched`` id, asked only when the service term's timer fired while the last factor's Update, received
in time, was still being taken (its outside check answered after the due instant) and that Update completed the
request: the number is connected, as the signing goes on when its step was done. Before it, such a request was
refused "not completed … (missing: )" with nothing missing."""

NO_CODE_AFTER_THE_TERM = "egov-no-code-after-the-term"
"""``workflow.patched`` id, asked only of a request whose service term is over before its one-time code is sent (a
receipt back-dated past the term): it is refused without a code. Before it, such a request texted the subscriber a
code nobody could use, and was refused a moment later."""

REFUSAL_ANSWERS_THE_TERM = "egov-refusal-answers-the-service-term"
"""``workflow.patched`` id, asked only when a request is refused while its service term is still open (the identity
check refused it, or the number to be changed is not the applicant's): the refusal answers the term, recorded met
(or late). Before it such a refusal left the term open for good in the case's record and the compliance report."""

NOT_CONNECTED = cite("58", "p.9")
"""A wrong one-time password or failed biometrics: the number is not registered and connected."""


@workflow.defn
class EgovNumberConnection(CaseWorkflow):
    """One request to connect (or change) a number on the e-government account."""

    PROCEDURE = "egov_number_connection"
    TERMS = ("egov.service_term",)  # 58 Annex item 3

    def __init__(self) -> None:
        super().__init__()
        self.inp: EgovConnectionInput | None = None
        self.done: list[str] = []
        self.failure: tuple[str, str] | None = None
        self.otp: IssuedSecret | None = None
        self.attempts_left: int | None = None
        self.awaiting = False
        self.applicant_ref = ""

    @workflow.run
    async def run(self, inp: EgovConnectionInput) -> EgovConnectionResult:
        self.inp = inp
        wid = workflow.info().workflow_id
        await self.register("58", inp.received_at)
        service = await self.clock.open("service", "egov.service_term", inp.received_at, label="service term")
        self.set_status("identity_check")
        ident = await self.outside(
            StateRegistryActivities.check_identity,
            IdentityCheckRequest(id_number=inp.iin, at=inp.received_at),
            what="state_registry",
        )
        self.applicant_ref = ident.applicant_ref
        if ident.refusal:
            return await self._refuse(ident.refusal, ident.cite)
        held = await self.outside(
            MobileCitizensActivities.connected_numbers, PersonRef(iin=inp.iin), what="mobile_citizens"
        )
        if inp.previous_phone is not None and inp.previous_phone not in held:
            return await self._refuse(
                "the number to be changed is not connected to the applicant's account", CHANNEL_CITE[inp.channel]
            )
        if inp.phone in held:
            self.clock.met("service")
            self.close("already_connected", "already_connected")
            return EgovConnectionResult(
                outcome="already_connected", cite=CHANNEL_CITE[inp.channel], decided_at=workflow.now()
            )
        if workflow.now() >= service.due and workflow.patched(NO_CODE_AFTER_THE_TERM):
            await self.clock.wait("service", lambda: False, keep_waiting=False, escalate=False)  # records the breach
            return await self._refuse(self._not_completed(service.deadline.amount), service.deadline.cite)
        self.otp = await self.outside(
            OtpActivities.issue_secret,
            IssueSecretRequest(
                secret_id=f"{wid}/otp",
                case_id=wid,
                kind="otp",
                to=inp.phone,
                sender="1414",
                expires_at=self.clock.get("service").due,
                max_attempts=OTP_MAX_ATTEMPTS,
                purpose="EGOV: connecting the number to your e-government account",
            ),
            what="sms_gateway",
        )
        self.attempts_left = self.otp.max_attempts
        self.awaiting = True
        self.set_status("awaiting_" + "_".join(self.required))
        in_time = await self.clock.wait(
            "service", lambda: self._complete() or self.failure is not None, keep_waiting=False, escalate=False
        )
        self.awaiting = False
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self.failure is not None:
            return await self._refuse(*self.failure)
        if not in_time and not (self._complete() and workflow.patched(FACTORS_DONE_AS_THE_TERM_RAN_OUT)):
            return await self._refuse(self._not_completed(service.deadline.amount), service.deadline.cite)
        await self.outside(
            MobileCitizensActivities.connect_number,
            ConnectNumberRequest(
                case_id=wid, iin=inp.iin, phone=inp.phone, channel=inp.channel.value, replaces=inp.previous_phone
            ),
            what="mobile_citizens",
        )
        doc = await result_document(
            self,
            kind="connection_result",
            title="Subscriber number connected to the e-government account",
            outcome="connected",
            reason=None,
            cite=CHANNEL_CITE[inp.channel],
            recipient=self.applicant_ref,
            details={"number": "…" + inp.phone[-4:], "channel": inp.channel.value},
        )
        self.documents.append(doc)
        self.close("connected", "connected")
        return EgovConnectionResult(
            outcome="connected", cite=CHANNEL_CITE[inp.channel], decided_at=workflow.now(), document=doc
        )

    async def _refuse(self, reason: str, cite: str) -> EgovConnectionResult:
        self.awaiting = False
        if self.clock.get("service").status is DeadlineStatus.OPEN and workflow.patched(REFUSAL_ANSWERS_THE_TERM):
            self.clock.met("service")
        doc = await result_document(
            self,
            kind="refusal",
            title="Reasoned refusal to connect the subscriber number",
            outcome="refused",
            reason=reason,
            cite=cite,
            recipient=self.applicant_ref,
        )
        self.documents.append(doc)
        self.close("refused", "refused", reason=reason, cite=cite)
        return EgovConnectionResult(
            outcome="refused", reason=reason, cite=cite, decided_at=workflow.now(), document=doc
        )

    def _not_completed(self, minutes: int) -> str:
        missing = [f for f in self.required if f not in self.done]
        return f"the request was not completed within the {minutes}-minute service term (missing: {', '.join(missing)})"

    @property
    def required(self) -> tuple[str, ...]:
        assert self.inp is not None
        return FACTORS[self.inp.channel]

    def _complete(self) -> bool:
        return all(f in self.done for f in self.required)

    def signing_payload(self) -> str:
        """What the subscriber certifies with the EDS: this request, bound to the case."""
        assert self.inp is not None
        change = f" replacing {self.inp.previous_phone}" if self.inp.previous_phone else ""
        return (
            f"Request {workflow.info().workflow_id}: connect subscriber number {self.inp.phone}{change} "
            f"to the e-government account of IIN {self.inp.iin} ({CHANNEL_CITE[self.inp.channel]})"
        )

    def pending_events(self) -> list[str]:
        if not self.awaiting:
            return []
        names = {"otp": "enter_otp", "eds": "sign_request", "biometrics": "report_biometrics"}
        return [names[f] for f in self.required if f not in self.done]

    def _refuse_unless_awaiting(self, factor: str) -> None:
        if not self.awaiting or self.failure is not None:
            raise EventDoesNotFit(f"the request is not waiting for this step (status: {self.status})")
        if factor not in self.required:
            assert self.inp is not None
            raise ValueError(
                f"the {self.inp.channel.value} channel does not use {factor} ({CHANNEL_CITE[self.inp.channel]})"
            )
        if factor in self.done:
            raise EventDoesNotFit(f"{factor} is already done")

    @workflow.query
    def payload_to_sign(self) -> str:
        """What the subscriber signs with the EDS (``sign_request``): the API gives it to the portal."""
        return self.signing_payload()

    @workflow.query
    def egov(self) -> EgovView:
        """The factors required and done, the OTP's id and expiry, and what to sign."""
        assert self.inp is not None
        return EgovView(
            channel=self.inp.channel,
            factors_required=list(self.required),
            factors_done=list(self.done),
            otp_id=self.otp.secret_id if self.otp else None,
            otp_expires_at=self.otp.expires_at if self.otp else None,
            attempts_left=self.attempts_left,
            signing_payload=self.signing_payload(),
        )

    @workflow.update
    async def enter_otp(self, entry: SecretEntry) -> SecretCheck:
        """The subscriber enters the OTP (as its digest); wrong → attempts left; none left → not connected."""
        with self.taking("otp"):
            assert self.otp is not None
            check = await entered_secret(self, self.otp, entry)
            self.attempts_left = check.attempts_left
            if check.correct:
                self.done.append("otp")
            elif check.expired or check.attempts_left == 0:
                self.failure = (
                    f"the one-time password was entered incorrectly ({check.message}); "
                    "the number is not registered and connected",
                    NOT_CONNECTED,
                )
            return check

    @enter_otp.validator
    def validate_enter_otp(self, entry: SecretEntry) -> None:
        self._refuse_unless_awaiting("otp")
        if self.otp is None:
            raise ValueError("no code has been sent yet")
        if self.attempts_left == 0:
            raise ValueError(f"no attempts left ({NOT_CONNECTED})")
        if workflow.now() > self.otp.expires_at:
            term = self.clock.get("service").deadline
            raise ValueError(f"the code has expired with the {term.amount}-minute service term ({term.cite})")

    @workflow.update
    async def report_biometrics(self, report: BiometricReport) -> BiometricCheck:
        """The biometric provider's verdict; a failure means the number is not connected (58 p.9)."""
        with self.taking("biometrics"):
            check = await biometric_verdict(self, report)
            if check.passed:
                self.done.append("biometrics")
            else:
                self.failure = (
                    "biometric authentication failed; the number is not registered and connected",
                    NOT_CONNECTED,
                )
            return check

    @report_biometrics.validator
    def validate_report_biometrics(self, report: BiometricReport) -> None:
        self._refuse_unless_awaiting("biometrics")

    @workflow.update
    async def sign_request(self, event: EdsSignatureEvent) -> SignatureCheck:
        """The subscriber certifies the request with an EDS: a CMS signature whose signer is the applicant."""
        with self.taking("eds"):
            assert self.inp is not None
            check = await signature_check(self, self.signing_payload(), event, self.inp.iin)
            if check.valid:
                self.done.append("eds")
            else:
                self.failure = (
                    f"the EDS signature of the request is not accepted: {check.reason}",
                    CHANNEL_CITE[self.inp.channel],
                )
            return check

    @sign_request.validator
    def validate_sign_request(self, event: EdsSignatureEvent) -> None:
        self._refuse_unless_awaiting("eds")


async def _otp_at_the_edge(client: Any, case_id_: str, entry: CodeEntry) -> SecretEntry:
    """The API's edge: the typed code becomes its keyed digest; the code itself never enters history."""
    from activities.otp import secret_digest  # at the edge only: the key comes from settings

    view = await client.get_workflow_handle(case_id_).query("egov", result_type=EgovView)
    if view.otp_id is None:
        raise ValueError("no one-time password has been sent for this request yet")
    return SecretEntry(digest=secret_digest(view.otp_id, entry.code.get_secret_value()))


def _case_id(inp: EgovConnectionInput) -> str:
    """The keyed case id, computed at the edge (the API's start path), never by workflow code."""
    from infra.pseudonym import case_id  # at the edge only: the key comes from settings

    return case_id("egov_number_connection", inp.iin, inp.phone, inp.received_at.isoformat())


_PORTAL = Role.operator("egov_portal")
_BIOMETRICS = Role.operator("biometric_id")

_CHANNEL_PARAGRAPHS = {c: law.act("58").items[f"channel.{c.value}"].reference for c in Channel}


def _paragraphs(inp: EgovConnectionInput) -> tuple[str, ...]:
    """The channel's paragraph (58 p.5 to p.8), as the data's channel item names it."""
    return _CHANNEL_PARAGRAPHS[inp.channel]


SPEC = ProcedureSpec(
    key=EgovNumberConnection.PROCEDURE,
    title="Connecting a subscriber number to the e-government account (act 58)",
    act_key="58",
    workflow=EgovNumberConnection,
    run=EgovNumberConnection.run,
    input_model=EgovConnectionInput,
    case_id=_case_id,
    start_roles=frozenset({_PORTAL}),
    # the portal acts on the requests it submitted (the case's parties); the biometric provider is the one
    designated=frozenset({_BIOMETRICS}),
    checkers=frozenset({_BIOMETRICS}),  # its verdict checks the person the portal's request names (58 p.6, p.7)
    events=(
        EventSpec(
            "enter_otp",
            SecretEntry,
            frozenset({_PORTAL}),
            "Enter the one-time password",
            cite_range("58", "p.5", "p.9"),
            edge_model=CodeEntry,
            to_update=_otp_at_the_edge,
        ),
        EventSpec(
            "sign_request",
            EdsSignatureEvent,
            frozenset({_PORTAL}),
            "Certify the request with an EDS",
            cite("58", "p.5", "p.6", "p.8"),
        ),
        EventSpec(
            "report_biometrics",
            BiometricReport,
            frozenset({_BIOMETRICS}),  # the provider's own verdict: no portal or app reports it in its place
            "Biometric authentication result",
            cite("58", "p.6", "p.7", "p.9"),
            sender_errors=frozenset({SESSION_REUSED}),
            to_update=biometric_report_at_the_edge,
        ),
    ),
    governs=lambda inp: Governs("58", _paragraphs(inp), inp.received_at),
    activities=(
        StateRegistryActivities.check_identity,
        MobileCitizensActivities.connected_numbers,
        MobileCitizensActivities.connect_number,
        OtpActivities.issue_secret,
        OtpActivities.verify_secret,
        BiometricActivities.record_biometric_check,
        EdsActivities.verify_signature,
        *RESULT_DOCUMENT_ACTIVITIES,
    ),
    result_model=EgovConnectionResult,
    statuses=(
        "identity_check",
        *dict.fromkeys("awaiting_" + "_".join(FACTORS[c]) for c in Channel),
        "connected",
        "already_connected",
        "refused",
    ),
)
