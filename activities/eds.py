"""Electronic digital signatures (EDS): a local test certification authority and real CMS signatures.

Locally the National Certification Authority is played by a test CA whose key and certificate live
under ``<data_dir>/ca``. Certificates carry the holder's IIN as Kazakhstan's NCA does (subject
``serialNumber = IIN<12 digits>``; legal entities add ``OU = BIN<12 digits>``). Signatures are
detached CMS (PKCS#7) in DER with signed attributes, so ``openssl cms -verify`` or any CMS tool checks
them. In production the same interface is served by NCANode (``/cms/verify``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from temporalio import activity
from temporalio.exceptions import ApplicationError

from infra.outages import raise_if_down
from infra.settings import settings
from infra.store import load_document, store_signature
from models.eds import SignatureCheck, SignDocumentRequest, VerifySignatureRequest

__all__ = [
    "Identity",
    "LocalCA",
    "SignatureInvalid",
    "local_ca",
    "sign_cms",
    "sign_document",
    "verify_cms",
    "verify_signature",
]

PROVIDER_HEAD = "provider_head"  # the head of the service provider (665/NK p.7: result signed by the head)
AUTHORISED_PERSON = "authorised_person"


class SignatureInvalid(ValueError):
    """A CMS signature that does not verify, with the reason."""


@dataclass(frozen=True)
class Identity:
    """A key and its certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, iin: str | None = None, bin_: str | None = None, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if iin:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"))
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if bin_:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin_}"))
    return x509.Name(attrs)


def _pem_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o600)
    tmp.replace(path)


# digital_signature, content_commitment, key_encipherment, data_encipherment, key_agreement,
# key_cert_sign, crl_sign, encipher_only, decipher_only
_CA_USAGE = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
_SIGNER_USAGE = x509.KeyUsage(True, True, False, False, False, False, False, False, False)


class LocalCA:
    """A test certification authority kept in a directory; issues end-entity certificates."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        key_file, cert_file = directory / "ca.key.pem", directory / "ca.cert.pem"
        if key_file.exists() and cert_file.exists():
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            self.root = Identity(key, x509.load_pem_x509_certificate(cert_file.read_bytes()))
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            name = _name("Local test NCA of the procedures engine (NOT FOR PRODUCTION)")
            now = dt.datetime.now(dt.UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=365 * 30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_CA_USAGE, critical=True)
                .sign(key, hashes.SHA256())
            )
            self.root = Identity(key, cert)
            _pem_write(
                key_file,
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ),
            )
            _pem_write(cert_file, cert.public_bytes(serialization.Encoding.PEM))

    def issue(
        self,
        common_name: str,
        *,
        iin: str | None = None,
        bin_: str | None = None,
        org: str | None = None,
        years: int = 1,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> Identity:
        """A new signing certificate for a person (IIN) or an official of an organisation (IIN + BIN)."""
        key = key or ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, iin, bin_, org))
            .issuer_name(self.root.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_SIGNER_USAGE, critical=True)
            .sign(self.root.key, hashes.SHA256())
        )
        return Identity(key, cert)

    def official(self, role: str) -> Identity:
        """The provider's signing identity for ``role`` (created once and kept with the CA)."""
        with self._lock:
            key_file, cert_file = self.directory / f"{role}.key.pem", self.directory / f"{role}.cert.pem"
            if key_file.exists() and cert_file.exists():
                key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
                assert isinstance(key, ec.EllipticCurvePrivateKey)
                return Identity(key, x509.load_pem_x509_certificate(cert_file.read_bytes()))
            titles = {
                PROVIDER_HEAD: "Head of the Telecommunications Committee",
                AUTHORISED_PERSON: "Authorised official of the Telecommunications Committee",
            }
            ident = self.issue(titles.get(role, role), org="Telecommunications Committee", years=5)
            _pem_write(
                key_file,
                ident.key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ),
            )
            _pem_write(cert_file, ident.cert_pem)
            return ident


@cache
def local_ca() -> LocalCA:
    """The process's test CA under the data directory."""
    return LocalCA(settings().data_dir / "ca")


