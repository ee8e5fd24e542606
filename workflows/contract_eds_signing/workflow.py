"""Signing the application to join the public contract with an EDS and biometrics (almatel-eds, seed 002).

``run`` reads like the steps: registration; only a number in the Mobile Citizens Database may sign; the
application is rendered and the 1414 code sent (1); then each step in turn waits at most its operator-set term
(``eds.stepN``): the 3344 link (2), the signing page (3), privacy consent (4), the code entered (5), biometric
identification (6), EDS consent (7), the EDS password (8); a refusal ends the signing, a term that runs out
records the abandonment at that step; after step 8 the signed application is packed in a ZIP.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.mobile_citizens import MobileCitizensActivities
    from models.contract_eds_signing import ContractApplication, SigningResult, SigningView
    from models.identification import PersonRef

from workflows.contract_eds_signing.access import AccessSteps
from workflows.contract_eds_signing.base import ACT, STEPS
from workflows.contract_eds_signing.signature import SignatureSteps

__all__ = ["ContractSigning"]


@workflow.defn
class ContractSigning(AccessSteps, SignatureSteps):
    """One subscriber signing the application to join the public contract."""

    @workflow.run
    async def run(self, inp: ContractApplication) -> SigningResult:
        self.inp = inp
        await self.register(ACT, inp.received_at)
        if inp.phone not in await self.outside(
            MobileCitizensActivities.connected_numbers, PersonRef(iin=inp.iin), what="mobile_citizens"
        ):
            return self._end(
                "refused",
                "signing with an EDS is available only to individuals whose number is in the Mobile Citizens Database",
            )
        await self._render_application()
        code_term = await self.clock.open("code_validity", "eds.code_validity", workflow.now(), counted_from="day")
        await self._send_code(code_term.due)  # step 1
        for n, name, _event in STEPS:
            self.step = n
            self.set_status(f"step{n}_{name}")
            state = await self.clock.open(f"step{n}", f"eds.step{n}", workflow.now(), counted_from="day")
            if n == 2:
                await self._send_link(state.due)
            in_time = await self.clock.wait(f"step{n}", self._step_over(n), keep_waiting=False, escalate=False)
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self.failure is not None:
                return self._end("refused", self.failure)
            if not in_time and self.done_step < n:
                return self._end(
                    "abandoned", f"step {n} ({name}) was not completed within its term ({state.deadline.cite})"
                )
        refusal = await self._pack_signed_zip()
        if refusal is not None:
            return self._end("refused", refusal)
        return self._end("signed", None)

    def _step_over(self, n: int) -> Callable[[], bool]:
        return lambda: self.done_step >= n or self.failure is not None

    def _end(self, outcome: str, reason: str | None) -> SigningResult:
        self.clock.cancel("code_validity")
        status = {"signed": "signed", "refused": "refused", "abandoned": f"abandoned_step{self.step}"}[outcome]
        self.close(outcome, status, reason=reason)
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
        if self.step == 2 and self.link is None:  # the 3344 link is still being sent: nothing to open yet
            return []
        return [STEPS[self.step - 1][2]]

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
