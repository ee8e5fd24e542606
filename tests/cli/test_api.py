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


@pytest.mark.parametrize(
    "roles",
    [
        ["operator:egov_portal", "operator:biometric_id"],  # act 58: the portal's request, the provider's verdict
        ["operator:almatel_signing_page", "operator:biometric_id"],  # almatel-eds step 6
    ],
)
def test_a_key_whose_roles_check_one_another_is_refused(roles: list[str]) -> None:
    """One key held the e-gov portal's role and the biometric provider's, so one system started a connection request
    and reported its own biometric verdict on it (an adversarial run, 2026-12-04). The pairs come from the catalogue
    (``ProcedureSpec.checkers``); the operator's own systems may share a key."""
    from api.auth import list_keys
    from starter import app

    before = len(list_keys())
    args = ["api", "create-key", "--name", "x", *(a for r in roles for a in ("--role", r)), "--bin", CENTRE]
    refused = CliRunner().invoke(app, args)
    said = " ".join(refused.output.split())  # as wrapped on the terminal
    assert refused.exit_code == 1 and "one key may not hold both" in said and all(r in said for r in roles), said
    assert len(list_keys()) == before
    own = ["--role", "operator:almatel_technician", "--role", "operator:almatel_signing_page"]
    assert CliRunner().invoke(app, ["api", "create-key", "--name", "AlmaTel", *own, "--bin", CENTRE]).exit_code == 0


async def test_a_key_made_before_with_roles_that_check_one_another_acts_on_nothing() -> None:
    """A key made with such a mix before ``create_key`` refused it is refused at use (403), naming the fix; each
    role's own key still acts."""
    from api.auth import create_key, verify_key
    from api.problems import ProblemError
    from api.security import require
    from infra.db import session
    from models.tables import ApiKey

    key, row = create_key("portal (before the rule)", ["operator:egov_portal"], CENTRE)
    portal = frozenset({"operator:egov_portal"})
    start = require(portal, "start egov_number_connection cases")
    principal = verify_key(key)
    assert principal is not None and (await start(principal)).roles == portal
    with session() as s:  # as create_key made it before the rule
        stored = s.get(ApiKey, row.key_id)
        assert stored is not None
        stored.roles = "operator:biometric_id,operator:egov_portal"
        s.add(stored)
    mixed = verify_key(key)
    assert mixed is not None
    for dependency in (start, require(frozenset({"operator:biometric_id"}), "send report_biometrics")):
        with pytest.raises(ProblemError) as caught:
            await dependency(mixed)
        assert caught.value.status == 403 and "check one another" in caught.value.detail
        assert "create-key" in caught.value.detail


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
    for name in ("Evil \u202eknab", "zero\u200bwidth", "Asel\U000e0041\U000e0042", "Asel\u200dBekova"):
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
