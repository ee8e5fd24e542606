"""The subscriber activities on their own: one code per id however often retried, hash-only storage,
expiry at the case's instant, limited attempts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from temporalio.testing import ActivityEnvironment

from activities.otp import issue_secret as _issue_secret
from activities.otp import secret_digest, verify_secret
from infra.db import session
from models.identification import IssuedSecret, IssueSecretRequest, VerifySecretRequest
from models.tables import OneTimeSecret
from tests.workflows.subscriber_helpers import new_phone, sms_secret, sms_to

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def issue_secret(req: IssueSecretRequest) -> IssuedSecret:
    return await ActivityEnvironment().run(_issue_secret, req)


def request(phone: str, **kw: object) -> IssueSecretRequest:
    base: dict[str, object] = dict(
        secret_id=f"case-{uuid.uuid4()}/otp",
        case_id="case",
        kind="otp",
        to=phone,
        sender="1414",
        expires_at=NOW + timedelta(minutes=10),
        max_attempts=3,
        purpose="EGOV",
    )
    base.update(kw)
    return IssueSecretRequest.model_validate(base)


async def test_a_retried_issue_sends_one_code_and_stores_only_its_hash() -> None:
    phone = new_phone()
    req = request(phone)
    first, again = await issue_secret(req), await issue_secret(req)
    assert first == again and len(sms_to(phone)) == 1
    code = sms_secret(phone, "1414")
    assert len(code) == 6 and code.isdigit()
    with session() as s:
        row = s.get(OneTimeSecret, req.secret_id)
    assert row is not None and code not in row.digest and row.digest == secret_digest(req.secret_id, code)
    assert code not in first.model_dump_json()


async def test_expiry_is_judged_at_the_case_instant_and_attempts_are_limited() -> None:
    phone = new_phone()
    req = request(phone)
    await issue_secret(req)
    code = sms_secret(phone, "1414")
    late = await verify_secret(
        VerifySecretRequest(
            secret_id=req.secret_id,
            digest=secret_digest(req.secret_id, code),
            at=NOW + timedelta(minutes=10, seconds=1),
        )
    )
    assert late.expired and not late.correct
    wrong = secret_digest(req.secret_id, "000000" if code != "000000" else "111111")
    left = [
        (await verify_secret(VerifySecretRequest(secret_id=req.secret_id, digest=wrong, at=NOW))).attempts_left
        for _ in range(3)
    ]
    assert left == [2, 1, 0]
    after = await verify_secret(
        VerifySecretRequest(secret_id=req.secret_id, digest=secret_digest(req.secret_id, code), at=NOW)
    )
    assert not after.correct and after.message == "no attempts left"


async def test_a_signing_link_is_a_unique_token_in_the_3344_sms() -> None:
    phone = new_phone()
    req = request(phone, kind="link", sender="3344", secret_id=f"case-{uuid.uuid4()}/link")
    await issue_secret(req)
    token = sms_secret(phone, "3344")
    assert len(token) >= 32
    ok = await verify_secret(
        VerifySecretRequest(
            secret_id=req.secret_id, digest=secret_digest(req.secret_id, f"https://almatel.kz/sign/{token}"), at=NOW
        )
    )
    assert ok.correct


async def test_a_retry_after_a_failure_before_the_sms_sends_a_fresh_code_that_verifies() -> None:
    phone = new_phone()
    req = request(phone)
    with session() as s:  # an earlier attempt stored a hash and died before the SMS went out
        s.add(
            OneTimeSecret(
                secret_id=req.secret_id,
                case_id="case",
                kind="otp",
                digest="0" * 64,
                expires_at=req.expires_at,
                max_attempts=3,
            )
        )
    await issue_secret(req)
    code = sms_secret(phone, "1414")
    check = await verify_secret(
        VerifySecretRequest(secret_id=req.secret_id, digest=secret_digest(req.secret_id, code), at=NOW)
    )
    assert check.correct and len(sms_to(phone)) == 1
