"""The biometric provider ("Biometric ID" LLP, almatel-eds step 4; 58 p.6–7).

The provider's system identifies the person on camera and reports its verdict for a session; the
operator system forwards it to the case as an Update. This activity records the verdict once per
session (locally the ``biometric_checks`` table): a repeated report of a session returns the first.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from temporalio import activity

from infra.db import session
from infra.outages import raise_if_down
from models.identification import BiometricCheck, BiometricRecordRequest
from models.tables import BiometricCheckRecord

__all__ = ["record_biometric_check"]


@activity.defn
async def record_biometric_check(req: BiometricRecordRequest) -> BiometricCheck:
    """Record the provider's verdict for a session once; returns the recorded verdict."""
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
    except IntegrityError:
        return await record_biometric_check(req)
