"""The HTTP implementations of the ports against real HTTP servers on this machine (uvicorn in a thread):
the SMS gateway's contract and NCANode's ``/cms/verify``, and each kind of answer becoming a receipt, a
verdict, a retryable or a non-retryable failure."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.eds import EdsActivities
from activities.local_ca import LocalSignatureVerifier, local_ca, sign_cms
from activities.sms import LocalSmsGateway, SmsActivities
from adapters.ncanode import NcaNodeVerifier
from adapters.sms_gateway import HttpSmsGateway
from infra.settings import Settings
from models.eds import SignatureInvalid, VerifySignatureRequest
from models.sms import SmsRequest
from tests.http_servers import TOKEN, Gateway, NcaNode, serve
from worker import outside_systems

IIN = "900101300126"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the SMS gateway ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[Gateway, str]]:
    state = Gateway()
    with serve(state.app()) as base:
        yield state, f"{base}/v1/sms"


def sms(message_id: str, text: str = "EGOV: code 123456") -> SmsRequest:
    return SmsRequest(message_id=message_id, case_id="case-h", to="+77015550101", sender="1414", text=text)


def test_an_sms_is_posted_with_the_token_and_its_id_and_sent_once(gateway: tuple[Gateway, str]) -> None:
    state, url = gateway
    state.answer_with = None
    send = SmsActivities(HttpSmsGateway(url, TOKEN)).send_sms
    first = ActivityEnvironment().run(send, sms("case-h/otp-1/sms"))
    again = ActivityEnvironment().run(send, sms("case-h/otp-1/sms"))  # a retried activity
    assert not first.duplicate and again.duplicate and again.accepted_at == first.accepted_at
    body, _ = state.accepted["case-h/otp-1/sms"]
    assert body == {
        "message_id": "case-h/otp-1/sms",
        "to": "+77015550101",
        "sender": "1414",
        "text": "EGOV: code 123456",
    }
    assert state.requests[-1] == {"authorization": f"Bearer {TOKEN}", "idempotency_key": "case-h/otp-1/sms"}


@pytest.mark.parametrize("status", [503, 502, 429, 408])
def test_a_gateway_that_is_down_fails_the_attempt_for_a_retry(gateway: tuple[Gateway, str], status: int) -> None:
    state, url = gateway
    state.answer_with = status
    try:
        with pytest.raises(ApplicationError) as exc:
            HttpSmsGateway(url, TOKEN).send(sms(f"case-h/down-{status}"))
    finally:
        state.answer_with = None
    assert exc.value.type == "SmsGatewayUnavailable" and not exc.value.non_retryable
    assert f"HTTP {status}" in exc.value.message and "+7701" not in exc.value.message  # no number in errors
    assert f"case-h/down-{status}" not in state.accepted


def test_a_gateway_that_cannot_be_reached_fails_the_attempt_for_a_retry() -> None:
    with pytest.raises(ApplicationError) as exc:
        HttpSmsGateway(f"http://127.0.0.1:{free_port()}/v1/sms", TOKEN, timeout=2).send(sms("case-h/nobody"))
    assert exc.value.type == "SmsGatewayUnavailable" and not exc.value.non_retryable


@pytest.mark.parametrize("status", [400, 403, 422])
def test_a_refusal_for_good_is_not_retried(gateway: tuple[Gateway, str], status: int) -> None:
    state, url = gateway
    state.answer_with = status
    try:
        with pytest.raises(ApplicationError) as exc:
            HttpSmsGateway(url, TOKEN).send(sms(f"case-h/refused-{status}", text="code 654321"))
    finally:
        state.answer_with = None
    assert exc.value.type == "SmsGatewayRefused" and exc.value.non_retryable
    assert "654321" not in exc.value.message and "+7701" not in exc.value.message


def test_a_wrong_token_is_a_refusal_for_good(gateway: tuple[Gateway, str]) -> None:
    _, url = gateway
    with pytest.raises(ApplicationError) as exc:
        HttpSmsGateway(url, "not-the-token").send(sms("case-h/wrong-token"))
    assert exc.value.type == "SmsGatewayRefused" and exc.value.non_retryable and "401" in exc.value.message


# --- NCANode ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ncanode() -> Iterator[tuple[NcaNode, str]]:
    state = NcaNode()
    with serve(state.app()) as base:
        yield state, base


def signed(data: bytes, iin: str = IIN) -> bytes:
    return sign_cms(data, local_ca().issue("ASANOV ASAN", iin=iin))


def test_ncanode_names_the_signer_and_the_applicant_check_holds(ncanode: tuple[NcaNode, str]) -> None:
    state, base = ncanode
    verify = EdsActivities(NcaNodeVerifier(base + "/")).verify_signature
    data = b"Request: connect +77015550101 to the account of IIN 900101300126"
    sig = signed(data)
    ok = ActivityEnvironment().run(verify, VerifySignatureRequest(data=data, signature=sig, expected_iin=IIN))
    assert ok.valid and ok.iin == IIN and ok.serial and "IIN900101300126" in (ok.subject or "")
    assert state.seen[-1]["revocationCheck"] == ["OCSP"] and base64.b64decode(state.seen[-1]["data"]) == data
    foreign = ActivityEnvironment().run(
        verify, VerifySignatureRequest(data=data, signature=sig, expected_iin="850412400309")
    )
    assert not foreign.valid and "not the applicant's" in (foreign.reason or "")


def test_ncanode_verdicts_on_a_bad_signature_are_verdicts_not_failures(ncanode: tuple[NcaNode, str]) -> None:
    _, base = ncanode
    verifier = NcaNodeVerifier(base)
    with pytest.raises(SignatureInvalid, match="changed after signing"):
        verifier.verify(b"tampered", signed(b"original"))
    with pytest.raises(SignatureInvalid, match="cannot read the signature"):
        verifier.verify(b"original", b"\x30\x03garbage-not-a-cms")
    check = EdsActivities(verifier).verify_signature(
        VerifySignatureRequest(data=b"tampered", signature=signed(b"original"))
    )
    assert not check.valid and "changed after signing" in (check.reason or "")


@pytest.mark.parametrize(("status", "kind", "retryable"), [(503, "EdsUnavailable", True), (401, "EdsRefused", False)])
def test_ncanode_down_is_retried_and_a_refused_request_is_not(
    ncanode: tuple[NcaNode, str], status: int, kind: str, retryable: bool
) -> None:
    state, base = ncanode
    state.answer_with = status
    try:
        with pytest.raises(ApplicationError) as exc:
            NcaNodeVerifier(base).verify(b"data", signed(b"data"))
    finally:
        state.answer_with = None
    assert exc.value.type == kind and exc.value.non_retryable is not retryable


def test_settings_choose_http_or_local_per_system() -> None:
    local = {type(i): i for i in outside_systems(Settings())}
    assert isinstance(local[SmsActivities].gateway, LocalSmsGateway)
    assert isinstance(local[EdsActivities].verifier, LocalSignatureVerifier)
    s = Settings(sms_gateway_url="http://sms.example/v1/sms", sms_gateway_token=TOKEN, ncanode_url="http://nca:14579")
    remote = {type(i): i for i in outside_systems(s)}
    gateway = remote[SmsActivities].gateway
    assert isinstance(gateway, HttpSmsGateway) and gateway.url == "http://sms.example/v1/sms"
    assert gateway.http.headers["authorization"] == f"Bearer {TOKEN}"
    verifier = remote[EdsActivities].verifier
    assert isinstance(verifier, NcaNodeVerifier) and verifier.url == "http://nca:14579/cms/verify"
    from activities.otp import OtpActivities

    assert remote[OtpActivities].gateway is gateway  # the codes go out through the same gateway
