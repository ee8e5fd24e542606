"""The EDS activities (``activities.eds``): a rendered document stored once, signed once and verified; a
subscriber's signature checked against the applicant's IIN."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

from activities.documents import render_document
from activities.eds import EdsActivities
from adapters.local_ca import LocalSignatureVerifier, local_ca, sign_cms, verify_cms
from infra.store import load_document
from models.documents import RenderDocumentRequest
from models.eds import SignDocumentRequest, VerifySignatureRequest

EDS = EdsActivities(LocalSignatureVerifier())
sign_document, verify_signature = EDS.sign_document, EDS.verify_signature
IIN = "900101300126"


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
    ref = env.run(render_document, req)
    again = env.run(render_document, req)
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
