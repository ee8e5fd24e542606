"""Steps 1–5 of almatel-eds: the 1414 code given to the technician (1), the unique 3344 link opening the
application (2), the signing page (3), consent to the Biometric ID privacy policy (4), the 1414 code entered,
which grants temporary access to the digital identity document (5).
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.documents import render_document
    from activities.otp import OtpActivities
    from models.case import EventDoesNotFit
    from models.contract_eds_signing import Consent, StepAnswer, TechnicianCodeReceived
    from models.documents import RenderDocumentRequest
    from models.identification import IssueSecretRequest, SecretEntry
    from rules.law import cite
    from workflows.subscriber_common import OTP_MAX_ATTEMPTS, entered_secret

from workflows.contract_eds_signing.base import SigningCase

__all__ = ["LINK_ATTEMPTS", "AccessSteps"]

LINK_ATTEMPTS = 5


class AccessSteps(SigningCase):
    """almatel-eds steps 1–5, and what they show: the application, the 1414 code, the 3344 link."""

    async def _render_application(self) -> None:
        """The application the 3344 link shows (step 2): personal data, services and tariff, address, equipment."""
        assert self.inp is not None
        inp, wid = self.inp, workflow.info().workflow_id
        self.application = await self.outside(
            render_document,
            RenderDocumentRequest(
                doc_id=f"{wid}/application",
                case_id=wid,
                kind="contract_application",
                title="Application to join the public contract",
                template="contract_application.html.j2",
                cite=cite("almatel-eds", "step 2"),
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
            timeout=self.timings.document_timeout,
        )
        self.documents.append(self.application)

    async def _send_code(self, expires_at: datetime) -> None:
        """Step 1: an SMS from EGOV 1414 brings the code the subscriber gives the technician (and enters at 5)."""
        assert self.inp is not None
        wid = workflow.info().workflow_id
        self.otp = await self.outside(
            OtpActivities.issue_secret,
            IssueSecretRequest(
                secret_id=f"{wid}/code-1414",
                case_id=wid,
                kind="otp",
                to=self.inp.phone,
                sender="1414",
                expires_at=expires_at,
                max_attempts=OTP_MAX_ATTEMPTS,
                purpose="EGOV: temporary access to your digital identity document for AlmaTel",
            ),
            what="sms_gateway",
        )
        self.attempts_left = self.otp.max_attempts

    async def _send_link(self, expires_at: datetime) -> None:
        """Step 2: an SMS from 3344 brings a unique link to the application, valid until the step's term."""
        assert self.inp is not None
        wid = workflow.info().workflow_id
        self.link = await self.outside(
            OtpActivities.issue_secret,
            IssueSecretRequest(
                secret_id=f"{wid}/link",
                case_id=wid,
                kind="link",
                to=self.inp.phone,
                sender="3344",
                expires_at=expires_at,
                max_attempts=LINK_ATTEMPTS,
                purpose="AlmaTel: your application to join the public contract",
            ),
            what="sms_gateway",
        )
        self.link_attempts_left = self.link.max_attempts

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
        with self.taking("step2"):
            assert self.link is not None
            check = await entered_secret(self, self.link, entry)
            self.link_attempts_left = check.attempts_left
            if check.correct:
                return self._advance(2, "the application is shown")
            if check.expired or check.attempts_left == 0:
                self.failure = f"the signing link is no longer valid ({check.message})"
            return StepAnswer(
                accepted=False, message=f"link not valid: {check.message}", attempts_left=check.attempts_left
            )

    @open_application.validator
    def validate_open_application(self, entry: SecretEntry) -> None:
        self._refuse_unless_at_step(2)
        if self.link is None:
            raise EventDoesNotFit("the 3344 link is still being sent: it can be opened once it has arrived")

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
        with self.taking("step5"):
            assert self.otp is not None
            check = await entered_secret(self, self.otp, entry)
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
