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
from rules.text import Sentence

__all__ = ["propose_completeness", "propose_qualification"]

_ANNEX4 = {i.id: i for i in law.items("665/NK", "qualification_requirement")}
"""The qualification requirements of Annex 4 items 1-4, keyed as the contract's fields, with their citations."""


def _requirements(keys: list[str]) -> Sentence:
    """Annex 4 requirements with their citations, in the law files' words of each language."""
    items = [_ANNEX4[k] for k in keys]
    by_lang = {lang: "; ".join(f"{i.text(lang)} ({i.reference})" for i in items) for lang in ("kk", "ru")}
    return Sentence.own("; ".join(f"{i.en} ({i.reference})" for i in items), **by_lang)


def propose_completeness(app: PermitApplication, on: date, registry: RegistryData) -> Proposal:
    """What the system can check of the package on the registration day ``on`` (665/NK p.6)."""
    found: list[Sentence] = []
    for c in app.qualification.contracts:
        number, day = c.contract_number, c.valid_until
        if day is not None and day < on:
            found.append(
                Sentence(
                    "contract {number} with {operator} expired on {day}",
                    number=number,
                    operator=c.base_operator,
                    day=day.isoformat(),
                )
            )
        if c.signed_on > on:
            found.append(
                Sentence(
                    "contract {number} is dated after the application ({day})",
                    number=number,
                    day=c.signed_on.isoformat(),
                )
            )
    form = app.qualification.information_form
    for label, valid_until in (
        ("verification certificate", form.verification_certificate_valid_until),
        ("conformity certificate", form.conformity_certificate_valid_until),
    ):
        if valid_until is not None and valid_until < on:
            found.append(
                Sentence("{document} expired on {day}", document=Sentence.word(label), day=valid_until.isoformat())
            )
    for label, d in (
        ("verification certificate", form.verification_certificate_date),
        ("conformity certificate", form.conformity_certificate_date),
        ("commissioning act", form.commissioning_act_date),
    ):
        if d > on:
            found.append(
                Sentence(
                    "{document} is dated after the application ({day})",
                    document=Sentence.word(label),
                    day=d.isoformat(),
                )
            )
    if not registry.found:
        found.append(Sentence("the applicant is not found in the state registry (e-government gateway)"))
    said = [f.data() for f in found]  # the console says each in its language
    return Proposal(stage="completeness_check", passes=not found, findings=found, findings_said=said)


def propose_qualification(app: PermitApplication, registry: RegistryData) -> Proposal:
    """The grounds the system can see for the qualification check (665/NK p.7, Annex 1 item 10, Annex 4)."""
    findings: list[Sentence] = []
    grounds: list[RefusalGround] = []
    for c in app.qualification.contracts:
        missing = [key for key in _ANNEX4 if not getattr(c, key)]
        if missing:
            findings.append(
                Sentence(
                    "contract {number} does not meet: {requirements}",
                    number=c.contract_number,
                    requirements=_requirements(missing),
                )
            )
    if findings:
        grounds.append(RefusalGround.NON_COMPLIANT)
    name = app.applicant.display_name.casefold()
    if registry.found and registry.name is not None and registry.name.casefold() != name:
        findings.append(Sentence("the name in the application differs from the state registry"))
        grounds.append(RefusalGround.UNRELIABLE_DOCUMENTS)
    if not registry.active:
        findings.append(Sentence("the state registry shows the applicant as not active"))
        if RefusalGround.NON_COMPLIANT not in grounds:
            grounds.append(RefusalGround.NON_COMPLIANT)
    for r in registry.restrictions:
        ground = RefusalGround.COURT_BAN if r.kind == "activity_ban" else RefusalGround.SPECIAL_RIGHT_DEPRIVED
        findings.append(
            Sentence(
                "{restriction}: {court}, {decision}, in force {day}",
                restriction=Sentence.word(r.kind.replace("_", " ")),
                court=r.court,
                decision=r.decision_ref,
                day=r.in_force_on.isoformat(),
            )
        )
        if ground not in grounds:
            grounds.append(ground)
    said = [f.data() for f in findings]
    return Proposal(
        stage="qualification_check", passes=not grounds, findings=findings, findings_said=said, grounds=grounds
    )
