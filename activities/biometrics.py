"""The biometric provider ("Biometric ID" LLP, almatel-eds step 6; 58 p.6–7).

The provider's system identifies the person on camera and reports its verdict for a session; the operator
system forwards it to the case as an Update. The ``BiometricVerdicts`` port records the verdict once per
session (locally the ``biometric_checks`` table): a repeated report of a session returns the first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from temporalio import activity

from infra.db import session
from infra.outages import raise_if_down
from models.identification import BiometricCheck, BiometricRecordRequest
from models.tables import BiometricCheckRecord

__all__ = ["BiometricActivities", "BiometricVerdicts", "LocalBiometricVerdicts"]


class BiometricVerdicts(Protocol):
    """The provider's verdicts, one per identification session (the first report of a session wins)."""

    def record(self, req: BiometricRecordRequest) -> BiometricCheck: ...


class LocalBiometricVerdicts:
    """The ``biometric_checks`` table; rehearsal outages of ``biometrics`` apply."""

    def record(self, req: BiometricRecordRequest) -> BiometricCheck:
        raise_if_down("biometrics")
        try:
            with session() as s:
                row = s.get(BiometricCheckRecord, req.report.session_id)
                if row is None:
                    row = BiometricCheckRecord(
                        session_id=req.report.session_id,
                        case_id=req.case_id,
                        passed=req.report.passed,
                        reason=req.report.reason,
                        checked_at=datetime.now(UTC),
                    )
                    s.add(row)
                    s.flush()
                return BiometricCheck(
                    session_id=row.session_id, passed=row.passed, reason=row.reason, checked_at=row.checked_at
                )
        except IntegrityError:  # a concurrent attempt recorded the session first: read that one
            return self.record(req)


class BiometricActivities:
    """The biometric activity, with the provider's verdicts it records."""

    def __init__(self, verdicts: BiometricVerdicts) -> None:
        self.verdicts = verdicts

    @activity.defn(name="record_biometric_check")
    def record_biometric_check(self, req: BiometricRecordRequest) -> BiometricCheck:
        """Record the provider's verdict for a session once; returns the recorded verdict."""
        return self.verdicts.record(req)
