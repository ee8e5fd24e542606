"""The subscriber activities on their own: one code per id however often retried, hash-only storage,
expiry at the case's instant, limited attempts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.testing import ActivityEnvironment

from activities.otp import OtpActivities, secret_digest
from activities.sms import LocalSmsGateway
from infra.db import session
from infra.handset import received
from models.identification import IssuedSecret, IssueSecretRequest, SecretCheck, VerifySecretRequest
from models.sms import SmsReceipt, SmsRequest
from models.tables import OneTimeSecret
from tests.subscribers import new_phone, sms_secret, sms_to

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
OTP = OtpActivities(LocalSmsGateway())


async def issue_secret(req: IssueSecretRequest) -> IssuedSecret:
    return ActivityEnvironment().run(OTP.issue_secret, req)


async def verify_secret(req: VerifySecretRequest) -> SecretCheck:
    return ActivityEnvironment().run(OTP.verify_secret, req)


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


@pytest.mark.parametrize(("kind", "sender", "shown"), [("otp", "1414", "code sent"), ("link", "3344", "link sent")])
async def test_the_outbox_keeps_that_a_code_or_link_was_sent_never_which(kind: str, sender: str, shown: str) -> None:
    phone = new_phone()
    await issue_secret(request(phone, kind=kind, sender=sender))
    secret = sms_secret(phone, sender)  # as the phone received it
    [kept] = sms_to(phone)
    assert len(secret) >= 6 and secret not in kept.text
    assert shown in kept.text and "••••••" in kept.text


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


class DiesAfterTheGatewayAccepted(LocalSmsGateway):
    """The gateway accepts the SMS, then the worker dies before the activity records that it did."""

    def send(self, req: SmsRequest) -> SmsReceipt:
        super().send(req)
        raise RuntimeError("worker lost after the gateway accepted the SMS")


async def test_a_retry_after_the_gateway_accepted_but_before_it_was_recorded_sends_a_fresh_code() -> None:
    phone = new_phone()
    req = request(phone)
    with pytest.raises(RuntimeError):
        ActivityEnvironment().run(OtpActivities(DiesAfterTheGatewayAccepted()).issue_secret, req)
    lost = sms_secret(phone, "1414")
    issued = await issue_secret(req)  # the retry
    fresh = sms_secret(phone, "1414")
    [first, second] = sms_to(phone)
    assert first.message_id == f"{req.secret_id}/sms" and second.message_id == issued.sms_message_id != first.message_id
    check = await verify_secret(
        VerifySecretRequest(secret_id=req.secret_id, digest=secret_digest(req.secret_id, lost), at=NOW)
    )
    assert not check.correct or lost == fresh  # only the code of the SMS sent last verifies
    check = await verify_secret(
        VerifySecretRequest(secret_id=req.secret_id, digest=secret_digest(req.secret_id, fresh), at=NOW)
    )
    assert check.correct
    assert await issue_secret(req) == issued and len(sms_to(phone)) == 2  # recorded now: no third SMS


@pytest.mark.parametrize("kind", ["otp", "link"])
async def test_the_citizen_reads_the_code_or_link_in_kazakh_then_russian(kind: str) -> None:
    phone = new_phone()
    purpose = "EGOV: connecting the number to your e-government account"
    await issue_secret(request(phone, kind=kind, sender="1414", purpose=purpose))
    secret = sms_secret(phone, "1414")
    [text] = [m.text for m in received(phone)]
    lines = text.splitlines()
    assert lines[0].startswith("EGOV: нөмірді электрондық үкімет кабинетіне қосу")
    assert lines[1].startswith("EGOV: подключение номера к кабинету электронного правительства")
    assert purpose not in text and secret in text
    if kind == "otp":
        assert "Кодты ешкімге айтпаңыз" in lines[0] and "Никому не сообщайте" in lines[1]
