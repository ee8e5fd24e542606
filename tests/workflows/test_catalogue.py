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


def test_every_status_a_recorded_case_showed_is_one_its_procedure_lists() -> None:
    """The console's status filter offers ``ProcedureSpec.statuses``: every ``KzStatus`` in the golden histories
    (every path of every procedure) must be among them, and each is translated (``tests/api/test_i18n.py``)."""
    import base64
    import json
    from collections import defaultdict
    from pathlib import Path

    seen: dict[str, set[str]] = defaultdict(set)
    for path in (Path(__file__).resolve().parents[1] / "golden").glob("*/*.json"):
        for event in json.loads(path.read_text())["history"]["events"]:
            for attrs in event.values():
                if isinstance(attrs, dict) and "searchAttributes" in attrs:
                    status = attrs["searchAttributes"].get("indexedFields", {}).get("KzStatus")
                    if status:
                        seen[path.parent.name].add(json.loads(base64.b64decode(status["data"])))
    by_key = {s.key: s for s in PROCEDURES}
    assert set(seen) == set(by_key)  # every procedure has recorded paths
    for key, statuses in seen.items():
        assert statuses <= set(by_key[key].statuses), f"{key}: {sorted(statuses - set(by_key[key].statuses))}"
        assert len(set(by_key[key].statuses)) == len(by_key[key].statuses)
