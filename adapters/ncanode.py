"""EDS verification by NCANode (https://github.com/ncanode-kz/NCANode, HTTP API 3.x): the production
``SignatureVerifier`` (``activities.eds``) for signatures made with certificates of Kazakhstan's NCA.

``POST {KZ_NCANODE_URL}/cms/verify`` with ``{"cms": base64(signature), "data": base64(document),
"revocationCheck": ["OCSP"]}`` (``data`` because our signatures are detached). NCANode answers ``200`` with
``{"valid": bool, "signers": [...]}``; each signer carries its certificates (``certificates``, in older 3.x
releases ``signers``) with ``subject.iin``, ``subject.bin``, ``subject.dn``, ``serialNumber``, and, when it
judged the signature, ``status``/``message``. ``400`` is NCANode's refusal of the CMS itself (it cannot be
read): a verdict on the signature like ``valid: false``. Other ``4xx`` are refusals of our request
(``EdsRefused``, non-retryable); ``5xx``, ``408``/``425``/``429`` and no answer are retryable
(``EdsUnavailable``).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import httpx

from adapters.http import client, transport_failure, unwanted_answer
from models.eds import SignatureInvalid, VerifiedSignature

__all__ = ["SYSTEM", "NcaNodeVerifier"]

SYSTEM = "eds"


class NcaNodeVerifier:
    """Verifies detached CMS signatures with NCANode, checking the signer's certificate by OCSP."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 20.0,
        revocation_check: tuple[str, ...] = ("OCSP",),
        http: httpx.Client | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/cms/verify"
        self.revocation_check = list(revocation_check)
        self.http = http or client(timeout=timeout)

    def verify(self, data: bytes, signature: bytes) -> VerifiedSignature:
        body = {
            "cms": base64.b64encode(signature).decode(),
            "data": base64.b64encode(data).decode(),
            "revocationCheck": self.revocation_check,
        }
        try:
            response = self.http.post(self.url, json=body)
        except httpx.TransportError as exc:
            raise transport_failure(SYSTEM, exc) from None
        if response.status_code == 400:
            raise SignatureInvalid(f"NCANode cannot read the signature: {_field(_json(response), 'message')}")
        if response.status_code != 200:
            raise unwanted_answer(SYSTEM, response)
        answer = _json(response)
        signer = _first(answer.get("signers"))
        cert = _first(signer.get("certificates") or signer.get("signers"))
        if not answer.get("valid"):
            why = _field(signer, "message") or _field(signer, "status") or "the signature does not verify"
            raise SignatureInvalid(f"NCANode: {why}")
        subject = cert.get("subject")
        if not isinstance(subject, dict):
            raise SignatureInvalid("NCANode named no signer's certificate")
        tsp = signer.get("tsp")
        return VerifiedSignature(
            subject=_field(subject, "dn") or _field(subject, "commonName"),
            iin=_field(subject, "iin") or None,
            bin=_field(subject, "bin") or None,
            serial=_field(cert, "serialNumber"),
            signing_time=_instant(tsp.get("genTime")) if isinstance(tsp, dict) else None,
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _first(items: Any) -> dict[str, Any]:
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return {}


def _field(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return str(value) if value is not None else ""


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
