"""The SMS gateway over HTTP (``adapters.sms_gateway``) against a real HTTP server on this machine (uvicorn in a
thread): the gateway's contract, and each kind of answer becoming a receipt, a retryable or a non-retryable
failure."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.sms import SmsActivities
from adapters.sms_gateway import HttpSmsGateway
from models.sms import SmsRequest
from tests.http_servers import TOKEN, Gateway, serve


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
