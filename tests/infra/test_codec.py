"""The payload codec: personal data never leave the process in clear; rotation; the remote codec protocol."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from infra import codec as codec_module
from infra.client import UNENCRYPTED, data_converter, strict_data_converter
from infra.codec import (
    CLEAR_ALLOWED,
    COMPRESS_FROM,
    COMPRESSION,
    DICTIONARIES,
    ENCODING,
    KEY_ID,
    REFUSED,
    CodecError,
    CodecSettings,
    EncryptionCodec,
    KeyRing,
    decode_payloads_json,
    encode_payloads_json,
    load_keyring,
    rotate_key_file,
)

PERSON = {
    "iin": "850412350127",
    "name": "Айгерим Нурланқызы Сейтова",
    "phone": "+77015550142",
    "address": "Алматы, ул. Абая 150, кв. 12",
}


def ring(*ids: str) -> KeyRing:
    return KeyRing(keys={i: bytes([n]) * 32 for n, i in enumerate(ids, 1)}, active=ids[0])


def clear_json_payload(value: object) -> Payload:
    return pydantic_data_converter.payload_converter.to_payloads([value])[0]


def test_encoded_payload_holds_no_personal_data_in_clear() -> None:
    codec = EncryptionCodec(ring("k1"))
    original = clear_json_payload(PERSON)
    assert PERSON["iin"].encode() in original.SerializeToString()  # the control: JSON is clear text
    [sealed] = codec.encode_sync([original])
    raw = sealed.SerializeToString()
    for value in PERSON.values():
        assert value.encode() not in raw
    assert b"850412" not in raw and b"5550142" not in raw
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    assert codec.decode_sync([sealed]) == [original]


async def test_the_shared_converter_encrypts_and_restores_values() -> None:
    dc = data_converter()
    [payload] = await dc.encode([PERSON])
    assert payload.metadata["encoding"] == ENCODING
    assert PERSON["iin"].encode() not in payload.SerializeToString()
    assert await dc.decode([payload]) == [PERSON]


def test_unencrypted_payloads_pass_through_so_old_histories_still_decode() -> None:
    codec = EncryptionCodec(ring("k1"))
    plain = clear_json_payload({"status": "registered"})
    assert codec.decode_sync([plain]) == [plain]


def test_rotation_new_key_encrypts_and_old_ciphertexts_still_decrypt() -> None:
    old = EncryptionCodec(ring("k1"))
    [sealed_old] = old.encode_sync([clear_json_payload(PERSON)])
    rotated = EncryptionCodec(KeyRing(keys={"k2": b"\x07" * 32, "k1": b"\x01" * 32}, active="k2"))
    [sealed_new] = rotated.encode_sync([clear_json_payload(PERSON)])
    assert sealed_new.metadata[KEY_ID] == b"k2"
    assert rotated.decode_sync([sealed_old, sealed_new]) == [clear_json_payload(PERSON)] * 2
    with pytest.raises(CodecError, match="'k2', which is not in the keyring"):
        old.decode_sync([sealed_new])


def test_tampered_ciphertext_is_refused() -> None:
    codec = EncryptionCodec(ring("k1"))
    [sealed] = codec.encode_sync([clear_json_payload(PERSON)])
    sealed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(CodecError, match="does not authenticate"):
        codec.decode_sync([sealed])


def test_payload_moved_to_another_key_id_does_not_authenticate() -> None:
    codec = EncryptionCodec(KeyRing(keys={"k1": b"\x01" * 32, "k2": b"\x01" * 32}, active="k1"))
    [sealed] = codec.encode_sync([clear_json_payload(PERSON)])
    sealed.metadata[KEY_ID] = b"k2"  # same key bytes, but the id is authenticated data
    with pytest.raises(CodecError):
        codec.decode_sync([sealed])


def test_keys_from_environment_spec_first_encrypts() -> None:
    spec = f"new={base64.b64encode(b'n' * 32).decode()},old={base64.b64encode(b'o' * 32).decode()}"
    r = load_keyring(CodecSettings(codec_keys=spec))
    assert r.active == "new" and set(r.keys) == {"new", "old"}
    assert KeyRing.from_spec(r.spec()) == r
    with pytest.raises(CodecError, match="32 bytes"):
        KeyRing.from_spec("short=" + base64.b64encode(b"x" * 16).decode())
    with pytest.raises(CodecError, match="not valid base64"):
        KeyRing.from_spec("k=@@@")


def test_dev_key_file_is_generated_once_private_and_rotates(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "codec-keys.json"
    first = load_keyring(CodecSettings(codec_key_file=path))
    assert path.stat().st_mode & 0o077 == 0
    assert load_keyring(CodecSettings(codec_key_file=path)) == first
    [sealed] = EncryptionCodec(first).encode_sync([clear_json_payload(PERSON)])
    doc = json.loads(path.read_text())
    doc["keys"][0]["id"] = first.active + "x"  # rotate needs a fresh id even within the same second
    path.write_text(json.dumps(doc))
    rotated = rotate_key_file(path)
    assert rotated.active != first.active + "x" and len(rotated.keys) == 2
    with pytest.raises(CodecError):
        EncryptionCodec(rotated).decode_sync([sealed])  # the id was renamed above: no key for it


def test_production_setting_refuses_to_invent_a_key(tmp_path: Path) -> None:
    with pytest.raises(CodecError, match="no payload encryption key"):
        load_keyring(CodecSettings(codec_key_file=tmp_path / "missing.json", codec_generate=False))


def test_remote_codec_protocol_round_trip() -> None:
    codec = EncryptionCodec(ring("k1"))
    plain = clear_json_payload(PERSON)
    body = {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in plain.metadata.items()},
                "data": base64.b64encode(plain.data).decode(),
            }
        ]
    }
    encoded = encode_payloads_json(body, codec)
    [item] = encoded["payloads"]
    assert base64.b64decode(item["metadata"]["encoding"]) == ENCODING
    assert PERSON["iin"] not in json.dumps(encoded)
    decoded = decode_payloads_json(encoded, codec)
    assert decoded == body
    assert json.loads(base64.b64decode(decoded["payloads"][0]["data"])) == PERSON


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"payloads": "x"},
        {"payloads": [{"unknown": 1}]},
        {"payloads": [{"metadata": {"encoding": 5}}]},
        [],
    ],
)
def test_remote_codec_protocol_refuses_malformed_bodies(body: object) -> None:
    with pytest.raises(CodecError):
        decode_payloads_json(body, EncryptionCodec(ring("k1")))  # type: ignore[arg-type]


async def test_failure_messages_are_encrypted_too() -> None:
    from temporalio.api.failure.v1 import Failure
    from temporalio.exceptions import ApplicationError

    dc = data_converter()
    failure = Failure()
    await dc.encode_failure(ApplicationError(f"no registry record for {PERSON['iin']}", type="NotFound"), failure)
    assert PERSON["iin"].encode() not in failure.SerializeToString()
    assert failure.application_failure_info.type == "NotFound"  # the type stays readable for retry policies
    decoded = await dc.decode_failure(failure)
    assert isinstance(decoded, ApplicationError) and PERSON["iin"] in decoded.message


def test_processes_starting_together_agree_on_the_first_dev_key(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "codec-keys.json"
    with ThreadPoolExecutor(8) as pool:
        rings = list(pool.map(lambda _: load_keyring(CodecSettings(codec_key_file=path)), range(16)))
    assert len({r.spec() for r in rings}) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["codec-keys.json"]


async def test_the_strict_converter_refuses_a_clear_payload_and_the_lenient_one_reads_it() -> None:
    """The worker and the API decode strictly: a payload that came without encryption (the Temporal CLI, a script)
    is refused with ``UnencryptedPayload``; the replayer and the audit tool read it as it is (goldens, old
    histories). An encrypted payload reads the same in both."""
    clear = clear_json_payload(PERSON)
    assert await data_converter().decode([clear], [dict]) == [PERSON]
    with pytest.raises(ApplicationError) as refused:
        await strict_data_converter().decode([clear], [dict])
    assert refused.value.type == UNENCRYPTED and refused.value.non_retryable
    assert "without encryption" in refused.value.message and "json/plain" in refused.value.message
    sealed = await strict_data_converter().encode([PERSON])
    assert await strict_data_converter().decode(sealed, [dict]) == [PERSON]
    assert await data_converter().decode(sealed, [dict]) == [PERSON]


def test_only_the_explicit_allow_list_passes_a_strict_codec_in_clear() -> None:
    """The allow-list is empty: a strict codec turns every clear encoding into a refusal, ``binary/null``
    included; an encoding put on an allow-list passes as it is, the others are still refused."""
    assert not CLEAR_ALLOWED
    null, clear = clear_json_payload(None), clear_json_payload(PERSON)
    assert null.metadata["encoding"] == b"binary/null"
    strict = EncryptionCodec(ring("k1"), strict=True)
    assert [p.metadata["encoding"] for p in strict.decode_sync([null, clear])] == [REFUSED, REFUSED]
    allowing = EncryptionCodec(ring("k1"), strict=True, allow_clear=frozenset({b"binary/null"}))
    passed, refused = allowing.decode_sync([null, clear])
    assert passed == null and refused.metadata["encoding"] == REFUSED


def test_a_long_record_is_sealed_compressed_and_the_marker_cannot_be_stripped() -> None:
    """A term's record as the memo holds it: sealed compressed (a fraction of its clear size), read back whole;
    a short payload is sealed as it is; a payload sealed before compression existed still reads; removing or
    adding the compression marker does not authenticate."""
    codec = EncryptionCodec(ring("k1"), packing_dictionary="")
    record = clear_json_payload({"skipped": [{"day": f"2027-01-{d:02d}", "reason": "weekend"} for d in range(1, 29)]})
    [sealed] = codec.encode_sync([record])
    assert sealed.metadata[COMPRESSION] == b"zlib"
    assert len(sealed.data) < len(record.SerializeToString()) / 3
    assert codec.decode_sync([sealed]) == [record]
    short = clear_json_payload({"status": "met"})
    assert len(short.SerializeToString()) < COMPRESS_FROM
    [sealed_short] = codec.encode_sync([short])
    assert COMPRESSION not in sealed_short.metadata and codec.decode_sync([sealed_short]) == [short]
    # sealed uncompressed by an earlier codec: the key id alone as associated data
    nonce = b"\x00" * 12
    before = Payload(
        metadata={"encoding": ENCODING, KEY_ID: b"k1"},
        data=nonce + AESGCM(b"\x01" * 32).encrypt(nonce, record.SerializeToString(), b"k1"),
    )
    assert codec.decode_sync([before]) == [record]
    stripped = Payload(metadata={"encoding": ENCODING, KEY_ID: b"k1"}, data=sealed.data)
    added = Payload(metadata={**sealed_short.metadata, COMPRESSION: b"zlib"}, data=sealed_short.data)
    for tampered in (stripped, added):
        with pytest.raises(CodecError, match="does not authenticate"):
            codec.decode_sync([tampered])
    with pytest.raises(CodecError, match="compressed with b'lz4'"):
        codec.decode_sync([Payload(metadata={**sealed.metadata, COMPRESSION: b"lz4"}, data=sealed.data)])


def test_the_packing_threshold_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KZ_CODEC_COMPRESS_FROM", "1000000")
    assert CodecSettings().codec_compress_from == 1_000_000
    codec = EncryptionCodec(ring("k1"), compress_from=CodecSettings().codec_compress_from)
    [sealed] = codec.encode_sync([clear_json_payload({"text": "a" * 5000})])
    assert COMPRESSION not in sealed.metadata and len(sealed.data) > 5000


TERM_RECORD = {  # a term's record as a signing case's memo holds it (not from the dictionary's sources)
    "key": "step2",
    "deadline": {
        "term_key": "eds.step2",
        "label": "step2",
        "amount": 1440,
        "unit": "minutes",
        "direction": "after",
        "cite": "almatel-eds step 2 (operator setting)",
        "text": "the subscriber opens the unique link from 3344 (the link expires with it)",
        "start": "2026-12-02T09:08:32.076182Z",
        "due": "2026-12-03T09:08:32.076182Z",
        "calendar_version": "holidays-0.109+overrides-e3b0c44298fc",
    },
    "status": "met",
    "met_at": "2026-12-02T09:08:32.168100Z",
    "request": {"term_key": "eds.step2", "start": "2026-12-02T09:08:32.076182Z", "act": "almatel-eds"},
}


def test_a_record_is_packed_from_the_preset_dictionary_and_every_packing_reads() -> None:
    """Packed from ``kz1`` a term's record seals at least a quarter smaller than with zlib alone; it reads back whole,
    also by a codec that packs without a dictionary (every dictionary stays readable), and a record packed before
    dictionaries existed reads with one; swapping the marker does not authenticate; an unknown one is named."""
    with_dictionary, plain = EncryptionCodec(ring("k1")), EncryptionCodec(ring("k1"), packing_dictionary="")
    record = clear_json_payload(TERM_RECORD)
    [packed] = with_dictionary.encode_sync([record])
    [zlib_only] = plain.encode_sync([record])
    assert packed.metadata[COMPRESSION] == b"zlib+kz1" and zlib_only.metadata[COMPRESSION] == b"zlib"
    assert len(packed.data) < 0.75 * len(zlib_only.data)
    for reader in (with_dictionary, plain):
        assert reader.decode_sync([packed, zlib_only]) == [record, record]
    swapped = Payload(metadata={**packed.metadata, COMPRESSION: b"zlib"}, data=packed.data)
    with pytest.raises(CodecError, match="does not authenticate"):
        plain.decode_sync([swapped])
    with pytest.raises(CodecError, match="compressed with b'zlib\\+kz9'"):
        plain.decode_sync([Payload(metadata={**packed.metadata, COMPRESSION: b"zlib+kz9"}, data=packed.data)])


def test_a_dictionary_is_pinned_and_holds_no_person(monkeypatch: pytest.MonkeyPatch) -> None:
    """The file must be the one payloads were packed with: a different SHA-256 stops the codec at its start. The
    dictionary ships with the code: its long numbers in text are zeros and it names no one."""
    data = codec_module.dictionary("kz1")
    assert len(data) == 32 * 1024 and b'"term_key":"' in data
    quoted = re.findall(rb'"\+?(\d{10,12})"', data)  # IINs and phones, as values
    assert quoted and all(set(number) == {ord("0")} for number in quoted)
    assert not re.search(rb'"(full_name|surname|patronymic|email)":"[^"]', data)
    assert PERSON["name"].encode() not in data and "Асан".encode() not in data
    codec_module.dictionary.cache_clear()
    monkeypatch.setitem(DICTIONARIES, "kz1", "0" * 64)
    try:
        with pytest.raises(CodecError, match="not the one payloads were packed with"):
            EncryptionCodec(ring("k1"))
    finally:
        codec_module.dictionary.cache_clear()


def test_the_packing_dictionary_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CodecSettings().codec_dictionary == "kz1"
    monkeypatch.setenv("KZ_CODEC_DICTIONARY", "")
    assert CodecSettings().codec_dictionary == ""
    monkeypatch.setenv("KZ_CODEC_DICTIONARY", "kz9")
    with pytest.raises(ValueError, match="KZ_CODEC_DICTIONARY names no preset dictionary: one of kz1, or empty"):
        CodecSettings()


def test_the_dictionary_builder_never_overwrites_a_dictionary_and_scrubs_persons() -> None:
    builder = Path(__file__).resolve().parents[2] / "scripts" / "codec_dictionary.py"
    done = subprocess.run([sys.executable, str(builder), "kz1"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "exists" in done.stdout
    spec = importlib.util.spec_from_file_location("codec_dictionary", builder)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scrubbed = module.scrubbed(
        {"complainant": {"full_name": "Асанов Асан", "iin": "900101300126"}, "to": ["+77011234567"]}
    )
    assert scrubbed == {"complainant": {"full_name": "", "iin": "000000000000"}, "to": ["+00000000000"]}
