"""``starter.py api``, the API keys' commands (``cli.api``): a key is printed once and stored hashed, a bad role
is refused, a revoked key no longer verifies."""

from __future__ import annotations

import re

from typer.testing import CliRunner


def test_cli_creates_a_key_printed_once_and_stored_hashed() -> None:
    from api.auth import list_keys, verify_key
    from starter import app

    result = CliRunner().invoke(
        app, ["api", "create-key", "--name", "antifraud centre", "--role", "operator:antifraud_centre"]
    )
    assert result.exit_code == 0, result.output
    key = re.search(r"kz_[0-9a-f]{12}\.\S+", result.output)
    assert key is not None
    principal = verify_key(key.group(0))
    assert principal is not None and principal.roles == {"operator:antifraud_centre"}
    stored = next(k for k in list_keys() if k.key_id == principal.key_id)
    assert key.group(0).split(".")[1] not in stored.secret_sha256
    bad = CliRunner().invoke(app, ["api", "create-key", "--name", "x", "--role", "admin"])
    assert bad.exit_code == 1
    revoked = CliRunner().invoke(app, ["api", "revoke-key", principal.key_id])
    assert revoked.exit_code == 0 and verify_key(key.group(0)) is None
