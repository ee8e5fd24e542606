"""The permit procedure in the catalogue: its start, its events and who may send them, its view and the
activities only it calls."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.documents import render_document
    from activities.eds import EdsActivities
    from activities.hearing import hearing_windows
    from activities.monitoring import MonitoringActivities
    from activities.permits_registry import PermitsRegistryActivities
    from activities.personal_account import PersonalAccountActivities
    from activities.sms import SmsActivities
    from activities.state_registry import StateRegistryActivities
    from models.mvno_permit import (
        CompletenessDecision,
        ContractEvent,
        FinalDecision,
        HearingRecord,
        PermitApplication,
        PermitCaseView,
        PermitOutcome,
        QualificationDecision,
        ReopenInstruction,
    )
    from models.procedure import EventSpec, Governs, ProcedureSpec, Role, ViewSpec
    from rules.law import cite
    from rules.text import Sentence

from workflows.mvno_permit.base import ACT, BASE_OPERATOR, PROCEDURE, permit_case_id
from workflows.mvno_permit.workflow import MvnoPermit

__all__ = ["SPEC"]

_STAFF = frozenset({Role.STAFF})
_COMPLAINTS = Role.operator("complaints")


def _documents_exist_at_receipt(app: PermitApplication) -> None:
    """An application whose contract with the base operator, or a document of its information form, is dated after
    its receipt is refused at the edge (665/NK p.5, Annex 4): it was accepted, and its qualification checked against
    a contract not yet signed (an adversarial run, 2026-12-02)."""
    if late := app.dated_after_receipt():
        raise ValueError(
            Sentence(
                "{fields}: dated after the application's receipt on {day} (Asia/Almaty); the documents of an "
                "application exist when it is received",
                fields=", ".join(late),
                day=app.receipt_day.isoformat(),
            )
        )


SPEC = ProcedureSpec(
    key=PROCEDURE,
    title="Permit for a mobile virtual network operator",
    act_key=ACT,
    workflow=MvnoPermit,
    run=MvnoPermit.run,
    input_model=PermitApplication,
    case_id=permit_case_id,
    start_roles=frozenset({Role.STAFF, Role.operator("egov_portal")}),
    events=(
        EventSpec(
            "completeness_decision",
            CompletenessDecision,
            _STAFF,
            "Completeness check result",
            cite("665/NK", "p.6"),
            terms=("mvno.completeness_check",),
        ),
        EventSpec(
            "qualification_decision",
            QualificationDecision,
            _STAFF,
            "Qualification check: compliant, or preliminary refusal with the hearing",
            cite("665/NK", "p.7", "Annex 4"),
            terms=("mvno.qualification_check",),
        ),
        EventSpec(
            "record_hearing",
            HearingRecord,
            _STAFF,
            "The hearing and the applicant's position",
            cite("665/NK", "p.7"),
            terms=("mvno.hearing_after_notice",),
        ),
        EventSpec(
            "final_decision",
            FinalDecision,
            _STAFF,
            "Decision after the hearing",
            cite("665/NK", "p.7"),
            # its own term when the notice pushes it past the service term, else the service term
            terms=("mvno.hearing_notice_lead", "mvno.decision_after_notice", "mvno.service_term"),
        ),
        EventSpec(
            "contract_event",
            ContractEvent,
            frozenset({Role.STAFF, BASE_OPERATOR}),
            "Base-operator contract terminated, ended or extended",
            cite("665/NK", "Annex 5"),
            sender_bin="base_operator_bin",
            terms=("mvno.permit_validity",),
        ),
        EventSpec(
            "reopen",
            ReopenInstruction,
            frozenset({Role.SUPERVISOR, _COMPLAINTS}),
            "Reopen after an upheld complaint",
            cite("665/NK", "p.10"),
            terms=("mvno.complaint_window",),
        ),
    ),
    # A base operator acts on the permits whose contracts name its BIN (``MvnoPermit.parties``), the portal on the
    # applications it submitted; the complaints system is the installation's one.
    designated=frozenset({_COMPLAINTS}),
    result_model=PermitOutcome,
    # The default start policy: a resubmitted application joins its running case; a closed case is never
    # restarted under the same id.
    view=ViewSpec("permit_case", PermitCaseView),
    # p.5: the application through the portal (Annex 2 or 3); p.6: its registration
    governs=lambda app: Governs(ACT, ("p.5", "p.6"), app.received_at),
    intake_check=_documents_exist_at_receipt,
    activities=(
        SmsActivities.send_sms,
        StateRegistryActivities.lookup_applicant,
        MonitoringActivities.report_stage,
        PermitsRegistryActivities.enter_permit,
        PermitsRegistryActivities.record_permit_change,
        hearing_windows,
        render_document,
        EdsActivities.sign_document,
        PersonalAccountActivities.deliver_to_personal_account,
    ),
    statuses=(
        "completeness_check",
        "completeness_check_overdue",
        "qualification_check",
        "qualification_check_overdue",
        "hearing_scheduled",
        "hearing_overdue",
        "decision_pending",
        "decision_pending_overdue",
        "permit_valid",
        "refused",
        "refused_to_consider",
        "permit_terminated",
        "permit_expired",
        "act_not_in_force",
    ),
)
