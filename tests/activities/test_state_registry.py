"""The state registries have one local home: the permit's lookup and the subscriber identity check agree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from temporalio.testing import ActivityEnvironment

from activities.state_registry import (
    DEMO_INDIVIDUALS,
    DEMO_LEGAL_ENTITIES,
    GROUND_CONSENT,
    GROUND_IDENTITY,
    LocalStateRegistries,
    StateRegistryActivities,
    add_court_restriction,
    add_individual,
    add_legal_entity,
    add_person,
)
from models.identification import IdentityCheckRequest
from models.mvno_permit import RegistryLookupRequest
from tests.subscribers import new_iin

REGISTRIES = StateRegistryActivities(LocalStateRegistries())
check_identity, lookup_applicant = REGISTRIES.check_identity, REGISTRIES.lookup_applicant


def _lookup(kind: str, identifier: str, at: datetime) -> RegistryLookupRequest:
    return RegistryLookupRequest.model_validate(
        {"case_id": "registry-test", "kind": kind, "identifier": identifier, "at": at}
    )


async def test_a_person_added_for_one_procedure_is_seen_by_the_other() -> None:
    env = ActivityEnvironment()
    now = datetime.now(UTC)
    iin = new_iin()
    add_person(iin, "SADYKOVA DANA", document_valid_until=now + timedelta(days=365))
    permit_view = env.run(lookup_applicant, _lookup("individual", iin, now))
    assert permit_view.found and permit_view.name == "SADYKOVA DANA"
    assert (env.run(check_identity, IdentityCheckRequest(id_number=iin, at=now))).refusal is None

    other = new_iin()
    add_individual(other, "BEKOV ASAN", "Almaty")  # the permit's helper: no identity document on record
    check = env.run(check_identity, IdentityCheckRequest(id_number=other, at=now))
    assert check.found and check.cite == GROUND_IDENTITY and check.refusal is not None
    add_person(other, "BEKOV ASAN", document_valid_until=now + timedelta(days=1), consent=False)
    check = env.run(check_identity, IdentityCheckRequest(id_number=other, at=now))
    assert check.cite == GROUND_CONSENT
    assert (
        env.run(check_identity, IdentityCheckRequest(id_number=other, at=now + timedelta(days=2)))
    ).cite == GROUND_IDENTITY


async def test_legal_entities_are_one_register_and_the_demo_rows_of_both_procedures_are_seeded() -> None:
    env = ActivityEnvironment()
    now = datetime.now(UTC)
    entity_bin = f"19114{uuid.uuid4().int % 10**7:07d}"
    add_legal_entity(entity_bin, "TOO ALMA DATA")
    check = env.run(check_identity, IdentityCheckRequest(id_number=entity_bin, at=now))
    assert check.found and check.full_name == "TOO ALMA DATA" and check.refusal is None

    [(permit_iin, permit_name, _, _), (subscriber_iin, subscriber_name, _, has_document)] = DEMO_INDIVIDUALS
    looked = env.run(lookup_applicant, _lookup("individual", permit_iin, now))
    assert looked.name == permit_name
    entity = env.run(lookup_applicant, _lookup("legal_entity", DEMO_LEGAL_ENTITIES[0][0], now))
    assert entity.found and entity.name == DEMO_LEGAL_ENTITIES[0][1]
    assert has_document
    demo = env.run(check_identity, IdentityCheckRequest(id_number=subscriber_iin, at=now))
    assert demo.full_name == subscriber_name and demo.refusal is None


async def test_registry_answers_registration_data_and_court_restrictions_in_force() -> None:
    env = ActivityEnvironment()
    bin_ = "190840001231"
    add_legal_entity(bin_, "Steppe Telecom LLP", "B. Test", "Almaty", active=False)
    now = datetime.now(UTC)
    add_court_restriction(
        bin_, "special_right_deprivation", "Court No. 2", f"1-{uuid.uuid4().hex[:6]}", now - timedelta(days=1)
    )
    add_court_restriction(bin_, "activity_ban", "Court No. 3", f"2-{uuid.uuid4().hex[:6]}", now + timedelta(days=30))
    data = env.run(lookup_applicant, RegistryLookupRequest(case_id="c", kind="legal_entity", identifier=bin_, at=now))
    assert data.found and data.name == "Steppe Telecom LLP" and not data.active
    assert [r.kind for r in data.restrictions] == ["special_right_deprivation"]  # the ban is not in force yet
    assert bin_ not in data.recipient
    later = env.run(
        lookup_applicant,
        RegistryLookupRequest(case_id="c", kind="legal_entity", identifier=bin_, at=now + timedelta(days=31)),
    )
    assert {r.kind for r in later.restrictions} == {"special_right_deprivation", "activity_ban"}
    missing = env.run(
        lookup_applicant, RegistryLookupRequest(case_id="c", kind="individual", identifier="880302400054", at=now)
    )
    assert not missing.found and missing.restrictions == []
