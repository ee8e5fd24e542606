"""Back-office command line: start cases, record decisions, show and list cases.

Run ``python starter.py --help``; each procedure has its own group of commands.
"""

from __future__ import annotations

import typer

from cli import cases, complaint
from infra.console import run_app

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
app.add_typer(cases.app, name="cases", help="any case: terms, deadlines, list, calendar corrections")
app.add_typer(complaint.app, name="complaint", help="complaint appeals (58 p.10; 665/NK p.10)")


def main() -> None:
    """Console entry point."""
    run_app(app)


if __name__ == "__main__":
    main()
