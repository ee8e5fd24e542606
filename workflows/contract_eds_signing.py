"""Signing the application to join the public contract with an EDS and biometrics (almatel-eds, seed 002).

Available to individuals whose number is in the Mobile Citizens Database. After the service is
connected at the address: (1) an SMS from EGOV 1414 brings a code that the subscriber gives the
technician; (2) an SMS from 3344 brings a unique, expiring link to the page showing the application
(personal data, services and tariff, address, equipment serial numbers); (3) the signing page is
opened; (4) consent to the Biometric ID privacy policy; (5) the 1414 code is entered; (6) biometric
identification; (7) consent to the issuance of an EDS; (8) the EDS password (policy: a letter, a digit,
a special character). A key pair and certificate are issued by the (local test) CA, the application is
signed (CMS) and a ZIP with the document, the signature and the certificates is downloadable.
Every step waits at most its operator-set term (``eds.stepN``); when one runs out the case records
the abandonment at that step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.biometrics import BiometricActivities
    from activities.documents import render_document
    from activities.eds import (
        SEALED_PASSWORD_INVALID,
        SIGNATURE_REJECTED,
        WEAK_EDS_PASSWORD,
        EdsActivities,
        seal_eds_password,
    )
    from activities.mobile_citizens import MobileCitizensActivities
    from activities.otp import OtpActivities, secret_digest
    from infra.intake import act_in_force
    from infra.pseudonym import case_id
    from models.case import DocumentRef
    from models.contract_eds_signing import (
        Consent,
        ContractApplication,
        PasswordEntry,
        SealedPassword,
        SigningResult,
        SigningView,
        StepAnswer,
        TechnicianCodeReceived,
    )
    from models.documents import RenderDocumentRequest
    from models.eds import IssueCertificateRequest, SignedZipRequest
    from models.identification import (
        BiometricRecordRequest,
        BiometricReport,
        CodeEntry,
        IssuedSecret,
        IssueSecretRequest,
        PersonRef,
        SecretEntry,
        VerifySecretRequest,
    )
    from models.procedure import EventSpec, ProcedureSpec, Role
    from workflows.case import CaseWorkflow
    from workflows.outside import DOCUMENT_TIMEOUT, LOCAL_TIMEOUT
    from workflows.subscriber_common import OTP_MAX_ATTEMPTS, cause_type

__all__ = ["SPEC", "STEPS", "ContractSigning"]

# (step, status name, the Update that completes it) — almatel-eds steps 1–8
STEPS: tuple[tuple[int, str, str], ...] = (
    (1, "code_to_technician", "technician_code_received"),
    (2, "application_link", "open_application"),
    (3, "signing_page", "open_signing_page"),
    (4, "privacy_consent", "give_privacy_consent"),
    (5, "code_entry", "enter_code"),
    (6, "biometric_identification", "report_biometrics"),
    (7, "eds_issuance_consent", "give_eds_consent"),
    (8, "eds_password", "choose_eds_password"),
)
LINK_ATTEMPTS = 5
_PASSWORD_REFUSED = (WEAK_EDS_PASSWORD, SEALED_PASSWORD_INVALID)
"""The issuer's refusals of a chosen password: answered to the page, the step stays open (step 8)."""


