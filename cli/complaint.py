"""``starter.py complaint``: file a complaint, the provider's satisfaction or forwarding, the considering
body's decision, withdrawal, and showing a complaint (58 p.10; 665/NK p.10; Law on public services art. 25).

Aliases of the generated ``case`` commands for the ``complaint`` procedure.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.text import Text

from cli.alias import CASE, FILE, ID_ONLY, RECEIVED_NOW, Alias, opt, register

__all__ = ["ALIASES", "app"]

app = typer.Typer(no_args_is_help=True, help=__doc__)

PROCEDURE = "complaint"


def _filed(started: Any, complaint: Any) -> Text:
    return Text.assemble(f"{'filed' if started.created else 'already filed'}: ", (started.case_id, "bold"))


def _said(answer: Any, body: Any) -> str:
    return str(answer.result)


ALIASES = (
    Alias(
        "file",
        PROCEDURE,
        "start",
        "Register a complaint; the same complaint filed twice gives the same case.",
        (FILE, RECEIVED_NOW, ID_ONLY),
        say=_filed,
    ),
    Alias(
        "satisfy",
        PROCEDURE,
        "send",
        "The provider fully satisfies the complaint within its 3 working days; it is not forwarded, and the appealed "
        "case (if any) is instructed as by an upheld decision.",
        (
            CASE(),
            opt("action", str, field="action_taken", help="the decision or action taken"),
            opt("by", str, field="decided_by", help="who decided"),
            opt(
                "instruction",
                str,
                default=None,
                help="what the appealed case must do: reopen | lift_suspension | reconsider "
                "(default: reopen for an appealed decision, else reconsider)",
            ),
        ),
        event="satisfy",
        say=_said,
    ),
    Alias(
        "forward",
        PROCEDURE,
        "send",
        "Forward the complaint and the administrative case now (otherwise it happens by itself).",
        (
            CASE(),
            opt("by", str, field="forwarded_by"),
            opt("body", str, default="higher administrative body", help="the body considering it"),
        ),
        event="forward",
        say=_said,
    ),
    Alias(
        "decide",
        PROCEDURE,
        "send",
        "The considering body's decision; an upheld one instructs the appealed case.",
        (
            CASE(),
            opt("outcome", str, help="upheld, partly_upheld or rejected"),
            opt("reasons", str),
            opt("by", str, field="decided_by"),
            opt("instruction", str, default=None, help="reopen | lift_suspension | reconsider"),
        ),
        event="review_decision",
        say=_said,
    ),
    Alias(
        "withdraw",
        PROCEDURE,
        "send",
        "The complainant withdraws the complaint.",
        (CASE(), opt("reason", str)),
        event="withdraw",
        say=_said,
    ),
    Alias(
        "show",
        PROCEDURE,
        "show",
        "Status, terms with their explanation, documents, outside calls waiting, and what can be done now.",
        (CASE(),),
    ),
)
register(app, ALIASES)
