"""The local test certification authority: the National Certification Authority played on this machine.

Its key and certificate come from the settings ``KZ_CA_KEY`` and ``KZ_CA_CERT`` (production, and every
installation of more than one host: all hosts must sign under one CA), else from ``<data_dir>/ca``, generated
there on first use while key generation is on (the dev setup). The officials' signing identities (the head of
the provider, …) are kept beside the CA in the dev setup; with a configured CA (or generation off) each host
derives them from the CA key (the same key, subject and serial on every host) and keeps them in memory.
Certificates carry the holder's IIN as Kazakhstan's NCA
does (subject ``serialNumber = IIN<12 digits>``; legal entities add ``OU = BIN<12 digits>``). Signatures are
detached CMS (PKCS#7) in DER with signed attributes, so ``openssl cms -verify`` or any CMS tool checks them.
``LocalSignatureVerifier`` is the local implementation of the EDS verification port
(``activities.eds.SignatureVerifier``); in production NCANode's ``/cms/verify`` answers instead
(``adapters.ncanode``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import threading
import time
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

from infra.keys import KeyMissing, create_exclusive, pem_setting
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
    "new_root",
    "pem_write",
    "root_from_pem",
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


_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_OFFICIAL_TITLES = {
    PROVIDER_HEAD: "Head of the Telecommunications Committee",
    AUTHORISED_PERSON: "Authorised official of the Telecommunications Committee",
    COMPLAINT_BODY: "Official of the body considering the complaint",
}


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def new_root() -> Identity:
    """A new CA: a P-256 key and its self-signed certificate, valid 30 years."""
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
    return Identity(key, cert)


def root_from_pem(key_pem: bytes, cert_pem: bytes, source: str) -> Identity:
    """The CA's identity from its key and certificate; ``KeyMissing`` naming ``source`` when they are not a P-256
    key and the certificate of that key."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError:
        raise KeyMissing(f"{source}: not a PEM private key and certificate") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyMissing(f"{source}: the CA key must be an EC P-256 key")
    if cert.public_key() != key.public_key():
        raise KeyMissing(f"{source}: the certificate is not the key's")
    return Identity(key, cert)


def _read_root(directory: Path, *, generate: bool) -> Identity:
    """The CA under ``directory``: read, or generated there (race-safe: the first process to link the key file wins,
    the others wait for its certificate and read its CA)."""
    key_file, cert_file = directory / "ca.key.pem", directory / "ca.cert.pem"
    if not key_file.exists():
        if not generate:
            raise KeyMissing(
                f"no CA: set KZ_CA_KEY and KZ_CA_CERT or provide {key_file} and {cert_file} "
                "(key generation is off: KZ_KEY_GENERATION=false)"
            )
        root = new_root()
        if create_exclusive(key_file, _private_pem(root.key)):
            pem_write(cert_file, root.cert_pem)
            return root
    for _ in range(200):  # the process that made the key writes its certificate right after
        if cert_file.exists():
            break
        time.sleep(0.05)
    return root_from_pem(key_file.read_bytes(), cert_file.read_bytes(), str(directory))


class LocalCA:
    """A test certification authority kept in a directory (or given by the settings); issues end-entity
    certificates."""

    def __init__(self, directory: Path | None = None, *, root: Identity | None = None, generate: bool = True) -> None:
        """The CA in ``directory`` (made there when missing and ``generate``), or ``root`` held in memory."""
        self.directory = directory
        self.generate = generate
        self._lock = threading.Lock()
        self._officials: dict[str, Identity] = {}
        if root is None:
            if directory is None:
                raise ValueError("a CA needs a directory or its root identity")
            root = _read_root(directory, generate=generate)
        self.root = root

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
        now = dt.datetime.now(dt.UTC)
        return self._certify(
            _name(common_name, iin, bin_, org),
            key or ec.generate_private_key(ec.SECP256R1()),
            x509.random_serial_number(),
            now - dt.timedelta(minutes=5),
            now + dt.timedelta(days=365 * years),
        )

    def _certify(
        self, subject: x509.Name, key: ec.EllipticCurvePrivateKey, serial: int, since: dt.datetime, until: dt.datetime
    ) -> Identity:
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.root.cert.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(since)
            .not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_SIGNER_USAGE, critical=True)
            .sign(self.root.key, hashes.SHA256())
        )
        return Identity(key, cert)

    def official(self, role: str) -> Identity:
        """The signing identity of the provider's ``role``, or of the body considering complaints: kept with the CA
        in the dev setup (created once), derived from the CA key otherwise (the same on every host); read once per
        process."""
        with self._lock:
            if role not in self._officials:
                self._officials[role] = self._load_official(role)
            return self._officials[role]

    def _subject(self, role: str) -> x509.Name:
        org = "Body considering the complaint" if role == COMPLAINT_BODY else "Telecommunications Committee"
        return _name(_OFFICIAL_TITLES.get(role, role), org=org)

    def _load_official(self, role: str) -> Identity:
        if self.directory is None or not self.generate:
            return self.derived_official(role)
        key_file, cert_file = self.directory / f"{role}.key.pem", self.directory / f"{role}.cert.pem"
        if key_file.exists() and cert_file.exists():
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            return Identity(key, x509.load_pem_x509_certificate(cert_file.read_bytes()))
        now = dt.datetime.now(dt.UTC)
        ident = self._certify(
            self._subject(role),
            ec.generate_private_key(ec.SECP256R1()),
            x509.random_serial_number(),
            now - dt.timedelta(minutes=5),
            now + dt.timedelta(days=365 * 5),
        )
        pem_write(key_file, _private_pem(ident.key))
        pem_write(cert_file, ident.cert_pem)
        return ident

    def derived_official(self, role: str) -> Identity:
        """The official's key and certificate derived from the CA's key: every host of the installation computes the
        same key, subject, serial and validity (the CA's), so all hosts sign as one official."""
        secret = self.root.key.private_numbers().private_value.to_bytes(32, "big")
        mac = hmac.new(secret, f"kz-official-key/v1:{role}".encode(), hashlib.sha256).digest()
        key = ec.derive_private_key(int.from_bytes(mac, "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())
        tag = hmac.new(secret, f"kz-official-serial/v1:{role}".encode(), hashlib.sha256).digest()
        serial = (int.from_bytes(tag[:19], "big") >> 1) or 1  # positive and under 2**159 (RFC 5280)
        ca = self.root.cert
        return self._certify(self._subject(role), key, serial, ca.not_valid_before_utc, ca.not_valid_after_utc)


@cache
def local_ca() -> LocalCA:
    """The process's CA (read once): ``KZ_CA_KEY`` and ``KZ_CA_CERT``, else the one under the data directory
    (generated there while key generation is on); ``KeyMissing`` names the settings otherwise."""
    s = settings()
    key, cert = s.ca_key.get_secret_value().strip(), s.ca_cert.strip()
    if key or cert:
        if not (key and cert):
            raise KeyMissing("KZ_CA_KEY and KZ_CA_CERT go together: set both (or neither, in the dev setup)")
        root = root_from_pem(pem_setting(key, "KZ_CA_KEY"), pem_setting(cert, "KZ_CA_CERT"), "KZ_CA_KEY/KZ_CA_CERT")
        return LocalCA(root=root)
    return LocalCA(s.data_dir / "ca", generate=s.key_generation)


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
