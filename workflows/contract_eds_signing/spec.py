"""The signing procedure in the catalogue: its start, its eight steps' events and who may send them (the
technician, the signing page, Biometric ID), the edge conversions of codes and passwords, and the activities
only it calls."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.biometrics import BiometricActivities
    from activities.documents import render_document
    from activities.eds import EdsActivities
    from activities.mobile_citizens import MobileCitizensActivities
    from activities.otp import OtpActivities
    from models.contract_eds_signing import (
        Consent,
        ContractApplication,
        PasswordEntry,
        SealedPassword,
        SigningResult,
        TechnicianCodeReceived,
    )
    from models.identification import SESSION_REUSED, BiometricReport, CodeEntry, SecretEntry
    from models.procedure import EventSpec, Governs, ProcedureSpec, Role
    from rules.law import cite

from workflows.contract_eds_signing.base import ACT, PROCEDURE, STEPS
from workflows.contract_eds_signing.edge import code_at_the_edge, link_at_the_edge, password_at_the_edge
from workflows.contract_eds_signing.workflow import ContractSigning
from workflows.subscriber_common import biometric_report_at_the_edge

__all__ = ["SPEC"]

_TECH = Role.operator("almatel_technician")
_PAGE = Role.operator("almatel_signing_page")
_BIO = Role.operator("biometric_id")


def _case_id(inp: ContractApplication) -> str:
    """The keyed case id, computed at the edge (the API's start path), never by workflow code."""
    from infra.pseudonym import case_id  # at the edge only: the key comes from settings

    return case_id(PROCEDURE, inp.order_ref)


SPEC = ProcedureSpec(
    key=PROCEDURE,
    title="Signing the application to join the public contract with an EDS (almatel-eds)",
    act_key=ACT,
    workflow=ContractSigning,
    run=ContractSigning.run,
    input_model=ContractApplication,
    case_id=_case_id,
    start_roles=frozenset({_TECH, Role.STAFF}),
    designated=frozenset({_TECH, _PAGE, _BIO}),  # the operator's own systems and the one biometric provider
    checkers=frozenset({_BIO}),  # the provider's verdict checks the subscriber the operator's systems signed up
    events=(
        EventSpec(
            "technician_code_received",
            TechnicianCodeReceived,
            frozenset({_TECH}),
            "The subscriber gave the 1414 code to the technician",
            cite("almatel-eds", "step 1"),
        ),
        EventSpec(
            "open_application",
            SecretEntry,
            frozenset({_PAGE}),
            "The unique 3344 link was opened",
            cite("almatel-eds", "step 2"),
            edge_model=CodeEntry,
            to_update=link_at_the_edge,
        ),
        EventSpec(
            "open_signing_page", None, frozenset({_PAGE}), "The signing page was opened", cite("almatel-eds", "step 3")
        ),
        EventSpec(
            "give_privacy_consent",
            Consent,
            frozenset({_PAGE}),
            "Consent to the privacy policy",
            cite("almatel-eds", "step 4"),
        ),
        EventSpec(
            "enter_code",
            SecretEntry,
            frozenset({_PAGE}),
            "The 1414 code was entered",
            cite("almatel-eds", "step 5"),
            edge_model=CodeEntry,
            to_update=code_at_the_edge,
        ),
        EventSpec(
            "report_biometrics",
            BiometricReport,
            frozenset({_BIO}),
            "Biometric identification result",
            cite("almatel-eds", "step 6"),
            sender_errors=frozenset({SESSION_REUSED}),
            to_update=biometric_report_at_the_edge,
        ),
        EventSpec(
            "give_eds_consent", Consent, frozenset({_PAGE}), "Consent to EDS issuance", cite("almatel-eds", "step 7")
        ),
        EventSpec(
            "choose_eds_password",
            SealedPassword,
            frozenset({_PAGE}),
            "The EDS password (sealed)",
            cite("almatel-eds", "step 8"),
            edge_model=PasswordEntry,
            to_update=password_at_the_edge,
        ),
    ),
    governs=lambda inp: Governs(ACT, ("step 1",), inp.received_at),
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
    statuses=(
        *(f"step{n}_{name}" for n, name, _event in STEPS),
        "signed_packing",
        "signed",
        "refused",
        *(f"abandoned_step{n}" for n, _name, _event in STEPS),
    ),
)
