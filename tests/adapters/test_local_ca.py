"""Real CMS signatures from the local test CA (``adapters.local_ca``), checked by our verifier and by OpenSSL."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from adapters.local_ca import LocalCA, sign_cms, verify_cms
from models.eds import SignatureInvalid

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
