"""Every registered procedure offers the events every case takes, to the roles that may send them."""

from __future__ import annotations

from models.procedure import Role
from workflows.catalogue import PROCEDURES, WORKFLOWS


def test_all_procedures_are_registered_and_run_by_the_worker() -> None:
    assert {s.key for s in PROCEDURES} == {
        "complaint",
        "fraud_check",
        "mvno_permit",
        "egov_number_connection",
        "individual_numbers",
        "contract_eds_signing",
        "electronic_mailbox",
    }
    # by name: the workflow sandbox re-imports procedure modules, so class objects may differ
    assert {spec.workflow.__name__ for spec in PROCEDURES} <= {w.__name__ for w in WORKFLOWS}


def test_common_events_on_every_procedure() -> None:
    for spec in PROCEDURES:
        resume = spec.event("resume_outside_step")
        assert Role.STAFF in resume.roles and resume.model is not None
        correction = spec.event("apply_calendar_correction")
        assert correction.roles == frozenset({Role.SUPERVISOR})
        assert not any(
            e.name in ("complaint_instruction", "complaint_notice") for e in spec.events
        )  # complaints send them
        assert len({e.name for e in spec.events}) == len(spec.events)
