"""The system's pre-checks: what it can see in the package and the registries, proposed to the employee
who decides (665/NK p.6, p.7). Pure functions, run in the workflow on recorded data.
"""

from __future__ import annotations

from datetime import date

from models.mvno_permit.application import PermitApplication
from models.mvno_permit.decisions import RefusalGround
from models.mvno_permit.systems import RegistryData
from models.mvno_permit.views import Proposal
from rules import law

__all__ = ["propose_completeness", "propose_qualification"]

_ANNEX4 = {i.id: f"{i.en} ({i.reference})" for i in law.items("665/NK", "qualification_requirement")}
"""The qualification requirements of Annex 4 items 1-4, keyed as the contract's fields, with their citations."""


def propose_completeness(app: PermitApplication, on: date, registry: RegistryData) -> Proposal:
    """What the system can check of the package on the registration day ``on`` (665/NK p.6)."""
    found: list[str] = []
    for c in app.qualification.contracts:
        if c.valid_until is not None and c.valid_until < on:
            found.append(f"contract {c.contract_number} with {c.base_operator} expired on {c.valid_until.isoformat()}")
        if c.signed_on > on:
            found.append(f"contract {c.contract_number} is dated after the application ({c.signed_on.isoformat()})")
    form = app.qualification.information_form
    for label, valid_until in (
        ("verification certificate", form.verification_certificate_valid_until),
        ("conformity certificate", form.conformity_certificate_valid_until),
    ):
        if valid_until is not None and valid_until < on:
            found.append(f"{label} expired on {valid_until.isoformat()}")
    for label, d in (
        ("verification certificate", form.verification_certificate_date),
        ("conformity certificate", form.conformity_certificate_date),
        ("commissioning act", form.commissioning_act_date),
    ):
        if d > on:
            found.append(f"{label} is dated after the application ({d.isoformat()})")
    if not registry.found:
        found.append("the applicant is not found in the state registry (e-government gateway)")
    return Proposal(stage="completeness_check", passes=not found, findings=found)


def propose_qualification(app: PermitApplication, registry: RegistryData) -> Proposal:
    """The grounds the system can see for the qualification check (665/NK p.7, Annex 1 item 10, Annex 4)."""
    findings: list[str] = []
    grounds: list[RefusalGround] = []
    for c in app.qualification.contracts:
        missing = [text for key, text in _ANNEX4.items() if not getattr(c, key)]
        if missing:
            findings.append(f"contract {c.contract_number} does not meet: " + "; ".join(missing))
    if findings:
        grounds.append(RefusalGround.NON_COMPLIANT)
    name = app.applicant.display_name.casefold()
    if registry.found and registry.name is not None and registry.name.casefold() != name:
        findings.append("the name in the application differs from the state registry")
        grounds.append(RefusalGround.UNRELIABLE_DOCUMENTS)
    if not registry.active:
        findings.append("the state registry shows the applicant as not active")
        if RefusalGround.NON_COMPLIANT not in grounds:
            grounds.append(RefusalGround.NON_COMPLIANT)
    for r in registry.restrictions:
        ground = RefusalGround.COURT_BAN if r.kind == "activity_ban" else RefusalGround.SPECIAL_RIGHT_DEPRIVED
        findings.append(
            f"{r.kind.replace('_', ' ')}: {r.court}, {r.decision_ref}, in force {r.in_force_on.isoformat()}"
        )
        if ground not in grounds:
            grounds.append(ground)
    return Proposal(stage="qualification_check", passes=not grounds, findings=findings, grounds=grounds)
