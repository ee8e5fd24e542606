"""The biometric provider's verdicts (``activities.biometrics``, issue 15 item 2): a verdict belongs to one
(case, session); the verdict returned is the one reported now; a session of another case, or one recorded with
another verdict, is refused for good and records nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.biometrics import BiometricActivities, LocalBiometricVerdicts
from infra.db import session
from models.identification import SESSION_REUSED, BiometricCheck, BiometricRecordRequest, BiometricReport
from models.tables import BiometricCheckRecord

BIO = BiometricActivities(LocalBiometricVerdicts())


def record(case_id: str, session_id: str, passed: bool, reason: str | None = None) -> BiometricCheck:
    report = BiometricReport(session_id=session_id, passed=passed, reason=reason)
    return ActivityEnvironment().run(BIO.record_biometric_check, BiometricRecordRequest(case_id=case_id, report=report))


def refused(case_id: str, session_id: str, passed: bool, reason: str | None = None) -> ApplicationError:
    with pytest.raises(ApplicationError) as err:
        record(case_id, session_id, passed, reason)
    return err.value


def rows(session_id: str) -> list[tuple[str, bool]]:
    with session() as s:
        found = s.exec(select(BiometricCheckRecord).where(BiometricCheckRecord.session_id == session_id)).all()
        return [(r.case_id, r.passed) for r in found]


def test_a_pass_of_one_case_is_never_returned_to_another_case_under_the_same_session() -> None:
    a, b, bio = f"case-a-{uuid.uuid4()}", f"case-b-{uuid.uuid4()}", f"bio-{uuid.uuid4()}"
    assert record(a, bio, passed=True).passed
    # case B reports a failure under A's session id: refused, never A's pass
    err = refused(b, bio, passed=False, reason="face does not match")
    assert err.type == SESSION_REUSED and err.non_retryable
    assert "another case" in err.message and a not in err.message  # names the session, not the other case
    # and a pass reported for B under A's session is refused just the same
    assert refused(b, bio, passed=True).type == SESSION_REUSED
    assert rows(bio) == [(a, True)]  # nothing recorded for B


def test_the_verdict_reported_now_counts_and_a_session_has_one_verdict() -> None:
    case, bio = f"case-{uuid.uuid4()}", f"bio-{uuid.uuid4()}"
    first = record(case, bio, passed=False, reason="liveness check failed")
    assert not first.passed and first.reason == "liveness check failed"
    again = record(case, bio, passed=False, reason="liveness check failed")  # a retry of the same report
    assert again == first
    # the same session of the same case reported with another verdict: refused, the recorded one stands
    err = refused(case, bio, passed=True)
    assert err.type == SESSION_REUSED and "another verdict" in err.message
    assert rows(bio) == [(case, False)]