@workflow.defn
class ContractSigning(CaseWorkflow):
    """One subscriber signing the application to join the public contract."""

    PROCEDURE = "contract_eds_signing"

    def __init__(self) -> None:
        super().__init__()
        self.inp: ContractApplication | None = None
        self.step = 0
        self.done_step = 0
        self.failure: str | None = None
        self.otp: IssuedSecret | None = None
        self.link: IssuedSecret | None = None
        self.attempts_left: int | None = None
        self.link_attempts_left: int | None = None
        self.application: DocumentRef | None = None
        self.zip: DocumentRef | None = None
        self.certificate_serial: str | None = None
        self.last_message: str | None = None

    @workflow.run
    async def run(self, inp: ContractApplication) -> SigningResult:
        self.inp = inp
        wid = workflow.info().workflow_id
        await self.register("almatel-eds", inp.received_at)
        if inp.phone not in await self.outside(
            MobileCitizensActivities.connected_numbers, PersonRef(iin=inp.iin), what="mobile_citizens"
        ):
            return self._end(
                "refused",
                "signing with an EDS is available only to individuals whose number is in the Mobile Citizens Database",
            )
        self.application = await self.outside(
            render_document,
            RenderDocumentRequest(
                doc_id=f"{wid}/application",
                case_id=wid,
                kind="contract_application",
                title="Application to join the public contract",
                template="contract_application.html.j2",
                cite="almatel-eds step 2",
                context={
                    "full_name": inp.full_name,
                    "iin": inp.iin,
                    "phone": inp.phone,
                    "address": inp.address,
                    "services": list(inp.services),
                    "tariff": inp.tariff,
                    "equipment_serials": list(inp.equipment_serials),
                },
            ),
            what="documents",
            timeout=DOCUMENT_TIMEOUT,
        )
        self.documents.append(self.application)
        code_term = await self.clock.open("code_validity", "eds.code_validity", workflow.now(), counted_from="day")
        self.otp = await self.outside(
            OtpActivities.issue_secret,
            IssueSecretRequest(
                secret_id=f"{wid}/code-1414",
                case_id=wid,
                kind="otp",
                to=inp.phone,
                sender="1414",
                expires_at=code_term.due,
                max_attempts=OTP_MAX_ATTEMPTS,
                purpose="EGOV: temporary access to your digital identity document for AlmaTel",
            ),
            what="sms_gateway",
        )
        self.attempts_left = self.otp.max_attempts
        for n, name, _event in STEPS:
            self.step = n
            self.set_status(f"step{n}_{name}")
            state = await self.clock.open(f"step{n}", f"eds.step{n}", workflow.now(), counted_from="day")
            if n == 2:
                self.link = await self.outside(
                    OtpActivities.issue_secret,
                    IssueSecretRequest(
                        secret_id=f"{wid}/link",
                        case_id=wid,
                        kind="link",
                        to=inp.phone,
                        sender="3344",
                        expires_at=state.due,
                        max_attempts=LINK_ATTEMPTS,
                        purpose="AlmaTel: your application to join the public contract",
                    ),
                    what="sms_gateway",
                )
                self.link_attempts_left = self.link.max_attempts
            in_time = await self.clock.wait(f"step{n}", self._step_over(n), keep_waiting=False, escalate=False)
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self.failure is not None:
                return self._end("refused", self.failure)
            if not in_time and self.done_step < n:
                return self._end(
                    "abandoned", f"step {n} ({name}) was not completed within its term ({state.deadline.cite})"
                )
        assert self.application is not None
        self.set_status("signed_packing")
        try:
            self.zip = await self.outside(
                EdsActivities.build_signed_zip,
                SignedZipRequest(case_id=wid, doc_id=self.application.doc_id, iin=inp.iin),
                what="eds",
                timeout=DOCUMENT_TIMEOUT,
                expected=(SIGNATURE_REJECTED,),
            )
        except ActivityError as err:
            kind, message = cause_type(err)
            if kind != SIGNATURE_REJECTED:
                raise
            return self._end("refused", f"the signed application does not verify: {message}")
        self.documents.append(self.zip)
        return self._end("signed", None)

    def _step_over(self, n: int) -> Callable[[], bool]:
        return lambda: self.done_step >= n or self.failure is not None

    def _end(self, outcome: str, reason: str | None) -> SigningResult:
        self.clock.cancel("code_validity")
        status = {"signed": "signed", "refused": "refused", "abandoned": f"abandoned_step{self.step}"}[outcome]
        self.close(outcome, status)
        self.last_message = reason
        return SigningResult(
            outcome=outcome,
            step=self.step,
            reason=reason,
            zip=self.zip,  # type: ignore[arg-type]
            certificate_serial=self.certificate_serial,
            decided_at=workflow.now(),
        )

    def pending_events(self) -> list[str]:
        if self.closed or self.step == 0 or self.done_step >= self.step:
            return []
        return [STEPS[self.step - 1][2]]

    def _refuse_unless_at_step(self, n: int) -> None:
        if self.closed or self.failure is not None:
            raise ValueError(f"the signing has ended (status: {self.status})")
        if self.step != n or self.done_step >= n:
            raise ValueError(
                f"the signing is at step {self.step} ({STEPS[self.step - 1][1] if self.step else '—'}), not at step {n}"
            )

    def _advance(self, n: int, message: str) -> StepAnswer:
        self.done_step = n
        if n == 5:
            self.clock.met("code_validity")
        self.last_message = message
        return StepAnswer(accepted=True, message=message)

    @workflow.query
    def signing(self) -> SigningView:
        """The step awaited, the ids of the 1414 code and 3344 link, attempts left, the ZIP when signed."""
        return SigningView(
            step=self.step,
            step_name=STEPS[self.step - 1][1] if self.step else "registration",
            otp_id=self.otp.secret_id if self.otp else None,
            link_id=self.link.secret_id if self.link else None,
            attempts_left=self.attempts_left,
            zip_doc_id=self.zip.doc_id if self.zip else None,
            last_message=self.last_message,
        )

    # -- step 1: the subscriber gives the 1414 code to the technician
    @workflow.update
    def technician_code_received(self, event: TechnicianCodeReceived) -> StepAnswer:
        """The technician confirms that the subscriber gave the code (almatel-eds step 1)."""
        return self._advance(1, "the code was given to the technician")

    @technician_code_received.validator
    def validate_technician_code_received(self, event: TechnicianCodeReceived) -> None:
        self._refuse_unless_at_step(1)

    # -- step 2: the unique link from 3344 opens the application
    @workflow.update
    async def open_application(self, entry: SecretEntry) -> StepAnswer:
        """The subscriber opens the unique link (its token as a digest); the page shows the application."""
        assert self.link is not None
        check = await self.outside(
            OtpActivities.verify_secret,
            VerifySecretRequest(secret_id=self.link.secret_id, digest=entry.digest, at=workflow.now()),
            what="one_time_codes",
            timeout=LOCAL_TIMEOUT,
        )
        self.link_attempts_left = check.attempts_left
        if check.correct:
            return self._advance(2, "the application is shown")
        if check.expired or check.attempts_left == 0:
            self.failure = f"the signing link is no longer valid ({check.message})"
        return StepAnswer(accepted=False, message=f"link not valid: {check.message}", attempts_left=check.attempts_left)

    @open_application.validator
    def validate_open_application(self, entry: SecretEntry) -> None:
        self._refuse_unless_at_step(2)

    # -- step 3
    @workflow.update
    def open_signing_page(self) -> StepAnswer:
        """The subscriber opens the biometric identification and EDS signing page (step 3)."""
        return self._advance(3, "the signing page is open")

    @open_signing_page.validator
    def validate_open_signing_page(self) -> None:
        self._refuse_unless_at_step(3)

    # -- step 4
    @workflow.update
    def give_privacy_consent(self, consent: Consent) -> StepAnswer:
        """Consent to the Biometric ID privacy policy and to access to the digital identity document (step 4)."""
        if not consent.accepted:
            self.failure = "the subscriber did not consent to the biometric provider's privacy policy (step 4)"
            return StepAnswer(accepted=False, message=self.failure)
        return self._advance(4, "privacy consent given")

    @give_privacy_consent.validator
    def validate_give_privacy_consent(self, consent: Consent) -> None:
        self._refuse_unless_at_step(4)

    # -- step 5
    @workflow.update
    async def enter_code(self, entry: SecretEntry) -> StepAnswer:
        """The subscriber enters the 1414 code (as its digest); wrong → attempts left; none left → refused."""
        assert self.otp is not None
        check = await self.outside(
            OtpActivities.verify_secret,
            VerifySecretRequest(secret_id=self.otp.secret_id, digest=entry.digest, at=workflow.now()),
            what="one_time_codes",
            timeout=LOCAL_TIMEOUT,
        )
        self.attempts_left = check.attempts_left
        if check.correct:
            return self._advance(5, "temporary access to the digital identity document granted")
        if check.expired or check.attempts_left == 0:
            self.failure = f"the 1414 code was not entered correctly ({check.message}) (step 5)"
        return StepAnswer(accepted=False, message=check.message, attempts_left=check.attempts_left)

    @enter_code.validator
    def validate_enter_code(self, entry: SecretEntry) -> None:
        self._refuse_unless_at_step(5)
        if self.attempts_left == 0:
            raise ValueError("no attempts left for the 1414 code")

    # -- step 6
    @workflow.update
    async def report_biometrics(self, report: BiometricReport) -> StepAnswer:
        """Biometric ID's verdict on the identification (step 6); a failure ends the signing."""
        check = await self.outside(
            BiometricActivities.record_biometric_check,
            BiometricRecordRequest(case_id=workflow.info().workflow_id, report=report),
            what="biometrics",
        )
        if check.passed:
            return self._advance(6, "biometric identification passed")
        self.failure = f"biometric identification failed (step 6){': ' + check.reason if check.reason else ''}"
        return StepAnswer(accepted=False, message=self.failure)

    @report_biometrics.validator
    def validate_report_biometrics(self, report: BiometricReport) -> None:
        self._refuse_unless_at_step(6)

    # -- step 7
    @workflow.update
    def give_eds_consent(self, consent: Consent) -> StepAnswer:
        """Consent to the issuance of an EDS after reading its rules (step 7)."""
        if not consent.accepted:
            self.failure = "the subscriber did not consent to the issuance of an EDS (step 7)"
            return StepAnswer(accepted=False, message=self.failure)
        return self._advance(7, "consent to EDS issuance given")

    @give_eds_consent.validator
    def validate_give_eds_consent(self, consent: Consent) -> None:
        self._refuse_unless_at_step(7)

    # -- step 8
    @workflow.update
    async def choose_eds_password(self, password: SealedPassword) -> StepAnswer:
        """The EDS password, sealed to the issuer; the EDS is issued and the application signed (step 8)."""
        assert self.inp is not None and self.application is not None
        try:
            issued = await self.outside(
                EdsActivities.issue_subscriber_certificate,
                IssueCertificateRequest(
                    case_id=workflow.info().workflow_id,
                    doc_id=self.application.doc_id,
                    common_name=self.inp.full_name,
                    iin=self.inp.iin,
                    sealed_password=password.sealed,
                ),
                what="eds",
                timeout=DOCUMENT_TIMEOUT,
                expected=_PASSWORD_REFUSED,
            )
        except ActivityError as err:
            kind, message = cause_type(err)
            if kind not in _PASSWORD_REFUSED:
                raise
            self.last_message = message
            return StepAnswer(accepted=False, message=message)
        self.certificate_serial = issued.serial
        return self._advance(8, "EDS issued and the application signed")

    @choose_eds_password.validator
    def validate_choose_eds_password(self, password: SealedPassword) -> None:
        self._refuse_unless_at_step(8)


