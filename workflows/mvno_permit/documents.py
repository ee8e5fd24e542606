"""The permit's documents: rendered in Kazakh and Russian, signed with the provider's EDS, delivered to the
applicant's personal account. One per kind and round (``<case>/r<round>/<kind>``).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.documents import render_document
    from activities.eds import EdsActivities
    from activities.personal_account import PersonalAccountActivities
    from models.case import DocumentRef
    from models.deadlines import Deadline
    from models.documents import DeliverDocumentRequest, RenderDocumentRequest
    from models.eds import SignDocumentRequest
    from models.mvno_permit import (
        GROUNDS,
        FinalDecision,
        HearingRecord,
        NoticeDay,
        PermitRecordView,
        QualificationDecision,
        RefusalGround,
    )
    from rules import law
    from rules.law import cite

from workflows.mvno_permit.base import PermitCase

__all__ = ["PermitDocuments"]


class PermitDocuments(PermitCase):
    """The documents of 665/NK p.6, p.7 and Annex 5, with what each one says."""

    async def _send_refusal_to_consider(self, reasons: list[str]) -> None:
        """665/NK p.6: reasoned refusal to consider further, signed by the head."""
        await self._document(
            "refusal_to_consider",
            "mvno_refusal_to_consider.html.j2",
            "Reasoned refusal to consider the application further",
            cite("665/NK", "p.6"),
            "provider_head",
            {"reasons": list(reasons)},
        )

    async def _send_preliminary_refusal(self, q: QualificationDecision, notice: NoticeDay, hearing: Deadline) -> None:
        """665/NK p.7: the preliminary decision to refuse and the hearing notice, by the authorised person."""
        assert q.hearing is not None
        await self._document(
            "preliminary_refusal",
            "mvno_preliminary_refusal.html.j2",
            "Preliminary decision to refuse and hearing notice",
            cite("665/NK", "p.7", "Annex 1 item 10"),
            "authorised_person",
            {
                "grounds": _grounds(q.grounds),
                "findings": q.findings or "",
                "hearing_at": q.hearing.at.isoformat(timespec="minutes"),
                "hearing_place": q.hearing.place or "",
                "hearing_means": q.hearing.means or "",
                "hearing_latest": hearing.due.isoformat(timespec="minutes"),
                "hearing_days": hearing.amount,
                "notice_day": notice.day.isoformat(),
                "notice_lead_days": notice.decision_term.amount,
                "decision_not_before": notice.decision_not_before.date().isoformat(),
                "decision_cite": notice.decision_term.cite,
            },
        )

    async def _send_reasoned_refusal(self, final: FinalDecision, hearing: HearingRecord) -> None:
        """665/NK p.7: the reasoned refusal after the hearing, by the authorised person."""
        await self._document(
            "reasoned_refusal",
            "mvno_reasoned_refusal.html.j2",
            "Reasoned refusal to provide the public service",
            cite("665/NK", "p.7", "Annex 1 item 10"),
            "authorised_person",
            {
                "grounds": _grounds(final.grounds),
                "appeal_cite": cite("665/NK", "p.10"),
                "reasons": final.reasons or "",
                "hearing_held_at": hearing.held_at.isoformat(timespec="minutes"),
                "applicant_position": hearing.applicant_position or "did not attend / не явился / келмеді",
            },
        )

    async def _send_permit(self, p: PermitRecordView, validity: Deadline) -> None:
        """The permit with the fields of Annex 5 and its conditions, signed by the head of the service provider, who
        is its "Басшы / Руководитель" (the rendering names the signer of ``provider_head``, p.6-7)."""
        await self._document(
            "permit",
            "mvno_permit.html.j2",
            f"MVNO permit {p.permit_number}",
            cite("665/NK", "Annex 5", "Annex 1 item 11"),
            "provider_head",
            {
                "permit_number": p.permit_number,
                "holder_name": p.holder_name,
                "holder_id": p.holder_id,
                "issued_on": p.issued_on.isoformat(),
                "valid_through": p.valid_through.isoformat(),
                "validity_years": validity.amount,
                "conditions": [c.model_dump(include={"kk", "ru", "reference"}) for c in _CONDITIONS],
                "radio_communication": _RADIO.model_dump(include={"kk", "ru"}),
                # the basis and the contracts in each language's words (an older context gave them in English
                # as ``basis`` and ``additional_info``, which the template still renders)
                "basis_cite": cite("665/NK", "p.7"),
                "act_version_id": self.state.registration.act_version_id if self.state.registration else None,
                "contracts": [
                    {
                        "base_operator": c.base_operator,
                        "number": c.contract_number,
                        "signed_on": c.signed_on.isoformat(),
                    }
                    for c in self.state.application.qualification.contracts
                ],
            },
        )

    async def _document(
        self, kind: str, template: str, title: str, cite: str, role: str, context: dict[str, Any]
    ) -> DocumentRef:
        """Render (Kazakh and Russian), sign with the provider's EDS, deliver to the personal account."""
        s = self.state
        assert s.registration is not None and s.applicant_registry is not None
        a = s.application.applicant
        doc_id = f"{self._id}/r{s.round}/{kind}"
        base = {
            "applicant_name": a.display_name,
            "applicant_id": a.identifier,
            "id_label_kk": "ЖСН" if a.kind == "individual" else "БСН",
            "id_label_ru": "ИИН" if a.kind == "individual" else "БИН",
            "application_number": s.application.application_number,
            "registered_on": s.registration.registered_on.isoformat(),
            "signer_role": role,
            # The document's date: the day it is issued, never before the registration day (665/NK p.6).
            "dated": (self._local(workflow.now()) or workflow.now()).date().isoformat(),
        }
        ref = await self.outside(
            render_document,
            RenderDocumentRequest(
                doc_id=doc_id,
                case_id=self._id,
                kind=kind,
                title=title,
                template=template,
                cite=cite,
                context={**base, **context},
            ),
            what="documents",
        )
        check = await self.outside(
            EdsActivities.sign_document,
            SignDocumentRequest(doc_id=doc_id, role=role),
            what="eds",
        )
        await self.outside(
            PersonalAccountActivities.deliver_to_personal_account,
            DeliverDocumentRequest(doc_id=doc_id, case_id=self._id, recipient=s.applicant_registry.recipient),
            what="personal_account",
        )
        ref = ref.model_copy(update={"signed_by": check.subject})
        self.documents.append(ref)
        self._event(f"document:{kind}", f"{title}; signed ({role}) and delivered to the personal account", cite)
        return ref


_CONDITIONS = law.items("665/NK", "permit_condition")
"""The conditions of the permit (Annex 5 conditions 1-3) that the permit document states."""

_RADIO = law.item("665/NK", "permit.radio_communication")
"""The permit's row "for the organisation: type of radio communication" (Annex 5)."""


def _grounds(grounds: list[RefusalGround]) -> list[dict[str, str]]:
    """The grounds of Annex 1 item 10 with their texts, for a document."""
    return [GROUNDS[g].model_dump() for g in grounds]
