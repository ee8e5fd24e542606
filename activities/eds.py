"""Electronic digital signatures (EDS): the provider's signatures on its documents, verification of a
subscriber's signature, a subscriber's EDS issued in the contract signing (almatel-eds steps 7–8) and the
signed ZIP.

Verifying a signature made elsewhere (by a subscriber's EDS on the portal or in an app) goes through the
``SignatureVerifier`` port: locally the test CA (``adapters.local_ca``), in production NCANode's
``/cms/verify`` (``adapters.ncanode``), as settings choose. What the provider signs itself and the
subscriber certificates it issues are made with the local test CA and checked against it.

The EDS password is chosen on the issuer's page: the edge seals it to the issuer's key (``seal_eds_password``,
RSA-OAEP, bound to the case), so a workflow history holds only ciphertext. ``issue_subscriber_certificate``
unseals it, applies the policy, issues the key pair and certificate (IIN in the subject), keeps the key only as
PKCS#12 encrypted under the password, signs the application and forgets the password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import threading
import zipfile
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.local_ca import local_ca, pem_write, sign_cms, verify_cms
from infra.db import session
from infra.outages import raise_if_down
from infra.store import load_document, store_signature
from models.case import DocumentRef
from models.eds import (
    IssueCertificateRequest,
    IssuedCertificate,
    SignatureCheck,
    SignatureInvalid,
    SignDocumentRequest,
    SignedZipRequest,
    VerifiedSignature,
    VerifySignatureRequest,
)
from models.failures import SEALED_PASSWORD_INVALID, SIGNATURE_REJECTED, WEAK_EDS_PASSWORD
from models.tables import Document, SignedContract, SubscriberKey
from rules.identifiers import eds_password_check

__all__ = [
    "EdsActivities",
    "SignatureVerifier",
    "seal_eds_password",
    "signed_zip_bytes",
    "signer_name",
]

_issuer_lock = threading.Lock()
_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"kz-eds-password/v1")


class SignatureVerifier(Protocol):
    """Verifies a detached CMS signature over ``data`` made with a Kazakh EDS.

    Returns the signer; raises ``SignatureInvalid`` when the signature does not hold (a verdict about the
    signature), and an ``ApplicationError`` when the verification service fails (retryable while it is
    down, non-retryable when it refuses the request for good).
    """

    def verify(self, data: bytes, signature: bytes) -> VerifiedSignature: ...


def _check(valid: bool, data: bytes, v: VerifiedSignature | None = None, reason: str | None = None) -> SignatureCheck:
    return SignatureCheck(
        valid=valid,
        reason=reason,
        subject=v.subject if v else None,
        iin=v.iin if v else None,
        bin=v.bin if v and valid else None,
        serial=v.serial if v else None,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def signer_name(role: str) -> str:
    """Who signs the provider's documents for ``role`` (``provider_head``: the head of the service provider,
    665/NK p.6-7), as the name on that role's signing certificate: the certificate ``sign_document`` signs with."""
    cert = local_ca().official(role).cert
    return ", ".join(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))


