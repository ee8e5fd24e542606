"""The local test certification authority: the National Certification Authority played on this machine.

Its key and certificate live under ``<data_dir>/ca``. Certificates carry the holder's IIN as Kazakhstan's NCA
does (subject ``serialNumber = IIN<12 digits>``; legal entities add ``OU = BIN<12 digits>``). Signatures are
detached CMS (PKCS#7) in DER with signed attributes, so ``openssl cms -verify`` or any CMS tool checks them.
``LocalSignatureVerifier`` is the local implementation of the EDS verification port
(``activities.eds.SignatureVerifier``); in production NCANode's ``/cms/verify`` answers instead
(``adapters.ncanode``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
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

from infra.outages import raise_if_down
from infra.settings import settings
from models.eds import SignatureInvalid, VerifiedSignature

__all__ = [
    "AUTHORISED_PERSON",
    "COMPLAINT_BODY",
    "PROVIDER_HEAD",
    "Identity",
    "LocalCA",
    "LocalSignatureVerifier",
    "local_ca",
    "pem_write",
    "sign_cms",
    "verify_cms",
]

PROVIDER_HEAD = "provider_head"  # the head of the service provider (665/NK p.7: result signed by the head)
AUTHORISED_PERSON = "authorised_person"
COMPLAINT_BODY = "complaint_body"  # the official of the body considering a complaint (58 p.10; 665/NK p.10)


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


def pem_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` owner-only from its first byte (0600 at creation, never chmod-ed later)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
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
            pem_write(
                key_file,
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ),
            )
            pem_write(cert_file, cert.public_bytes(serialization.Encoding.PEM))

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
        """The signing identity of the provider's ``role``, or of the body considering complaints (created once and
        kept with the CA)."""
        with self._lock:
            key_file, cert_file = self.directory / f"{role}.key.pem", self.directory / f"{role}.cert.pem"
            if key_file.exists() and cert_file.exists():
                key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
                assert isinstance(key, ec.EllipticCurvePrivateKey)
                return Identity(key, x509.load_pem_x509_certificate(cert_file.read_bytes()))
            titles = {
                PROVIDER_HEAD: "Head of the Telecommunications Committee",
                AUTHORISED_PERSON: "Authorised official of the Telecommunications Committee",
                COMPLAINT_BODY: "Official of the body considering the complaint",
            }
            org = "Body considering the complaint" if role == COMPLAINT_BODY else "Telecommunications Committee"
            ident = self.issue(titles.get(role, role), org=org, years=5)
            pem_write(
                key_file,
                ident.key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ),
            )
            pem_write(cert_file, ident.cert_pem)
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
        serial=str(cert.serial_number),
        signing_time=signing_time if isinstance(signing_time, dt.datetime) else None,
    )


class LocalSignatureVerifier:
    """Verifies against the local test CA (rehearsal outages of the ``eds`` system apply)."""

    def verify(self, data: bytes, signature: bytes) -> VerifiedSignature:
        """The signer of a detached CMS signature over ``data``; ``SignatureInvalid`` when it does not hold."""
        raise_if_down("eds")
        return verify_cms(data, signature, local_ca().root.cert)
