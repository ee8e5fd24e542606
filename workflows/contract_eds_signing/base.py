"""The signing case: its steps (almatel-eds 1–8), its state, and how a step is refused or completed."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.case import DocumentRef, EventDoesNotFit
    from models.contract_eds_signing import ContractApplication, StepAnswer
    from models.identification import IssuedSecret
    from workflows.case import CaseWorkflow

__all__ = ["ACT", "PROCEDURE", "STEPS", "SigningCase"]

PROCEDURE = "contract_eds_signing"
ACT = "almatel-eds"

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


class SigningCase(CaseWorkflow):
    """What every step of the signing shares: the step awaited, the one done, the codes, the documents."""

    PROCEDURE = PROCEDURE
    TERMS = ("eds.code_validity", *(f"eds.step{n}" for n, _, _ in STEPS))

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

    def _refuse_unless_at_step(self, n: int) -> None:
        if self.closed or self.failure is not None:
            raise EventDoesNotFit(f"the signing has ended (status: {self.status})")
        if self.step != n or self.done_step >= n:
            raise EventDoesNotFit(
                f"the signing is at step {self.step} ({STEPS[self.step - 1][1] if self.step else '—'}), not at step {n}"
            )

    def _advance(self, n: int, message: str) -> StepAnswer:
        self.done_step = n
        if n == 5:
            self.clock.met("code_validity")
        self.last_message = message
        return StepAnswer(accepted=True, message=message)
