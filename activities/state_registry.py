"""State registries through the e-government gateway (665/NK p.6): identity or legal-entity registration
data and court restrictions (bans on activity, deprivation of a special right, Annex 1 item 10(4), (5)).

Locally the registries are our own tables, seeded with demo data (``seed_demo``) that the example
applications in ``demo/mvno_permit`` match; tests add their own rows. Read-only, hence idempotent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity

from activities.outages import raise_if_down
from infra.db import session
from infra.pseudonym import pseudonym
from models.mvno_permit import CourtRestriction, RegistryData, RegistryLookupRequest
from models.tables import RegistryCourtRestriction, RegistryIndividual, RegistryLegalEntity
from rules.calendar import ALMATY

__all__ = ["add_court_restriction", "add_individual", "add_legal_entity", "lookup_applicant", "seed_demo"]

# Demo data: the example applications in demo/mvno_permit use these (valid check digits, fictitious people).
DEMO_INDIVIDUALS = (("900101300017", "Asel Nurlanovna Bekova", "Almaty, Abay ave. 1"),)
DEMO_LEGAL_ENTITIES = (("210240000018", "Dala Mobile LLP", "Aidos Serikuly Zhanov", "Astana, Mangilik El 55"),)


def add_individual(iin: str, full_name: str, address: str = "") -> None:
    """Put a person in the local register (idempotent)."""
    with session() as s:
        if s.get(RegistryIndividual, iin) is None:
            s.add(RegistryIndividual(iin=iin, full_name=full_name, address=address))


def add_legal_entity(bin_: str, name: str, head_name: str = "", location: str = "", active: bool = True) -> None:
    """Put a legal entity in the local register (idempotent)."""
    with session() as s:
        if s.get(RegistryLegalEntity, bin_) is None:
            s.add(RegistryLegalEntity(bin=bin_, name=name, head_name=head_name, location=location, active=active))


def add_court_restriction(subject_id: str, kind: str, court: str, decision_ref: str, in_force_on: datetime) -> None:
    """Record a court decision in force against an IIN/BIN (idempotent per decision)."""
    try:
        with session() as s:
            s.add(RegistryCourtRestriction(subject_id=subject_id, kind=kind, court=court, decision_ref=decision_ref,
                                           in_force_on=in_force_on.astimezone(UTC)))
    except IntegrityError:
        pass


@cache
def seed_demo() -> None:
    """Seed the demo rows once per process."""
    for iin, name, address in DEMO_INDIVIDUALS:
        add_individual(iin, name, address)
    for bin_, name, head, location in DEMO_LEGAL_ENTITIES:
        add_legal_entity(bin_, name, head, location)


@activity.defn
async def lookup_applicant(req: RegistryLookupRequest) -> RegistryData:
    """The applicant's registration data and court restrictions in force (665/NK p.6; Annex 1 item 10)."""
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
        rows = s.exec(select(RegistryCourtRestriction).where(
            RegistryCourtRestriction.subject_id == req.identifier)).all()
        restrictions = []
        for r in rows:
            in_force = r.in_force_on if r.in_force_on.tzinfo else r.in_force_on.replace(tzinfo=UTC)
            if in_force <= now:
                restrictions.append(CourtRestriction(
                    kind="activity_ban" if r.kind == "activity_ban" else "special_right_deprivation",
                    court=r.court, decision_ref=r.decision_ref, in_force_on=in_force.astimezone(ALMATY).date()))
    return RegistryData(found=name is not None, name=name, active=active, restrictions=restrictions,
                        recipient=pseudonym("applicant", req.identifier))