_TECH = Role.operator("almatel_technician")
_PAGE = Role.operator("almatel_signing_page")
_BIO = Role.operator("biometric_id")


async def _signing_view(client: Any, case_id_: str) -> SigningView:
    return await client.get_workflow_handle(case_id_).query("signing", result_type=SigningView)


async def _link_at_the_edge(client: Any, case_id_: str, entry: CodeEntry) -> SecretEntry:
    """The API's edge: the opened 3344 link becomes its keyed digest (never in history)."""
    view = await _signing_view(client, case_id_)
    if view.link_id is None:
        raise ValueError("no 3344 link has been sent for this application yet")
    return SecretEntry(digest=secret_digest(view.link_id, entry.code.get_secret_value()))


async def _code_at_the_edge(client: Any, case_id_: str, entry: CodeEntry) -> SecretEntry:
    """The API's edge: the typed 1414 code becomes its keyed digest (never in history)."""
    view = await _signing_view(client, case_id_)
    if view.otp_id is None:
        raise ValueError("no 1414 code has been sent for this application yet")
    return SecretEntry(digest=secret_digest(view.otp_id, entry.code.get_secret_value()))


async def _password_at_the_edge(client: Any, case_id_: str, entry: PasswordEntry) -> SealedPassword:
    """The API's edge: the policy is checked and the password sealed to the issuer for this case only."""
    return SealedPassword(sealed=seal_eds_password(case_id_, entry.password.get_secret_value()))