class EdsActivities:
    """The EDS activities, with the port that verifies subscribers' signatures."""

    def __init__(self, verifier: SignatureVerifier) -> None:
        self.verifier = verifier

    @activity.defn(name="sign_document")
    def sign_document(self, req: SignDocumentRequest) -> SignatureCheck:
        """Sign a stored document with the provider's EDS for ``req.role`` (idempotent: signs once)."""
        raise_if_down("eds")
        doc = load_document(req.doc_id)
        if doc is None:
            raise ApplicationError(f"document {req.doc_id} does not exist", type="DocumentMissing", non_retryable=True)
        ca = local_ca()
        if doc.signature is None:
            signer = ca.official(req.role)
            subject = signer.cert.subject.rfc4514_string()
            store_signature(req.doc_id, sign_cms(doc.content, signer), signer.cert_pem, subject)
            doc = load_document(req.doc_id)
            assert doc is not None and doc.signature is not None
        v = verify_cms(doc.content, doc.signature, ca.root.cert)
        return SignatureCheck(valid=True, subject=v.subject, iin=v.iin, bin=v.bin, serial=v.serial, sha256=doc.sha256)

    @activity.defn(name="verify_signature")
    def verify_signature(self, req: VerifySignatureRequest) -> SignatureCheck:
        """Verify a subscriber's CMS signature over ``req.data`` and that the signer is ``req.expected_iin``."""
        try:
            v = self.verifier.verify(req.data, req.signature)
        except SignatureInvalid as exc:
            return _check(False, req.data, reason=str(exc))
        if req.expected_iin is not None and v.iin != req.expected_iin:
            return _check(False, req.data, v, "the IIN in the signer's certificate is not the applicant's")
        return _check(True, req.data, v)

    @activity.defn(name="issue_subscriber_certificate")
    def issue_subscriber_certificate(self, req: IssueCertificateRequest) -> IssuedCertificate:
        """Issue the subscriber's EDS (key + certificate with the IIN) and sign the application; once per case."""
        raise_if_down("eds")
        with session() as s:
            existing = s.get(SubscriberKey, req.case_id)
        doc = load_document(req.doc_id)
        if doc is None:
            raise ApplicationError(f"document {req.doc_id} does not exist", type="DocumentMissing", non_retryable=True)
        if existing is None or doc.signature is None:
            password = _unseal(req.sealed_password, req.case_id)
            try:
                eds_password_check(password)
            except ValueError as exc:
                raise ApplicationError(str(exc), type=WEAK_EDS_PASSWORD, non_retryable=True) from None
            ca = local_ca()
            ident = ca.issue(req.common_name, iin=req.iin)
            p12 = pkcs12.serialize_key_and_certificates(
                b"subscriber-eds",
                ident.key,
                ident.cert,
                [ca.root.cert],
                serialization.BestAvailableEncryption(password.encode()),
            )
            del password
            subject = ident.cert.subject.rfc4514_string()
            with session() as s:
                if s.get(SubscriberKey, req.case_id) is None:
                    s.add(
                        SubscriberKey(
                            case_id=req.case_id,
                            serial=str(ident.cert.serial_number),
                            subject=subject,
                            cert_pem=ident.cert_pem,
                            pkcs12=p12,
                        )
                    )
            store_signature(req.doc_id, sign_cms(doc.content, ident), ident.cert_pem, subject)
            doc = load_document(req.doc_id)
            with session() as s:
                existing = s.get(SubscriberKey, req.case_id)
        assert doc is not None and doc.signature is not None and existing is not None
        return IssuedCertificate(
            serial=existing.serial,
            subject=existing.subject,
            signature_sha256=hashlib.sha256(doc.signature).hexdigest(),
        )

    @activity.defn(name="build_signed_zip")
    def build_signed_zip(self, req: SignedZipRequest) -> DocumentRef:
        """Verify the subscriber's signature (IIN included) and store the downloadable ZIP; once per case."""
        zip_id = f"{req.case_id}/signed-application.zip"
        existing = load_document(zip_id)
        if existing is None:
            doc = load_document(req.doc_id)
            if doc is None or doc.signature is None:
                raise ApplicationError("the application is not signed", type=SIGNATURE_REJECTED, non_retryable=True)
            try:
                v = verify_cms(doc.content, doc.signature, local_ca().root.cert)
            except SignatureInvalid as exc:
                raise ApplicationError(str(exc), type=SIGNATURE_REJECTED, non_retryable=True) from None
            if v.iin != req.iin:
                raise ApplicationError(
                    "the IIN in the signer's certificate is not the applicant's",
                    type=SIGNATURE_REJECTED,
                    non_retryable=True,
                )
            content = signed_zip_bytes(req.doc_id)
            now = dt.datetime.now(dt.UTC)
            with session() as s:
                if s.get(Document, zip_id) is None:
                    s.add(
                        Document(
                            doc_id=zip_id,
                            case_id=req.case_id,
                            kind="signed_application_zip",
                            title="Signed application to join the public contract (ZIP)",
                            cite="almatel-eds",
                            media_type="application/zip",
                            content=content,
                            sha256=hashlib.sha256(content).hexdigest(),
                            signer_subject=v.subject,
                            created_at=now,
                        )
                    )
                if s.get(SignedContract, req.case_id) is None:
                    s.add(
                        SignedContract(
                            case_id=req.case_id, iin=req.iin, zip_doc_id=zip_id, cert_serial=v.serial, signed_at=now
                        )
                    )
            existing = load_document(zip_id)
        assert existing is not None
        return DocumentRef(
            doc_id=existing.doc_id,
            kind=existing.kind,
            title=existing.title,
            sha256=existing.sha256,
            signed_by=existing.signer_subject,
            cite=existing.cite,
            created_at=existing.created_at,
        )


