"""``starter.py api``, the API keys' commands (``cli.api``): a key is printed once and stored hashed, a bad role
is refused (an operator system no procedure knows too), a revoked key no longer verifies; an operator system's key
is bound to its organisation's BIN."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

CENTRE = "980540000129"


def test_cli_creates_a_key_printed_once_and_stored_hashed() -> None:
    from api.auth import list_keys, verify_key
    from starter import app

    result = CliRunner().invoke(
        app,
        ["api", "create-key", "--name", "antifraud centre", "--role", "operator:antifraud_centre", "--bin", CENTRE],
    )
    assert result.exit_code == 0, result.output
    key = re.search(r"kz_[0-9a-f]{12}\.\S+", result.output)
    assert key is not None
    principal = verify_key(key.group(0))
    assert principal is not None and principal.roles == {"operator:antifraud_centre"} and principal.bin == CENTRE
    stored = next(k for k in list_keys() if k.key_id == principal.key_id)
    assert key.group(0).split(".")[1] not in stored.secret_sha256
    bad = CliRunner().invoke(app, ["api", "create-key", "--name", "x", "--role", "admin"])
    assert bad.exit_code == 1
    revoked = CliRunner().invoke(app, ["api", "revoke-key", principal.key_id])
    assert revoked.exit_code == 0 and verify_key(key.group(0)) is None


def test_an_operator_key_needs_its_bin_and_a_persons_key_has_none() -> None:
    from api.auth import list_keys
    from starter import app

    before = len(list_keys())
    runs = {
        "no BIN": ["--name", "base operator", "--role", "operator:base_operator"],
        "wrong check digit": ["--name", "base operator", "--role", "operator:base_operator", "--bin", "980540000120"],
        "BIN on staff": ["--name", "A. Seitkali", "--role", "staff", "--bin", CENTRE],
        "mixed": ["--name", "x", "--role", "staff", "--role", "operator:base_operator", "--bin", CENTRE],
    }
    out = {what: CliRunner().invoke(app, ["api", "create-key", *args]) for what, args in runs.items()}
    assert all(r.exit_code == 1 for r in out.values()), {w: r.output for w, r in out.items()}
    assert "--bin" in out["no BIN"].output and "check digit" in out["wrong check digit"].output
    assert len(list_keys()) == before  # nothing was created
    listed = CliRunner().invoke(app, ["api", "list-keys"])
    assert listed.exit_code == 0 and "BIN" in listed.output


def test_a_bin_in_another_scripts_digits_is_refused() -> None:
    """``--bin ٩٨٠٥٤٠٠٠٠١٢٩`` made a key bound to a BIN no case lists (its cases name ``980540000129``): an
    adversarial run, 2026-12-04."""
    from api.auth import list_keys
    from starter import app

    before = len(list_keys())
    arabic = "".join(chr(0x660 + int(d)) for d in CENTRE)
    args = ["api", "create-key", "--name", "x", "--role", "operator:antifraud_centre", "--bin", arabic]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 1 and "BIN must be written in the digits 0–9 only" in refused.output, refused.output
    assert len(list_keys()) == before


def test_an_operator_role_no_procedure_takes_anything_from_is_refused() -> None:
    """``operator:nonexistent`` made a key that every start and event then refused (found by an adversarial review,
    2026-12-02); the command now refuses it and names the systems the catalogue knows."""
    from api.auth import list_keys
    from starter import app

    before = len(list_keys())
    args = ["api", "create-key", "--name", "x", "--role", "operator:nonexistent", "--bin", CENTRE]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 1
    assert "operator:nonexistent" in refused.output and "operator:egov_portal" in refused.output
    # a role with a newline after it matched the role pattern's "$" and made a key listed as "staff" that could do
    # nothing (the same review)
    newline = CliRunner().invoke(app, ["api", "create-key", "--name", "x", "--role", "staff\n"])
    assert newline.exit_code == 1 and "unknown role" in newline.output
    assert len(list_keys()) == before


def test_a_key_holders_name_with_an_invisible_character_is_refused() -> None:
    """The name is shown on the console and recorded as who started a case, and the console fills a decision's
    ``decided_by`` with it, which the edge then refuses: a key named with U+202E could decide nothing (found by an
    adversarial run, 2026-12-03)."""
    from api.auth import list_keys
    from starter import app

    before = len(list_keys())
    for name in ("Evil \u202eknab", "zero\u200bwidth"):
        refused = CliRunner().invoke(app, ["api", "create-key", "--name", name, "--role", "staff"])
        assert refused.exit_code == 1 and "holds the invisible character U+" in refused.output, refused.output
    assert len(list_keys()) == before
    ok = CliRunner().invoke(app, ["api", "create-key", "--name", "Әсел Нұрланқызы 👩\u200d💻", "--role", "staff"])
    assert ok.exit_code == 0, ok.output  # Kazakh letters and an emoji joined by U+200D are not hidden characters


def test_list_keys_shows_each_key_id_whole_on_a_narrow_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """On 80 columns the ids were cut (`ff402121cc…`) and `revoke-key` with what was shown found no key (an
    adversarial run of 2026-12-03)."""
    from api.auth import create_key
    from starter import app

    _, row = create_key("a holder with a rather long name for a narrow terminal", ["staff", "supervisor"])
    create_key("an operator system", ["operator:antifraud_centre"], CENTRE)  # a BIN column as wide as its BINs
    from cli.common import console

    monkeypatch.setattr(console, "width", 80)  # a terminal of 80 columns
    listed = CliRunner().invoke(app, ["api", "list-keys"])
    assert listed.exit_code == 0 and row.key_id in listed.output, listed.output
    revoked = CliRunner().invoke(app, ["api", "revoke-key", row.key_id])
    assert revoked.exit_code == 0, revoked.output
