"""The installation's key material, made once for every host: ``starter.py keys init``.

Several hosts (API, workers, the back office's ``starter.py``, auditors) must hold the same keys: the payload
codec's, the pseudonym key, the CA that signs the provider's documents and issues subscribers' EDS, the EDS
issuer key passwords are sealed to, and the console's session secret. ``keys init`` makes them all at random and
writes them as one env file (``KZ_…=value`` lines, PEM values as base64 on one line, so the file suits
``--env-file``, a Kubernetes secret or ``set -a; . file``), owner-only; put it in the secret store and give it
to every host with ``KZ_KEY_GENERATION=false`` (docs/PRODUCTION.md, "Several hosts").
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import typer
from rich.text import Text

from cli.common import console, err

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)

SETTINGS = (
    "KZ_CODEC_KEYS",
    "KZ_PSEUDONYM_KEY",
    "KZ_CA_KEY",
    "KZ_CA_CERT",
    "KZ_EDS_ISSUER_KEY",
    "KZ_SESSION_SECRET",
)


def new_key_material() -> dict[str, str]:
    """Every shared key of an installation, new, as the settings' values."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from activities.eds import new_issuer_key_pem
    from adapters.local_ca import new_root
    from infra.codec import KeyRing, new_key_id

    def b64(pem: bytes) -> str:
        return base64.b64encode(pem).decode()

    root = new_root()
    ca_key = root.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = new_key_id()
    return {
        "KZ_CODEC_KEYS": KeyRing(keys={kid: AESGCM.generate_key(bit_length=256)}, active=kid).spec(),
        "KZ_PSEUDONYM_KEY": secrets.token_urlsafe(32),
        "KZ_CA_KEY": b64(ca_key),
        "KZ_CA_CERT": b64(root.cert_pem),
        "KZ_EDS_ISSUER_KEY": b64(new_issuer_key_pem()),
        "KZ_SESSION_SECRET": secrets.token_urlsafe(48),
    }


@app.command("init")
def init(
    out: Path = typer.Option(..., "--out", dir_okay=False, help="the env file to write (0600); never overwritten"),
) -> None:
    """New key material for every host of an installation, written once to an env file (0600)."""
    values = new_key_material()
    text = "".join(f"{name}={values[name]}\n" for name in SETTINGS)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        err.print(
            Text.assemble(
                (f"{out} exists", "red"), ": key material is made once; keep it, or remove it on a fresh installation"
            )
        )
        raise typer.Exit(2) from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
    console.print(
        f"{out}: {', '.join(SETTINGS)}. Put it in the secret store; give it to every host (API, workers, "
        "starter, audit) with KZ_KEY_GENERATION=false."
    )
