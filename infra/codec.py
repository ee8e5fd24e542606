"""Encryption of every payload Temporal stores (inputs, results, update arguments, memos, failure messages).

AES-256-GCM with key ids and rotation: the keyring's first key encrypts, every key decrypts. An encrypted
payload is ``{"encoding": "binary/encrypted", "encryption-key-id": <id>}`` + nonce‖ciphertext of the whole
original payload (its metadata and data), with the key id as associated data. Payloads with any other
encoding (histories recorded before the codec, search attributes) pass through unchanged.

**Compressed before sealing.** A payload of ``COMPRESS_FROM`` bytes or more whose zlib form is smaller is sealed
compressed, marked ``"encryption-compression": "zlib"``, with the marker in the associated data too (so it cannot
be added or stripped unnoticed). JSON records compress three- to fivefold: a case's history, which the server
stores and rewrites, is that much lighter (issue 18). Payloads sealed before, uncompressed, still read. Their
lengths tell someone who reads the server's store without the keys a little about how repetitive a record is; no
outsider can add text to a record and watch its length change without it being recorded in the case.
``KZ_CODEC_COMPRESS_FROM`` sets the threshold.

**With a preset dictionary.** A record of a few hundred bytes gives zlib little to match within itself; the same
field names, term texts and citations recur in every case. Packing starts from a dictionary of such records
(``infra/dictionaries/<name>.zdict``, built from the golden histories by ``scripts/codec_dictionary.py``, no
person's data in it), marked ``"encryption-compression": "zlib+<name>"``: the packed records are 25–60% smaller
than zlib's alone. A dictionary is frozen once it has packed a payload (its SHA-256 is pinned here); a new one
gets a new name, and every dictionary ever used stays readable. ``KZ_CODEC_DICTIONARY`` names the one that packs
(empty: plain zlib, for a rolling upgrade from a build that does not read it yet).

Keys come from ``KZ_CODEC_KEYS`` (``id=base64key,id=base64key``, first encrypts) or from the key file
(``KZ_CODEC_KEY_FILE``, default ``<data dir>/codec-keys.json``), which the dev setup generates on first
run unless key generation is off (``KZ_KEY_GENERATION=false``, the one switch for every key; the older
``KZ_CODEC_GENERATE=false`` still turns it off for the codec). ``encode_payloads_json``/``decode_payloads_json``
implement the remote codec protocol of the Temporal web UI and CLI (``--codec-endpoint``).

**Strict and lenient decoding.** A *strict* codec (``strict_codec``: the worker and the API) never lets a
payload without the encryption marker through: it hands the converter a payload of encoding
``binary/unencrypted-refused`` instead, which ``infra.client.StrictPayloadConverter`` refuses with an
``ApplicationError`` of type ``UnencryptedPayload``. So a decision sent in clear by a client without the codec
(the Temporal CLI, a script) is rejected by the workflow as an Update the case never takes, a clear start
fails its workflow at once, and a clear signal is dropped. Only the encodings of the explicit allow-list
``CLEAR_ALLOWED`` may come in clear, and it is empty: every payload our processes write is encrypted. The
*lenient* codec (``default_codec``: the replayer, the audit tool, golden histories stored decrypted) passes clear
payloads through, so histories recorded before the codec still read.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from hashlib import sha256
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf import json_format
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from infra.keys import create_exclusive
from infra.settings import settings

__all__ = [
    "CLEAR_ALLOWED",
    "COMPRESSION",
    "COMPRESS_FROM",
    "DICTIONARIES",
    "ENCODING",
    "KEY_ID",
    "REFUSED",
    "CodecError",
    "EncryptionCodec",
    "KeyRing",
    "decode_payloads_json",
    "default_codec",
    "encode_payloads_json",
    "load_keyring",
    "strict_codec",
]

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
REFUSED = b"binary/unencrypted-refused"
"""What a strict codec hands the converter in place of a payload that came without encryption."""
REFUSED_ENCODING = "refused-encoding"
CLEAR_ALLOWED: frozenset[bytes] = frozenset()
"""The encodings a strict codec lets through in clear: none. Every payload the engine's processes write goes
through the codec, and people use the Temporal CLI and web UI through the codec endpoint (``/codec``). An entry
here would let anyone who reaches the Temporal frontend send that kind of payload to a case."""
_NONCE = 12
_TAG = 16
COMPRESSION = "encryption-compression"
_ZLIB = b"zlib"
COMPRESS_FROM = 256
"""Payloads shorter than this are sealed as they are (zlib's header and a short text gain nothing)."""
DICTIONARIES: dict[str, str] = {
    "kz1": "dcd31c7944d8c9cfd46c7f5834cec3295dbf047d000db302a6bff5cd524aac5b",
}
"""Every preset dictionary payloads may be packed with, by name, with its SHA-256 (the file must never change)."""
DICTIONARY = "kz1"
"""The dictionary that packs by default."""
_DICTIONARY_DIR = Path(__file__).resolve().parent / "dictionaries"


class CodecError(ValueError):
    """A payload or request the codec cannot handle (unknown key, tampered data, malformed body)."""


class CodecSettings(BaseSettings):
    """Where the keys come from (environment prefix ``KZ_``)."""

    model_config = SettingsConfigDict(env_prefix="KZ_", env_file=".env", extra="ignore")

    codec_keys: str = ""
    codec_key_file: Path | None = None
    codec_generate: bool = True
    """The older, codec-only switch: ``false`` turns generation off for the codec whatever ``KZ_KEY_GENERATION``
    says."""
    codec_compress_from: int = Field(default=COMPRESS_FROM, ge=0)
    """``KZ_CODEC_COMPRESS_FROM``: payloads this long or longer are packed before sealing (a value above any payload
    turns packing off)."""
    codec_dictionary: str = DICTIONARY
    """``KZ_CODEC_DICTIONARY``: the preset dictionary packing starts from; empty for zlib alone."""

    @field_validator("codec_dictionary")
    @classmethod
    def _known(cls, name: str) -> str:
        if name and name not in DICTIONARIES:
            raise ValueError(
                f"KZ_CODEC_DICTIONARY names no preset dictionary: one of {', '.join(DICTIONARIES)}, or empty for "
                "zlib alone"
            )
        return name


@dataclass(frozen=True)
class KeyRing:
    """Named 256-bit keys; ``active`` encrypts, all decrypt (rotation keeps old ids readable)."""

    keys: dict[str, bytes]
    active: str
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise CodecError(f"active key {self.active!r} is not in the keyring")
        for kid, key in self.keys.items():
            if not kid or any(c in kid for c in ",= "):
                raise CodecError(f"bad key id {kid!r}: no commas, spaces or '='")
            if len(key) != 32:
                raise CodecError(f"key {kid!r} must be 32 bytes (AES-256), got {len(key)}")

    @classmethod
    def from_spec(cls, spec: str, source: str = "KZ_CODEC_KEYS") -> KeyRing:
        """Parse ``id=base64key,id=base64key``; the first key encrypts."""
        keys: dict[str, bytes] = {}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            kid, sep, b64 = item.partition("=")
            if not sep:
                raise CodecError(f"{source}: expected id=base64key, got an item without '='")
            try:
                keys[kid.strip()] = base64.b64decode(b64.strip() + "=" * (-len(b64.strip()) % 4), validate=True)
            except binascii.Error:
                raise CodecError(f"{source}: key {kid.strip()!r} is not valid base64") from None
        if not keys:
            raise CodecError(f"{source}: no keys")
        return cls(keys=keys, active=next(iter(keys)), source=source)

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        """Read a key file: ``{"keys": [{"id": ..., "key": base64, "created": ...}, ...]}``, first encrypts."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            items = [(k["id"], k["key"]) for k in doc["keys"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CodecError(f"{path}: not a codec key file ({exc.__class__.__name__})") from None
        return cls.from_spec(",".join(f"{kid}={key}" for kid, key in items), source=str(path))

    def spec(self) -> str:
        """The keyring as a ``KZ_CODEC_KEYS`` value (active key first)."""
        order = [self.active, *(k for k in self.keys if k != self.active)]
        return ",".join(f"{k}={base64.b64encode(self.keys[k]).decode()}" for k in order)


def new_key_id() -> str:
    """A key id that sorts by creation time: ``k<UTC timestamp>``."""
    return "k" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


def write_key_file(path: Path, ring: KeyRing, *, exclusive: bool = False) -> None:
    """Write ``ring`` to ``path`` readable by the owner only (active key first).

    With ``exclusive`` an existing file is kept (``FileExistsError``): processes starting together
    (worker, API) cannot each create a different first key.
    """
    order = [ring.active, *(k for k in ring.keys if k != ring.active)]
    doc = {"keys": [{"id": k, "key": base64.b64encode(ring.keys[k]).decode()} for k in order]}
    data = json.dumps(doc, indent=1).encode()
    if exclusive:
        if not create_exclusive(path, data):  # another process created the file first
            raise FileExistsError(path)
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def rotate_key_file(path: Path) -> KeyRing:
    """Put a new key in front of the file's keys: it encrypts from now on, the old ones still decrypt."""
    old = KeyRing.from_file(path)
    kid = new_key_id()
    if kid in old.keys:
        raise CodecError(f"key id {kid} exists already; rotate again in a second")
    ring = KeyRing(keys={kid: AESGCM.generate_key(bit_length=256), **old.keys}, active=kid, source=str(path))
    write_key_file(path, ring)
    return ring


def load_keyring(cfg: CodecSettings | None = None) -> KeyRing:
    """The keyring from ``KZ_CODEC_KEYS``, else the key file (generated on first run in the dev setup)."""
    cfg = cfg or CodecSettings()
    if cfg.codec_keys.strip():
        return KeyRing.from_spec(cfg.codec_keys)
    path = cfg.codec_key_file or settings().data_dir / "codec-keys.json"
    if path.exists():
        return KeyRing.from_file(path)
    if not (cfg.codec_generate and settings().key_generation):
        raise CodecError(
            f"no payload encryption key: set KZ_CODEC_KEYS or provide {path} "
            "(key generation is off: KZ_KEY_GENERATION=false)"
        )
    kid = new_key_id()
    ring = KeyRing(keys={kid: AESGCM.generate_key(bit_length=256)}, active=kid, source=str(path))
    try:
        write_key_file(path, ring, exclusive=True)
    except FileExistsError:
        return KeyRing.from_file(path)
    return ring


@cache
def dictionary(name: str) -> bytes:
    """The preset dictionary ``name``, checked against its pinned SHA-256."""
    if name not in DICTIONARIES:
        raise CodecError(f"no preset dictionary {name!r} (known: {', '.join(DICTIONARIES)})")
    data = (_DICTIONARY_DIR / f"{name}.zdict").read_bytes()
    if sha256(data).hexdigest() != DICTIONARIES[name]:
        raise CodecError(f"preset dictionary {name!r} is not the one payloads were packed with (SHA-256 differs)")
    return data


@cache
def _primed(name: str) -> Any:
    """A compressor primed with dictionary ``name``, copied for each payload (priming costs more than packing)."""
    return zlib.compressobj(6, zdict=dictionary(name))


def _pack(clear: bytes, name: str) -> bytes:
    if not name:
        return zlib.compress(clear, 6)
    packer = _primed(name).copy()
    return bytes(packer.compress(clear) + packer.flush())


def _unpack(packed: bytes, name: str) -> bytes:
    if not name:
        return zlib.decompress(packed)
    unpacker = zlib.decompressobj(zdict=dictionary(name))
    return bytes(unpacker.decompress(packed) + unpacker.flush())


def _dictionary_named(compression: bytes) -> str | None:
    """The preset dictionary a compression marker names (``""`` for zlib alone), or None for one this codec lacks."""
    if compression == _ZLIB:
        return ""
    name = compression.decode(errors="replace").removeprefix("zlib+")
    return name if compression.startswith(b"zlib+") and name in DICTIONARIES else None


def _associated(kid: str, compression: bytes | None) -> bytes:
    """The associated data a payload is sealed with: its key id, and its compression when compressed."""
    return kid.encode() if compression is None else kid.encode() + b"/" + compression


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM payload codec with key ids; synchronous variants for code outside an event loop.

    ``strict``: a payload without the encryption marker is not passed through but replaced by a ``REFUSED``
    payload, which the strict converter refuses (see the module's docstring), unless its encoding is in
    ``allow_clear`` (by default the empty ``CLEAR_ALLOWED``).
    """

    def __init__(
        self,
        ring: KeyRing,
        *,
        strict: bool = False,
        allow_clear: frozenset[bytes] = CLEAR_ALLOWED,
        compress_from: int = COMPRESS_FROM,
        packing_dictionary: str = DICTIONARY,
    ) -> None:
        self.ring = ring
        self.strict = strict
        self.allow_clear = allow_clear
        self.compress_from = compress_from
        self.packing_dictionary = packing_dictionary
        self._marker = f"zlib+{packing_dictionary}".encode() if packing_dictionary else _ZLIB
        if packing_dictionary:
            dictionary(packing_dictionary)  # a missing or changed file fails here, not at the first long payload
        self._aead = {kid: AESGCM(key) for kid, key in ring.keys.items()}

    def encode_one(self, payload: Payload) -> Payload:
        """Encrypt one payload with the active key (already encrypted payloads are left as they are)."""
        if payload.metadata.get("encoding") == ENCODING:
            return payload
        kid = self.ring.active
        nonce = secrets.token_bytes(_NONCE)
        clear = payload.SerializeToString()
        metadata = {"encoding": ENCODING, KEY_ID: kid.encode()}
        if len(clear) >= self.compress_from:
            packed = _pack(clear, self.packing_dictionary)
            if len(packed) < len(clear):
                clear = packed
                metadata[COMPRESSION] = self._marker
        sealed = self._aead[kid].encrypt(nonce, clear, _associated(kid, metadata.get(COMPRESSION)))
        return Payload(metadata=metadata, data=nonce + sealed)

    def decode_one(self, payload: Payload) -> Payload:
        """Decrypt one payload; payloads that are not ours pass through unchanged, or, strict, are refused."""
        encoding = payload.metadata.get("encoding")
        if encoding != ENCODING:
            if self.strict and encoding != REFUSED and encoding not in self.allow_clear:
                return Payload(metadata={"encoding": REFUSED, REFUSED_ENCODING: encoding or b"(none)"})
            return payload
        kid = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        aead = self._aead.get(kid)
        if aead is None:
            raise CodecError(f"payload encrypted with key {kid!r}, which is not in the keyring ({self.ring.source})")
        compression = payload.metadata.get(COMPRESSION)
        packing = None if compression is None else _dictionary_named(compression)
        if compression is not None and packing is None:
            raise CodecError(f"payload under key {kid!r} is compressed with {compression!r}, which this codec lacks")
        if len(payload.data) < _NONCE + _TAG:
            raise CodecError(f"payload under key {kid!r} is too short to be sealed ({len(payload.data)} bytes)")
        try:
            clear = aead.decrypt(payload.data[:_NONCE], payload.data[_NONCE:], _associated(kid, compression))
        except InvalidTag:
            raise CodecError(f"payload under key {kid!r} does not authenticate (tampered or wrong key)") from None
        if packing is not None:
            clear = _unpack(clear, packing)
        out = Payload()
        out.ParseFromString(clear)
        return out

    def encode_sync(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encode_one(p) for p in payloads]

    def decode_sync(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decode_one(p) for p in payloads]

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.encode_sync(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.decode_sync(payloads)


@cache
def default_codec() -> EncryptionCodec:
    """The process's lenient codec with the configured keyring (read once): replayer, audit tool, goldens."""
    cfg = CodecSettings()
    return EncryptionCodec(
        load_keyring(), compress_from=cfg.codec_compress_from, packing_dictionary=cfg.codec_dictionary
    )


@cache
def strict_codec() -> EncryptionCodec:
    """The process's strict codec (same keyring): the worker and the API refuse payloads that came in clear."""
    lenient = default_codec()
    return EncryptionCodec(
        lenient.ring,
        strict=True,
        compress_from=lenient.compress_from,
        packing_dictionary=lenient.packing_dictionary,
    )


def _payloads_from_json(body: Any) -> list[Payload]:
    if not isinstance(body, dict) or not isinstance(body.get("payloads"), list):
        raise CodecError('expected a JSON object {"payloads": [...]}')
    out: list[Payload] = []
    for i, item in enumerate(body["payloads"]):
        try:
            out.append(json_format.ParseDict(item, Payload()))
        except (json_format.ParseError, TypeError, AttributeError):
            raise CodecError(f"payloads[{i}] is not a Payload (metadata and data in base64)") from None
    return out


def _payloads_to_json(payloads: Sequence[Payload]) -> dict[str, Any]:
    return {"payloads": [json_format.MessageToDict(p) for p in payloads]}


def encode_payloads_json(body: dict[str, Any], codec: EncryptionCodec | None = None) -> dict[str, Any]:
    """Remote codec ``/encode``: ``{"payloads": [{"metadata": {k: b64}, "data": b64}]}`` in and out."""
    return _payloads_to_json((codec or default_codec()).encode_sync(_payloads_from_json(body)))


def decode_payloads_json(body: dict[str, Any], codec: EncryptionCodec | None = None) -> dict[str, Any]:
    """Remote codec ``/decode`` (the web UI's ``--ui-codec-endpoint``): same shape, payloads decrypted."""
    return _payloads_to_json((codec or default_codec()).decode_sync(_payloads_from_json(body)))