def sign_cms(data: bytes, signer: Identity) -> bytes:
    """A detached CMS signature (DER) over ``data``, with the signer's certificate and signed attributes."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(data)
        .add_signer(signer.cert, signer.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )


@dataclass(frozen=True)
class VerifiedSignature:
    """Who signed, as the certificate says."""

    subject: str
    iin: str | None
    bin: str | None
    serial: int
    signing_time: dt.datetime | None
    cert: x509.Certificate


def _subject_value(cert: x509.Certificate, oid: x509.ObjectIdentifier, prefix: str) -> str | None:
    for attr in cert.subject.get_attributes_for_oid(oid):
        value = str(attr.value)
        if value.startswith(prefix):
            return value[len(prefix) :]
    return None


def verify_cms(
    data: bytes, signature: bytes, trusted: x509.Certificate, *, at: dt.datetime | None = None
) -> VerifiedSignature:
    """Verify a detached CMS signature over ``data`` issued under ``trusted``; raise ``SignatureInvalid``."""
    try:
        info = asn1_cms.ContentInfo.load(signature)
        signed = info["content"]
        signer_info = signed["signer_infos"][0]
        certs = [c.chosen for c in signed["certificates"]]
    except Exception as exc:  # malformed DER in any of many shapes
        raise SignatureInvalid(f"not a CMS signature: {exc}") from None
    sid = signer_info["sid"].chosen
    signer_der = next(
        (c.dump() for c in certs if c.serial_number == sid["serial_number"].native and c.issuer == sid["issuer"]),
        None,
    )
    if signer_der is None:
        raise SignatureInvalid("the signer's certificate is not in the signature")
    cert = x509.load_der_x509_certificate(signer_der)
    try:
        cert.verify_directly_issued_by(trusted)
    except (ValueError, TypeError, InvalidSignature):
        raise SignatureInvalid("the signer's certificate is not issued by the trusted CA") from None
    when = at or dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
        raise SignatureInvalid("the signer's certificate is not valid at the time of verification")
    attrs = signer_info["signed_attrs"]
    digest_alg = signer_info["digest_algorithm"]["algorithm"].native
    if digest_alg != "sha256":
        raise SignatureInvalid(f"unsupported digest algorithm {digest_alg}")
    values = {a["type"].native: a["values"][0].native for a in attrs}
    if values.get("message_digest") != hashlib.sha256(data).digest():
        raise SignatureInvalid("the document was changed after signing (message digest differs)")
    signed_bytes = attrs.untag().dump()  # signed attributes are signed as an explicit SET
    sig = signer_info["signature"].native
    public_key = cert.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(sig, signed_bytes, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(sig, signed_bytes, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise SignatureInvalid("unsupported key type")
    except InvalidSignature:
        raise SignatureInvalid("the signature value does not verify") from None
    signing_time = values.get("signing_time")
    return VerifiedSignature(
        subject=cert.subject.rfc4514_string(),
        iin=_subject_value(cert, NameOID.SERIAL_NUMBER, "IIN"),
        bin=_subject_value(cert, NameOID.ORGANIZATIONAL_UNIT_NAME, "BIN"),
        serial=cert.serial_number,
        signing_time=signing_time if isinstance(signing_time, dt.datetime) else None,
        cert=cert,
    )


@activity.defn
async def sign_document(req: SignDocumentRequest) -> SignatureCheck:
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
    return SignatureCheck(valid=True, subject=v.subject, iin=v.iin, bin=v.bin, serial=str(v.serial), sha256=doc.sha256)


@activity.defn
async def verify_signature(req: VerifySignatureRequest) -> SignatureCheck:
    """Verify a subscriber's CMS signature over ``req.data`` and that the signer is ``req.expected_iin``."""
    raise_if_down("eds")
    try:
        v = verify_cms(req.data, req.signature, local_ca().root.cert)
    except SignatureInvalid as exc:
        return SignatureCheck(valid=False, reason=str(exc), sha256=hashlib.sha256(req.data).hexdigest())
    if req.expected_iin is not None and v.iin != req.expected_iin:
        return SignatureCheck(
            valid=False,
            reason="the IIN in the signer's certificate is not the applicant's",
            subject=v.subject,
            iin=v.iin,
            serial=str(v.serial),
            sha256=hashlib.sha256(req.data).hexdigest(),
        )
    return SignatureCheck(
        valid=True,
        subject=v.subject,
        iin=v.iin,
        bin=v.bin,
        serial=str(v.serial),
        sha256=hashlib.sha256(req.data).hexdigest(),
    )


# --- subscriber EDS issued in the contract signing (almatel-eds steps 7–8; issue 6) ---------------------
#
# The EDS password is chosen on the issuer's page: the edge seals it to the issuer's key
# (``seal_eds_password``, RSA-OAEP, bound to the case), so the workflow history holds only ciphertext.
# ``issue_subscriber_certificate`` unseals it, applies the policy, issues the key pair and certificate
# (IIN in the subject), keeps the key only as PKCS#12 encrypted under the password, signs the application
# and forgets the password. ``build_signed_zip`` packs the document, its .p7s and the certificates.

import io  # noqa: E402
import json  # noqa: E402
import zipfile  # noqa: E402

from cryptography.hazmat.primitives.asymmetric import padding as _padding  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: E402

from infra.db import session  # noqa: E402
from models.case import DocumentRef  # noqa: E402
from models.eds import IssueCertificateRequest, IssuedCertificate, SignedZipRequest  # noqa: E402
from models.tables import Document, SignedContract, SubscriberKey  # noqa: E402
from rules.identifiers import eds_password_check  # noqa: E402

WEAK_EDS_PASSWORD = "WeakEdsPassword"
SEALED_PASSWORD_INVALID = "SealedPasswordInvalid"
SIGNATURE_REJECTED = "SignatureRejected"
_issuer_lock = threading.Lock()
_OAEP = _padding.OAEP(mgf=_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=b"kz-eds-password/v1")


def _issuer_key() -> rsa.RSAPrivateKey:
    """The issuer's sealing key, kept with the local CA (created once)."""
    path = local_ca().directory / "eds_issuer.key.pem"
    with _issuer_lock:
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        _pem_write(
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


@activity.defn
async def issue_subscriber_certificate(req: IssueCertificateRequest) -> IssuedCertificate:
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
        serial=existing.serial, subject=existing.subject, signature_sha256=hashlib.sha256(doc.signature).hexdigest()
    )


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


@activity.defn
async def build_signed_zip(req: SignedZipRequest) -> DocumentRef:
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
                        case_id=req.case_id, iin=req.iin, zip_doc_id=zip_id, cert_serial=str(v.serial), signed_at=now
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
