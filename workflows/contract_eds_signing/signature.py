"""Steps 6–8 of almatel-eds: biometric identification (6), consent to the issuance of an EDS (7), the EDS
password (8). The (local test) CA issues a key pair and certificate, the application is signed (CMS) and a ZIP
with the document, the signature and the certificates is packed.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.eds import EdsActivities
    from models.contract_eds_signing import Consent, SealedPassword, StepAnswer
    from models.eds import IssueCertificateRequest, SignedZipRequest
    from models.failures import SEALED_PASSWORD_INVALID, SIGNATURE_REJECTED, WEAK_EDS_PASSWORD
    from models.identification import BiometricReport
    from workflows.subscriber_common import biometric_verdict, cause_type

from workflows.contract_eds_signing.base import SigningCase

__all__ = ["SignatureSteps"]

_PASSWORD_REFUSED = (WEAK_EDS_PASSWORD, SEALED_PASSWORD_INVALID)
"""The issuer's refusals of a chosen password: answered to the page, the step stays open (step 8)."""


class SignatureSteps(SigningCase):
    """almatel-eds steps 6–8, and the signed application packed."""

    # -- step 6
    @workflow.update
    async def report_biometrics(self, report: BiometricReport) -> StepAnswer:
        """Biometric ID's verdict on the identification (step 6); a failure ends the signing."""
        with self.taking("step6"):
            check = await biometric_verdict(self, report)
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
        with self.taking("step8"):
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
                    timeout=self.timings.document_timeout,
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

    # -- after step 8: the signed application, downloadable
    async def _pack_signed_zip(self) -> str | None:
        """The document, its signature and the certificates in one ZIP; the reason when the signature fails."""
        assert self.inp is not None and self.application is not None
        self.set_status("signed_packing")
        try:
            self.zip = await self.outside(
                EdsActivities.build_signed_zip,
                SignedZipRequest(case_id=workflow.info().workflow_id, doc_id=self.application.doc_id, iin=self.inp.iin),
                what="eds",
                timeout=self.timings.document_timeout,
                expected=(SIGNATURE_REJECTED,),
            )
        except ActivityError as err:
            kind, message = cause_type(err)
            if kind != SIGNATURE_REJECTED:
                raise
            return f"the signed application does not verify: {message}"
        self.documents.append(self.zip)
        return None