_issuer_keys: dict[tuple[Path, int], rsa.RSAPrivateKey] = {}


def _issuer_key() -> rsa.RSAPrivateKey:
    """The issuer's sealing key, loaded once per process and file version: loading an RSA-3072 key checks it (about a
    quarter of a second of CPU), which on every seal and unseal was 42% of a signing worker's time (issue 18)."""
    path = local_ca().directory / "eds_issuer.key.pem"
    with _issuer_lock:
        try:
            stamp = (path, path.stat().st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp is not None and stamp in _issuer_keys:
            return _issuer_keys[stamp]
    key = _load_issuer_key()  # creates the file on first use
    with _issuer_lock:
        _issuer_keys[(path, path.stat().st_mtime_ns)] = key
    return key


def _load_issuer_key() -> rsa.RSAPrivateKey:
    """The issuer's sealing key read from its file, kept with the local CA (created once)."""
    path = local_ca().directory / "eds_issuer.key.pem"
    with _issuer_lock:
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        pem_write(
            path,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        return key


def seal_eds_password(case_id: str, password: str) -> bytes:
    """At the edge: check the policy (a clear ``ValueError`` otherwise) and seal the password for one case."""
    eds_password_check(password)
    plain = json.dumps({"case_id": case_id, "password": password}).encode()
    return _issuer_key().public_key().encrypt(plain, _OAEP)


def _unseal(sealed: bytes, case_id: str) -> str:
    try:
        doc = json.loads(_issuer_key().decrypt(sealed, _OAEP))
    except Exception:
        raise ApplicationError(
            "the sealed EDS password cannot be opened by the issuer", type=SEALED_PASSWORD_INVALID, non_retryable=True
        ) from None
    if doc.get("case_id") != case_id or not isinstance(doc.get("password"), str):
        raise ApplicationError(
            "the sealed EDS password was made for another case", type=SEALED_PASSWORD_INVALID, non_retryable=True
        )
    password: str = doc["password"]
    return password


def signed_zip_bytes(doc_id: str) -> bytes:
    """The ZIP of a signed document: the document, its detached .p7s, the signer's and the CA's certificates."""
    doc = load_document(doc_id)
    if doc is None or doc.signature is None or doc.signer_cert_pem is None:
        raise ValueError(f"document {doc_id} is not signed")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("application.html", doc.content)
        z.writestr("application.html.p7s", doc.signature)
        z.writestr("signer-certificate.pem", doc.signer_cert_pem)
        z.writestr("issuer-ca.pem", local_ca().root.cert_pem)
        z.writestr(
            "README.txt",
            "Verify: openssl cms -verify -binary -inform DER -in application.html.p7s "
            "-content application.html -CAfile issuer-ca.pem -purpose any -out /dev/null\n",
        )
    return buf.getvalue()
