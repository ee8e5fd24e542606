"""The biometric provider ("Biometric ID" LLP, almatel-eds step 6; 58 p.6–7).

The provider's system identifies the person on camera and reports its verdict for a session; the operator
system forwards it to the case as an Update. A verdict belongs to one case: the ``BiometricVerdicts`` port records
each session once, with its case (locally the ``biometric_checks`` table). The verdict that counts is the one
reported now: a retry of the same report finds it recorded and returns it, but a session already recorded for
another case, or with another verdict, is refused (``BiometricSessionReused``, non-retryable): a pass recorded for
case A can never be returned to case B reporting a failure under the same session id (58 p.9).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.db import session
from infra.outages import raise_if_down
from models.identification import SESSION_REUSED, BiometricCheck, BiometricRecordRequest
from models.tables import BiometricCheckRecord
from rules.law import cite

__all__ = ["BiometricActivities", "BiometricSessionReused", "BiometricVerdicts", "LocalBiometricVerdicts"]


class BiometricSessionReused(Exception):
    """The session was recorded for another case, or with another verdict: this report counts for nothing."""


class BiometricVerdicts(Protocol):
    """The provider's verdicts, one per identification session and case."""

    def record(self, req: BiometricRecordRequest) -> BiometricCheck:
        """Record the verdict of ``req``'s session for ``req``'s case and return it; the same report again returns
        it again; ``BiometricSessionReused`` when the session is another case's or has another verdict."""
        ...


class LocalBiometricVerdicts:
    """The ``biometric_checks`` table; rehearsal outages of ``biometrics`` apply."""

    def record(self, req: BiometricRecordRequest) -> BiometricCheck:
        raise_if_down("biometrics")
        report = req.report
        try:
            with session() as s:
                row = s.get(BiometricCheckRecord, report.session_id)
                if row is None:
                    row = BiometricCheckRecord(
                        session_id=report.session_id,
                        case_id=req.case_id,
                        passed=report.passed,
                        reason=report.reason,
                        checked_at=datetime.now(UTC),
                    )
                    s.add(row)
                    s.flush()
                elif row.case_id != req.case_id:
                    raise BiometricSessionReused(f"session {report.session_id} was reported for another case")
                elif (row.passed, row.reason) != (report.passed, report.reason):
                    raise BiometricSessionReused(f"session {report.session_id} already has another verdict")
                return BiometricCheck(
                    session_id=row.session_id, passed=report.passed, reason=report.reason, checked_at=row.checked_at
                )
        except IntegrityError:  # a concurrent attempt recorded the session first: judge against that one
            return self.record(req)


class BiometricActivities:
    """The biometric activity, with the provider's verdicts it records."""

    def __init__(self, verdicts: BiometricVerdicts) -> None:
        self.verdicts = verdicts

    @activity.defn(name="record_biometric_check")
    def record_biometric_check(self, req: BiometricRecordRequest) -> BiometricCheck:
        """Record the provider's verdict for a session of this case once; returns the verdict reported now. A
        session of another case, or one recorded with another verdict, is refused for good
        (``BiometricSessionReused``): retrying cannot make it count."""
        try:
            return self.verdicts.record(req)
        except BiometricSessionReused as exc:
            raise ApplicationError(
                f"refused: {exc}; a biometric verdict belongs to one identification session of one case "
                f"({cite('58', 'p.9')})",
                type=SESSION_REUSED,
                non_retryable=True,
            ) from None