SPEC = ProcedureSpec(
    key=ContractSigning.PROCEDURE,
    title="Signing the application to join the public contract with an EDS (almatel-eds)",
    act_key="almatel-eds",
    workflow=ContractSigning,
    run=ContractSigning.run,
    input_model=ContractApplication,
    case_id=lambda inp: case_id("contract_eds_signing", inp.order_ref),
    start_roles=frozenset({_TECH, Role.STAFF}),
    events=(
        EventSpec(
            "technician_code_received",
            TechnicianCodeReceived,
            frozenset({_TECH}),
            "The subscriber gave the 1414 code to the technician",
            "almatel-eds step 1",
        ),
        EventSpec(
            "open_application",
            SecretEntry,
            frozenset({_PAGE}),
            "The unique 3344 link was opened",
            "almatel-eds step 2",
            edge_model=CodeEntry,
            to_update=_link_at_the_edge,
        ),
        EventSpec("open_signing_page", None, frozenset({_PAGE}), "The signing page was opened", "almatel-eds step 3"),
        EventSpec(
            "give_privacy_consent",
            Consent,
            frozenset({_PAGE}),
            "Consent to the privacy policy",
            "almatel-eds step 4",
        ),
        EventSpec(
            "enter_code",
            SecretEntry,
            frozenset({_PAGE}),
            "The 1414 code was entered",
            "almatel-eds step 5",
            edge_model=CodeEntry,
            to_update=_code_at_the_edge,
        ),
        EventSpec(
            "report_biometrics",
            BiometricReport,
            frozenset({_BIO}),
            "Biometric identification result",
            "almatel-eds step 6",
        ),
        EventSpec("give_eds_consent", Consent, frozenset({_PAGE}), "Consent to EDS issuance", "almatel-eds step 7"),
        EventSpec(
            "choose_eds_password",
            SealedPassword,
            frozenset({_PAGE}),
            "The EDS password (sealed)",
            "almatel-eds step 8",
            edge_model=PasswordEntry,
            to_update=_password_at_the_edge,
        ),
    ),
    intake_check=lambda inp: act_in_force("almatel-eds", inp.received_at),
    activities=(
        MobileCitizensActivities.connected_numbers,
        OtpActivities.issue_secret,
        OtpActivities.verify_secret,
        BiometricActivities.record_biometric_check,
        EdsActivities.issue_subscriber_certificate,
        EdsActivities.build_signed_zip,
        render_document,
    ),
    result_model=SigningResult,
)
