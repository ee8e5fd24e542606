"""EDS verification by NCANode (``adapters.ncanode``) against a real HTTP server on this machine answering
``/cms/verify``: the signer named, a bad signature a verdict, not a failure, an outage retried and a refusal
not."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.eds import EdsActivities
from adapters.local_ca import local_ca, sign_cms
from adapters.ncanode import NcaNodeVerifier
from models.eds import SignatureInvalid, VerifySignatureRequest
from tests.http_servers import NcaNode, serve

IIN = "900101300126"


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
