"""The Temporal web UI's remote codec (``api.codec``): the functions encrypt and decrypt a pydantic payload; the
endpoint is for staff and auditors only, with CORS for the UI."""

from __future__ import annotations

import base64
import json

import httpx
from temporalio.contrib.pydantic import pydantic_data_converter

from infra.codec import decode_payloads_json, encode_payloads_json
from tests.api.conftest import Keys
from tests.api.procedures import CompletenessDecision


def _payloads(value: object) -> dict[str, object]:
    [p] = pydantic_data_converter.payload_converter.to_payloads([value])
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
        ]
    }


def test_codec_functions_encrypt_and_decrypt_a_pydantic_payload() -> None:
    body = _payloads(CompletenessDecision(complete=False, reason="no charter"))
    encoded = encode_payloads_json(body)
    sealed = encoded["payloads"][0]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert b"no charter" not in base64.b64decode(sealed["data"])
    decoded = decode_payloads_json(encoded)
    raw = base64.b64decode(decoded["payloads"][0]["data"])
    assert json.loads(raw) == {"complete": False, "reason": "no charter"}


async def test_codec_endpoint_decodes_for_staff_and_auditors_encodes_for_no_one_with_cors_for_the_ui(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    body = _payloads({"x": 1})
    for key in (keys.staff, keys.auditor):
        r = await http.post("/codec/decode", json=body, headers={"X-API-Key": key, "X-Namespace": "default"})
        assert r.status_code == 200, r.text
        assert json.loads(base64.b64decode(r.json()["payloads"][0]["data"])) == {"x": 1}
    sealed = encode_payloads_json(body)  # as the worker seals what it records
    assert sealed != body
    opened = await http.post("/codec/decode", json=sealed, headers={"X-API-Key": keys.auditor})
    assert json.loads(base64.b64decode(opened.json()["payloads"][0]["data"])) == {"x": 1}
    assert (await http.post("/codec/decode", json=body, headers={"X-API-Key": keys.bank})).status_code == 403
    # it seals for no one: a sealed payload sent to the Temporal frontend would pass the worker's strict codec and
    # move a case past the API's checks of who may do what
    for key in (keys.staff, keys.supervisor, keys.auditor):
        refused = await http.post("/codec/encode", json=body, headers={"X-API-Key": key})
        assert refused.status_code == 403 and "only decodes" in refused.json()["detail"]
    assert (await http.post("/codec/encode", json=body)).status_code == 401
    r = await http.post("/codec/decode", json=body)
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    r = await http.post("/codec/decode", content=b"{not json", headers={"X-API-Key": keys.staff})
    assert r.status_code == 422
    r = await http.post("/codec/decode", json={"payloads": [{"data": 5}]}, headers={"X-API-Key": keys.staff})
    assert r.status_code == 422 and "payloads[0]" in r.json()["detail"]
    # malformed beyond a payload's shape: each named for what it is, never a 500
    deep = b'{"payloads": [' + b"[" * 5000 + b"]" * 5000 + b"]}"
    r = await http.post("/codec/decode", content=deep, headers={"X-API-Key": keys.staff})
    assert r.status_code == 422 and "nested too deeply" in r.json()["detail"]
    [p] = sealed["payloads"]
    short = {"payloads": [{**p, "data": base64.b64encode(b"\x00" * 8).decode()}]}
    r = await http.post("/codec/decode", json=short, headers={"X-API-Key": keys.staff})
    assert r.status_code == 422 and "too short to be sealed" in r.json()["detail"]
    odd_key = {
        "payloads": [{**p, "metadata": {**p["metadata"], "encryption-key-id": base64.b64encode(b"\xff").decode()}}]
    }
    r = await http.post("/codec/decode", json=odd_key, headers={"X-API-Key": keys.staff})
    assert r.status_code == 422 and "not in the keyring" in r.json()["detail"]
    pre = await http.options(
        "/codec/decode",
        headers={
            "Origin": "http://localhost:8233",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "http://localhost:8233"
    assert pre.headers["access-control-allow-credentials"] == "true"
    other = await http.options(
        "/codec/decode", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in other.headers
    api = await http.options(
        "/v1/cases", headers={"Origin": "http://localhost:8233", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in api.headers  # CORS only on the codec
