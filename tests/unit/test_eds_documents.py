"""Real CMS signatures from the local test CA, checked by our verifier and by OpenSSL; documents stored once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.documents import render_document
from activities.eds import EdsActivities
from activities.local_ca import LocalCA, LocalSignatureVerifier, local_ca, sign_cms, verify_cms
from infra.store import load_document
from models.documents import RenderDocumentRequest
from models.eds import SignatureInvalid, SignDocumentRequest, VerifySignatureRequest

EDS = EdsActivities(LocalSignatureVerifier())
sign_document, verify_signature = EDS.sign_document, EDS.verify_signature

IIN = "900101300126"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    return LocalCA(tmp_path_factory.mktemp("ca"))


def test_signature_names_the_signer_by_iin(ca: LocalCA) -> None:
    person = ca.issue("ASANOV ASAN", iin=IIN)
    data = b"application to join the public contract"
    v = verify_cms(data, sign_cms(data, person), ca.root.cert)
    assert v.iin == IIN and "ASANOV" in v.subject


def test_tampered_document_and_foreign_ca_are_refused(ca: LocalCA, tmp_path: Path) -> None:
    person = ca.issue("ASANOV ASAN", iin=IIN)
    sig = sign_cms(b"original", person)
    with pytest.raises(SignatureInvalid, match="changed after signing"):
        verify_cms(b"tampered", sig, ca.root.cert)
    other = LocalCA(tmp_path / "other")
    with pytest.raises(SignatureInvalid, match="not issued by the trusted CA"):
        verify_cms(b"original", sig, other.root.cert)
    with pytest.raises(SignatureInvalid, match="not a CMS signature"):
        verify_cms(b"original", b"\x30\x03garbage", ca.root.cert)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl binary not installed")
def test_openssl_verifies_our_signature(ca: LocalCA, tmp_path: Path) -> None:
    person = ca.issue("ASANOV ASAN", iin=IIN)
    (tmp_path / "doc").write_bytes(b"<html>permit</html>")
    (tmp_path / "doc.p7s").write_bytes(sign_cms(b"<html>permit</html>", person))
    (tmp_path / "ca.pem").write_bytes(ca.root.cert_pem)
    r = subprocess.run(
        [
            "openssl",
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            tmp_path / "doc.p7s",
            "-content",
            tmp_path / "doc",
            "-CAfile",
            tmp_path / "ca.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "Verification successful" in r.stderr


async def test_render_sign_and_verify_a_stored_document() -> None:
    env = ActivityEnvironment()
    req = RenderDocumentRequest(
        doc_id="case-1/notice",
        case_id="case-1",
        kind="notice",
        title="Notice",
        template="_test_notice.html.j2",
        cite="665/NK p.7",
        context={"name": "Асан"},
    )
    ref = await env.run(render_document, req)
    again = await env.run(render_document, req)
    assert again == ref  # idempotent: the retry returns the stored document
    doc = load_document("case-1/notice")
    assert doc is not None
    html = doc.content.decode()
    assert "Хабарлама" in html and "Уведомление" in html and "Асан" in html and "665/NK p.7" in html
    check = env.run(sign_document, SignDocumentRequest(doc_id="case-1/notice"))
    assert check.valid and check.sha256 == ref.sha256 and "Head" in (check.subject or "")
    signed = load_document("case-1/notice")
    assert signed is not None and signed.signature is not None
    verify_cms(signed.content, signed.signature, local_ca().root.cert)
    # signing twice keeps the first signature
    env.run(sign_document, SignDocumentRequest(doc_id="case-1/notice"))
    assert load_document("case-1/notice").signature == signed.signature  # type: ignore[union-attr]


async def test_verify_activity_checks_the_applicant_iin() -> None:
    env = ActivityEnvironment()
    person = local_ca().issue("ASANOV ASAN", iin=IIN)
    data = b"request"
    sig = sign_cms(data, person)
    ok = env.run(verify_signature, VerifySignatureRequest(data=data, signature=sig, expected_iin=IIN))
    assert ok.valid and ok.iin == IIN
    foreign = env.run(verify_signature, VerifySignatureRequest(data=data, signature=sig, expected_iin="850412400309"))
    assert not foreign.valid and "not the applicant's" in (foreign.reason or "")


async def test_sms_is_sent_once_per_message_id() -> None:
    from sqlmodel import select

    from activities.sms import LocalSmsGateway, SmsActivities
    from infra.db import session
    from models.sms import SmsRequest
    from models.tables import SmsOutbox

    send_sms = SmsActivities(LocalSmsGateway()).send_sms
    env = ActivityEnvironment()
    req = SmsRequest(message_id="case-9/otp-1", case_id="case-9", to="8 701 123 45 67", sender="1414", text="code 1")
    first = env.run(send_sms, req)
    second = env.run(send_sms, req)
    assert not first.duplicate and second.duplicate and second.accepted_at == first.accepted_at
    with session() as s:
        rows = s.exec(select(SmsOutbox).where(SmsOutbox.case_id == "case-9")).all()
    assert [(r.to, r.sender) for r in rows] == [("+77011234567", "1414")]
