"""Back-office command line: start cases, record decisions, show and list cases.

Run ``python starter.py --help``; each procedure has its own group of commands.
"""

from __future__ import annotations

import typer

from cli import cases, permit

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
app.add_typer(cases.app, name="cases", help="any case: terms, deadlines, list, calendar corrections")
app.add_typer(permit.app, name="permit", help="MVNO permit (665/NK): start, decisions, show, list")


if __name__ == "__main__":
    app()
