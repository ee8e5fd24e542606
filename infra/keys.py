"""The installation's own secrets in the data directory: read them, or generate them once, race-safe.

Every key a process needs (the payload codec's keys, ``infra.codec``; the pseudonym key, ``infra.pseudonym``; the
CA, ``adapters.local_ca``; the EDS issuer's sealing key, ``activities.eds``; the console's session secret,
``api.app``) comes from its setting (the secret store, in production) or from a file in the data directory, which the
first process that needs it (worker, API, command line or audit tool) generates at random while key
generation is on (``KZ_KEY_GENERATION``, default on). The file is written to a private temporary file and
linked into place, which fails when another process was first (``FileExistsError``): the loser reads the
winner's key, so processes starting together agree on one key. With generation off a missing key is an error
that names the setting, and ``require_keys`` turns it into a refusal to start.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Callable
from pathlib import Path

__all__ = ["KeyMissing", "create_exclusive", "pem_setting", "read_or_create", "require_keys"]


class KeyMissing(RuntimeError):
    """A key the process needs is neither configured nor in the data directory, and generation is off."""


def create_exclusive(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (mode 0600) unless the file exists; True when this call created it.

    The data go to a temporary file opened with ``O_EXCL`` and mode 0600, which is then hard-linked to ``path``:
    the link is atomic and fails when ``path`` exists, so a reader never sees a half-written key.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def read_or_create(path: Path, make: Callable[[], str], *, generate: bool, missing: str) -> str:
    """The text of the key file ``path``; generated with ``make()`` when missing and ``generate`` is on (the first
    of several processes wins, the others read its key). ``KeyMissing(missing)`` when absent and generation is
    off."""
    if not path.exists():
        if not generate:
            raise KeyMissing(missing)
        create_exclusive(path, make().encode())
    text = path.read_text(encoding="utf-8").strip()
    if not text:
        raise KeyMissing(f"{path} is empty: {missing}")
    return text


def pem_setting(value: str, name: str) -> bytes:
    """The PEM a setting holds: the PEM itself (several lines), or base64 of it on one line (what an env file, a
    container's ``--env-file`` or a Kubernetes secret can carry). ``KeyMissing`` naming ``name`` otherwise."""
    text = value.strip()
    if not text.startswith("-----BEGIN"):
        try:
            text = base64.b64decode("".join(text.split()), validate=True).decode("ascii").strip()
        except (binascii.Error, UnicodeDecodeError):
            text = ""
    if not text.startswith("-----BEGIN"):
        raise KeyMissing(f"{name} is neither a PEM nor base64 of a PEM")
    return text.encode() + b"\n"


def require_keys(process: str) -> None:
    """Load every key the process needs, or exit with a message that names the missing setting (exit code 1).

    Called first thing by the worker, the API and the command line, so a process without its keys refuses to
    start instead of failing on the first case (or inventing a key while generation is off). The worker and the
    API also load the CA and the EDS issuer key (the API seals passwords to it, the worker unseals, signs and
    issues) and the API its session secret; the command line loads those only when a command needs them, so that
    a quick command does not pay for reading an RSA key.
    """
    from infra.codec import CodecError, default_codec
    from infra.pseudonym import pseudonym_key
    from infra.settings import SettingsInvalid, settings

    try:
        settings()
    except SettingsInvalid as exc:
        raise SystemExit(f"{process} cannot start: {exc}") from None

    loads: list[Callable[[], object]] = [default_codec, pseudonym_key]
    if process in ("worker", "api"):
        from activities.eds import issuer_key
        from adapters.local_ca import local_ca

        loads += [local_ca, issuer_key]
    if process == "api":
        from api.app import session_secret

        loads.append(session_secret)
    problems = []
    for load in loads:
        try:
            load()
        except (KeyMissing, CodecError) as exc:
            problems.append(str(exc))
    if problems:
        raise SystemExit(f"{process} cannot start: " + "; ".join(problems))
