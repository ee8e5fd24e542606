"""The MVNO permit procedure (665/NK): the application (Annexes 2–4), staff decisions, what the case shows,
the inputs and results of its outside systems, the system's pre-checks, and the case's state.

Every model that carries personal data derives from ``models.base.Model`` (inputs never echoed in errors).
"""

from __future__ import annotations

from models.mvno_permit.application import (
    Applicant,
    BaseOperatorContract,
    IndividualApplicant,
    InformationForm,
    LegalEntityApplicant,
    PermitApplication,
    QualificationDocuments,
)
from models.mvno_permit.decisions import (
    CONTRACT_CITES,
    GROUNDS,
    CompletenessDecision,
    ContractEvent,
    ContractEventKind,
    DecisionReceipt,
    FinalDecision,
    GroundText,
    HearingProposal,
    HearingRecord,
    QualificationDecision,
    RefusalGround,
    ReopenInstruction,
)
from models.mvno_permit.prechecks import propose_completeness, propose_qualification
from models.mvno_permit.state import PermitLife, PermitState, RoundDecisions
from models.mvno_permit.systems import (
    CourtRestriction,
    HearingWindowsRequest,
    NoticeDay,
    OfficeInterval,
    PermitChange,
    PermitChangeRequest,
    PermitEntryRequest,
    PermitRecordView,
    RegistryData,
    RegistryLookupRequest,
    StageReport,
)
from models.mvno_permit.views import CaseEvent, PermitCaseView, PermitOutcome, Proposal, ServiceTermOverrun

__all__ = [
    "CONTRACT_CITES",
    "GROUNDS",
    "Applicant",
    "BaseOperatorContract",
    "CaseEvent",
    "CompletenessDecision",
    "ContractEvent",
    "ContractEventKind",
    "CourtRestriction",
    "DecisionReceipt",
    "FinalDecision",
    "GroundText",
    "HearingProposal",
    "HearingRecord",
    "HearingWindowsRequest",
    "IndividualApplicant",
    "InformationForm",
    "LegalEntityApplicant",
    "NoticeDay",
    "OfficeInterval",
    "PermitApplication",
    "PermitCaseView",
    "PermitChange",
    "PermitChangeRequest",
    "PermitEntryRequest",
    "PermitLife",
    "PermitOutcome",
    "PermitRecordView",
    "PermitState",
    "Proposal",
    "QualificationDecision",
    "QualificationDocuments",
    "RefusalGround",
    "RegistryData",
    "RegistryLookupRequest",
    "ReopenInstruction",
    "RoundDecisions",
    "ServiceTermOverrun",
    "StageReport",
    "propose_completeness",
    "propose_qualification",
]
