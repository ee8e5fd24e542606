"""The state registries through the e-government gateway: the one local home of persons' registration data.

Individuals (name, address, identity-document validity, consent to access restricted personal data),
legal entities and court restrictions in force. The MVNO permit asks for registration data and court
restrictions (665/NK p.6; Annex 1 item 10(4), (5)); the subscriber procedures check the identity
document and the consent (58 Annex items 8 and 9). Locally the registries are our own tables, seeded with
demo data (``seed_demo``) that the example applications in ``demo/`` match; tests add their own rows.
Read-only activities, hence idempotent.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity

from infra.db import session
from infra.outages import raise_if_down
from infra.pseudonym import pseudonym
from models.identification import IdentityCheck, IdentityCheckRequest
from models.mvno_permit import CourtRestriction, RegistryData, RegistryLookupRequest
from models.tables import RegistryCourtRestriction, RegistryIndividual, RegistryLegalEntity
from rules import law
from rules.calendar import ALMATY

__all__ = [
    "LocalStateRegistries",
    "StateRegistries",
    "StateRegistryActivities",
    "add_court_restriction",
    "add_individual",
    "add_legal_entity",
    "add_person",
    "seed_demo",
]

GROUND_IDENTITY = law.ground("58", "identity_documents").reference
"""58 Annex item 9(1): identity data and documents (Laws on identity documents and on national registers)."""
GROUND_CONSENT = law.ground("58", "no_personal_data_consent").reference
"""58 Annex item 9(2): no consent to access restricted personal data (Law on personal data art. 8)."""

# Demo data (valid check digits, fictitious people): the permit example in demo/mvno_permit uses the first
# individual and the legal entity; ``starter.py demo`` connects the second one's number (act 58) and files
# her mailbox application (act 71); hers is seeded with an identity document valid for ten years.
DEMO_INDIVIDUALS = (
    ("900101300017", "Asel Nurlanovna Bekova", "Almaty, Abay ave. 1", False),
    ("850615400026", "Dana Erlanovna Sadykova", "Astana, Kabanbay batyr ave. 12", True),
)
DEMO_DOCUMENT_VALIDITY = timedelta(days=3652)
DEMO_LEGAL_ENTITIES = (("210240000018", "Dala Mobile LLP", "Aidos Serikuly Zhanov", "Astana, Mangilik El 55"),)


def add_individual(
    iin: str, full_name: str, address: str = "", *, document_valid_until: datetime | None = None, consent: bool = True
) -> None:
    """Put a person in the local register (idempotent: an existing row is kept)."""
    with session() as s:
        if s.get(RegistryIndividual, iin) is None:
            s.add(
                RegistryIndividual(
                    iin=iin,
                    full_name=full_name,
                    address=address,
                    document_valid_until=document_valid_until,
                    consent_restricted_data=consent,
                )
            )


def add_legal_entity(bin_: str, name: str, head_name: str = "", location: str = "", active: bool = True) -> None:
    """Put a legal entity in the local register (idempotent: an existing row is kept)."""
    with session() as s:
        if s.get(RegistryLegalEntity, bin_) is None:
            s.add(RegistryLegalEntity(bin=bin_, name=name, head_name=head_name, location=location, active=active))


def add_person(
    id_number: str,
    full_name: str,
    *,
    kind: str = "individual",
    document_valid_until: datetime | None = None,
    consent: bool = True,
) -> None:
    """Put (or replace the name, document and consent of) an individual by IIN or a legal entity by BIN."""
    with session() as s:
        if kind == "legal_entity":
            entity = s.get(RegistryLegalEntity, id_number) or RegistryLegalEntity(bin=id_number, name=full_name)
            entity.name = full_name
            s.add(entity)
            return
        person = s.get(RegistryIndividual, id_number) or RegistryIndividual(iin=id_number, full_name=full_name)
        person.full_name = full_name
        person.document_valid_until, person.consent_restricted_data = document_valid_until, consent
        s.add(person)


def add_court_restriction(subject_id: str, kind: str, court: str, decision_ref: str, in_force_on: datetime) -> None:
    """Record a court decision in force against an IIN/BIN (idempotent per decision)."""
    with suppress(IntegrityError), session() as s:  # already recorded: nothing to add
        s.add(
            RegistryCourtRestriction(
                subject_id=subject_id,
                kind=kind,
                court=court,
                decision_ref=decision_ref,
                in_force_on=in_force_on.astimezone(UTC),
            )
        )


@cache
def seed_demo() -> None:
    """Seed the demo rows once per process."""
    for iin, name, address, has_document in DEMO_INDIVIDUALS:
        valid_until = datetime.now(UTC) + DEMO_DOCUMENT_VALIDITY if has_document else None
        add_individual(iin, name, address, document_valid_until=valid_until)
    for bin_, name, head, location in DEMO_LEGAL_ENTITIES:
        add_legal_entity(bin_, name, head, location)


def _aware(v: datetime) -> datetime:
    return v if v.tzinfo else v.replace(tzinfo=UTC)


class StateRegistries(Protocol):
    """The state registries through the e-government gateway (read-only, hence idempotent)."""

    def lookup(self, req: RegistryLookupRequest) -> RegistryData: ...

    def check_identity(self, req: IdentityCheckRequest) -> IdentityCheck: ...


class LocalStateRegistries:
    """The ``registry_*`` tables (demo rows seeded on first use); rehearsal outages of ``state_registry`` apply."""

    def lookup(self, req: RegistryLookupRequest) -> RegistryData:
        raise_if_down("state_registry")
        seed_demo()
        now = req.at
        with session() as s:
            name: str | None = None
            active = True
            if req.kind == "individual":
                person = s.get(RegistryIndividual, req.identifier)
                if person is not None:
                    name = person.full_name
            else:
                entity = s.get(RegistryLegalEntity, req.identifier)
                if entity is not None:
                    name, active = entity.name, entity.active
            rows = s.exec(
                select(RegistryCourtRestriction).where(RegistryCourtRestriction.subject_id == req.identifier)
            ).all()
            restrictions = []
            for r in rows:
                in_force = _aware(r.in_force_on)
                if in_force <= now:
                    restrictions.append(
                        CourtRestriction(
                            kind="activity_ban" if r.kind == "activity_ban" else "special_right_deprivation",
                            court=r.court,
                            decision_ref=r.decision_ref,
                            in_force_on=in_force.astimezone(ALMATY).date(),
                        )
                    )
        return RegistryData(
            found=name is not None,
            name=name,
            active=active,
            restrictions=restrictions,
            recipient=pseudonym("applicant", req.identifier),
        )

    def check_identity(self, req: IdentityCheckRequest) -> IdentityCheck:
        raise_if_down("state_registry")
        seed_demo()
        ref = pseudonym("applicant", req.id_number)
        with session() as s:
            person = s.get(RegistryIndividual, req.id_number)
            entity = s.get(RegistryLegalEntity, req.id_number) if person is None else None
        if person is None and entity is None:
            return IdentityCheck(
                found=False,
                applicant_ref=ref,
                cite=GROUND_IDENTITY,
                refusal="the applicant is not in the national register of identification numbers "
                "(Law on national registers of identification numbers)",
            )
        if person is None:
            assert entity is not None
            return IdentityCheck(found=True, applicant_ref=ref, full_name=entity.name)
        if person.document_valid_until is None or _aware(person.document_valid_until) < req.at:
            return IdentityCheck(
                found=True,
                applicant_ref=ref,
                full_name=person.full_name,
                cite=GROUND_IDENTITY,
                refusal="the applicant has no valid identity document (Law on identity documents)",
            )
        if not person.consent_restricted_data:
            return IdentityCheck(
                found=True,
                applicant_ref=ref,
                full_name=person.full_name,
                cite=GROUND_CONSENT,
                refusal="no consent to access restricted personal data "
                "(Law on personal data and their protection, art. 8)",
            )
        return IdentityCheck(found=True, applicant_ref=ref, full_name=person.full_name)


class StateRegistryActivities:
    """The state registries' activities."""

    def __init__(self, registries: StateRegistries) -> None:
        self.registries = registries

    @activity.defn(name="lookup_applicant")
    def lookup_applicant(self, req: RegistryLookupRequest) -> RegistryData:
        """The applicant's registration data and court restrictions in force (665/NK p.6; Annex 1 item 10)."""
        return self.registries.lookup(req)

    @activity.defn(name="check_identity")
    def check_identity(self, req: IdentityCheckRequest) -> IdentityCheck:
        """The refusal grounds of 58 Annex item 9: identity data/documents, and consent to restricted data."""
        return self.registries.check_identity(req)
