"""An example of every request body of the API, shown in the OpenAPI document (``/v1/openapi.json``, ``/v1/docs``).

One example per model (a start's input or an event's body, the edge model where an event has one), keyed by the
model's class name. The starts of the MVNO permit and the complaint are the demo's files (``demo/``), so the
examples a reader sees are the ones the README and the demo send. ``tests/api/test_openapi_examples.py`` walks the
OpenAPI document and fails on a request body without an example, and validates every example against its model: an
example that a case would refuse on its form cannot stay here. A new procedure's models get their example here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import demo as demo_files

__all__ = ["example", "examples", "openapi_examples"]

DEMO = Path(demo_files.__file__).resolve().parent

_HEARING_AT = "2026-12-03T11:00:00+05:00"
_RECEIVED = "2026-11-20T11:30:00+05:00"
_CASE = "complaint-0123456789abcdef0123"

_WRITTEN: dict[str, dict[str, Any]] = {
    # the MVNO permit (665/NK)
    "CompletenessDecision": {
        "complete": False,
        "reasons": ["the information form names no verification certificate"],
        "decided_by": "A. Sadykova",
    },
    "QualificationDecision": {
        "compliant": False,
        "grounds": ["non_compliant"],
        "findings": "the traffic accounting system has no valid verification certificate",
        "hearing": {"at": _HEARING_AT, "place": "Astana, Kabanbay batyr 32/1, room 305"},
        "decided_by": "B. Omarov",
    },
    "HearingRecord": {
        "held_at": _HEARING_AT,
        "applicant_attended": True,
        "applicant_position": "a new verification certificate is attached",
        "recorded_by": "B. Omarov",
    },
    "FinalDecision": {"grant": True, "decided_by": "C. Head"},
    "ContractEvent": {
        "kind": "terminated_early",
        "contract_number": "KC-2026-117",
        "occurred_on": "2027-03-01",
        "reported_by": "Kcell JSC",
    },
    "ReopenInstruction": {"complaint_id": _CASE, "reason": "complaint upheld: no hearing was offered"},
    # any case: who holds it (api/routes.py)
    "AssignmentRequest": {"assignee": "A. Seitkali (back office)"},
    # every procedure
    "ResumeRequest": {"by": "duty officer", "note": "the state registry answers again"},
    "CalendarCorrection": {"reason": "Government resolution No. 123 moves 8 January 2027"},
    "LawMigration": {
        "to_version": "171/554-NK-2025",
        "reason": "Order 554/NK of 3 Nov 2025",
        "decided_by": "supervisor",
    },
    # fraud (171 ch.3)
    "FraudCaseInput": {
        "first": {
            "way_in": "subscriber_report",
            "ref": "rs-118-0042",
            "suspect_number": "+77010000102",
            "reporter_number": "+77770000302",
            "received_at": _RECEIVED,
            "signal": "sms",
            "description": "SMS: your card is blocked, call back",
        }
    },
    "SubscriberReport": {
        "ref": "rs-118-0043",
        "suspect_number": "+77010000102",
        "reporter_number": "+77770000303",
        "received_at": _RECEIVED,
        "signal": "call",
        "description": "a call asking for the code from an SMS",
    },
    "CentreInformation": {
        "ref": "nb-afc-77-301",
        "suspect_number": "+77010000102",
        "received_at": _RECEIVED,
        "signal": "network",
        "description": "GSM gateway, sweep 2026-11",
        "simbox": True,
    },
    "InternalDetection": {
        "ref": "afs-2026-0001",
        "suspect_number": "+77010000102",
        "received_at": _RECEIVED,
        "signal": "network",
        "description": "SIM box: 1 IMEI, 4 IMSI, 900 short calls/hour",
        "simbox": True,
    },
    "CheckOutcome": {
        "confirmed": True,
        "evidence": ["CDR: 900 calls/hour from one IMEI", "subscriber report rs-118-0042"],
        "analyst": "analyst-07",
    },
    "LiftDecision": {
        "reason": "complaint C-2026-118 upheld: the SIM was cloned; subscriber identified in person",
        "decided_by": "head-of-antifraud",
        "complaint_ref": "C-2026-118",
    },
    # complaints (58 p.10; 665/NK p.10)
    "Satisfaction": {"decided_by": "Head of department", "action_taken": "Decision issued"},
    "ForwardRequest": {"forwarded_by": "Head of department", "body": "Ministry"},
    "ReviewDecision": {
        "outcome": "upheld",
        "reasons": "No hearing was offered",
        "decided_by": "Vice-minister",
        "instruction": "reopen",
    },
    "Withdrawal": {"reason": "Settled"},
    # subscriber procedures
    "EgovConnectionInput": {
        "iin": "900101300126",
        "phone": "+77011234567",
        "channel": "portal",
        "received_at": _RECEIVED,
    },
    "CodeEntry": {"code": "123456"},
    "EdsSignatureEvent": {"signature": "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwGggCSA"},
    "BiometricReport": {"session_id": "bio-1", "passed": True},
    "NumbersApplicationInput": {
        "iin": "900101300126",
        "numbers": ["+77017654321", "+77017654322"],
        "received_at": _RECEIVED,
        "contract_case_id": "contract_eds_signing-0123456789abcdef0123",
    },
    "NumbersReviewDecision": {"approve": False, "reviewer": "emp-7", "reason": "devices not identified"},
    "ContractApplication": {
        "order_ref": "ORD-2026-0001",
        "iin": "900101300126",
        "full_name": "ASANOV ASAN",
        "phone": "+77011234567",
        "address": "Almaty, Abai ave. 10, apt 5",
        "services": ["Home internet 500 Mbit/s", "IPTV"],
        "tariff": "Family+",
        "equipment_serials": ["ONT-ZTE-F670L-00123"],
        "received_at": _RECEIVED,
    },
    "TechnicianCodeReceived": {"technician_id": "tech-042"},
    "Consent": {"accepted": True},
    "PasswordEntry": {"password": "Str0ng!Passw0rd"},
    "MailboxApplicationInput": {
        "iin": "900101300126",
        "login": "asanov.a",
        "channel": "online",
        "received_at": "2024-05-02T10:00:00+05:00",
        "official_correspondence": True,
    },
}

_FROM_DEMO = {
    "PermitApplication": DEMO / "mvno_permit" / "application.json",
    "ComplaintInput": DEMO / "complaint" / "complaint.json",
}


@cache
def examples() -> dict[str, dict[str, Any]]:
    """Every example, by model class name."""
    out = dict(_WRITTEN)
    for name, path in _FROM_DEMO.items():
        out[name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def example(model: type[BaseModel]) -> dict[str, Any] | None:
    """The example body for ``model``, or ``None`` when there is none (the OpenAPI test then fails)."""
    return examples().get(model.__name__)


def openapi_examples(model: type[BaseModel]) -> dict[str, Any] | None:
    """``Body(openapi_examples=…)`` for ``model``: its example, shown by ``/v1/docs`` as the body to try."""
    body = example(model)
    return None if body is None else {"example": {"summary": model.__name__, "value": body}}
