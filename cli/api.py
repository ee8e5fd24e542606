"""API keys for operator systems and console users: create (the key is printed once), list, revoke."""

from __future__ import annotations

import typer
from rich.table import Table
from rich.text import Text

from cli.common import console, err, when

app = typer.Typer(no_args_is_help=True)


@app.command("create-key")
def create(
    name: str = typer.Option(..., help="who holds the key, e.g. 'antifraud centre' or 'A. Seitkali (back office)'"),
    role: list[str] = typer.Option(..., "--role", help="staff, auditor, supervisor or operator:<system>; repeatable"),
    bin_: str | None = typer.Option(
        None,
        "--bin",
        help="an operator system's organisation (BIN): the key acts only on that organisation's cases; required "
        "for operator:<system> roles, refused for the others",
    ),
) -> None:
    """Create a key and print it once; only its hash is stored."""
    from api.auth import create_key
    from workflows.catalogue import operator_roles

    unknown = sorted(r for r in set(role) if r.startswith("operator:") and r not in operator_roles())
    if unknown:
        systems = ", ".join(sorted(operator_roles()))
        names = ", ".join(unknown)
        err.print(
            Text.assemble(("invalid:", "red"), f" no procedure takes anything from {names}: the systems are {systems}")
        )
        raise typer.Exit(1)
    try:
        key, row = create_key(name, role, bin_)
    except ValueError as exc:
        err.print(Text.assemble(("invalid:", "red"), f" {exc}"))
        raise typer.Exit(1) from None
    org = f", BIN {row.bin}" if row.bin else ""
    console.print(f"key id {row.key_id} for {row.name} ({row.roles}{org}); store it now, it is not shown again:")
    print(key)


@app.command("list-keys")
def list_() -> None:
    """Every key: id, holder, roles, organisation (BIN), created, revoked (never the secret)."""
    from api.auth import list_keys

    t = Table(title="API keys")
    t.add_column("key id", no_wrap=True, min_width=12)  # whole: `revoke-key` takes it as shown
    for c in ("holder", "roles", "BIN", "created", "revoked"):
        t.add_column(c)
    for k in list_keys():
        t.add_row(
            k.key_id,
            k.name,
            k.roles,
            k.bin or "",
            when(k.created_at),
            when(k.revoked_at) if k.revoked_at else "",
        )
    console.print(t)


@app.command("revoke-key")
def revoke(key_id: str = typer.Argument(..., help="the key id shown by list-keys")) -> None:
    """Revoke a key at once (API calls and console sessions with it stop working)."""
    from api.auth import revoke_key

    if not revoke_key(key_id):
        err.print(Text(f"no key {key_id}", style="red"))
        raise typer.Exit(1)
    console.print(f"revoked {key_id}")
