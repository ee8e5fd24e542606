"""Back-office command line: start cases, send them events, show and list cases.

`case …` is generated from the procedure catalogue (any procedure, any event); the per-procedure groups
(`permit`, `complaint`, `fraud`, `subscriber`) are aliases of it with the options operators' scripts use.
Shell completion: `kz-starter --install-completion`.
"""

from __future__ import annotations

import sys

import typer

from rules.law import LawFileError, book

try:  # the commands' help and every case name the law: a wrong law file is one line, not a traceback
    book()
except LawFileError as exc:
    sys.exit(f"the law files cannot be read: {exc}")

from cli import api, case, cases, complaint, demo, keys, law, outages, permit, subscriber
from cli import fraud as fraud_cli
from infra.console import run_app
from rules.law import cite, cite_range

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
app.add_typer(case.app, name="case", help="any procedure, from the catalogue: start, send an event, show, events")
app.add_typer(cases.app, name="cases", help="any case: terms, deadlines, list, calendar corrections")
app.add_typer(law.app, name="law", help="the law as dated data: terms, paragraphs, law migrations, coverage")
app.add_typer(permit.app, name="permit", help="MVNO permit (665/NK): aliases of `case …`; list, document")
app.add_typer(
    complaint.app,
    name="complaint",
    help=f"complaint appeals ({cite('58', 'p.10')}; {cite('665/NK', 'p.10')}): aliases of `case …`",
)
app.add_typer(
    fraud_cli.app,
    name="fraud",
    help=f"fraud ({cite_range('171', 'p.116', 'p.120')}): aliases of `case …`; bulk intake",
)
app.add_typer(outages.app, name="outage", help="rehearse an outside system's outage (local implementations)")
app.command("demo", help="demo keys and one case of each procedure (idempotent)")(demo.demo)
app.add_typer(api.app, name="api", help="API keys of operator systems and console users")
app.add_typer(keys.app, name="keys", help="the installation's key material, made once for every host")
app.add_typer(
    subscriber.app,
    name="subscriber",
    help=f"acts 58, {cite_range('171', 'p.55-1', 'p.55-6')}, almatel-eds, 71: aliases of `case …`; demo helpers",
)


def main() -> None:
    """Console entry point."""
    run_app(app)


if __name__ == "__main__":
    main()
