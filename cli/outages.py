"""``starter.py outage``: rehearse an outside system's outage (local implementations only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer

from cli.common import console

app = typer.Typer(no_args_is_help=True)


def _system(name: str) -> str:
    from infra import outages  # the database and Temporal's SDK load only when a command runs

    if name not in outages.SYSTEMS:
        raise typer.BadParameter(f"one of: {', '.join(outages.SYSTEMS)}", param_hint="SYSTEM")
    return name


@app.command("down")
def down(
    system: str = typer.Argument(..., callback=_system, help="e.g. sms_gateway, antifraud_centre"),
    minutes: int = typer.Option(60, min=1, help="how long it refuses connections"),
    permanent: bool = typer.Option(False, help="refuse for good: cases show the failure instead of retrying"),
    reason: str = typer.Option("rehearsal", help="why"),
) -> None:
    """The system refuses connections for a while (cases retry with back-off and show the delay)."""
    from infra import outages

    outages.begin(
        system, datetime.now(UTC), None if permanent else timedelta(minutes=minutes), reason, permanent=permanent
    )
    console.print(f"{system} down {'permanently' if permanent else f'for {minutes} min'}")


@app.command("up")
def up(system: str = typer.Argument(..., callback=_system)) -> None:
    """End the system's outage at once."""
    from infra import outages

    console.print(f"{system} up ({outages.end(system)} outage window(s) removed)")
