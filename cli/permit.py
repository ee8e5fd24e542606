"""``starter.py permit``: the MVNO permit procedure (665/NK) for back-office staff.

Aliases of the generated ``case`` commands (``case start mvno_permit``, ``case send CASE <event>``,
``case show``) with the options operators' scripts use; every decision is an Update with a validator, so a
decision that does not fit the case or breaks a rule is refused with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.text import Text

from cli import case, cases
from cli.alias import CASE, FILE, ID_ONLY, RECEIVED_NOW, Alias, arg, opt, register
from cli.common import when
from rules.law import cite
from rules.terms import term

if TYPE_CHECKING:
    from models.mvno_permit import QualificationDecision

__all__ = ["ALIASES", "app", "build_qualification", "parse_instant"]

app = typer.Typer(no_args_is_help=True, help=__doc__)

PROCEDURE = "mvno_permit"
_GROUNDS = f"refusal ground of {cite('665/NK', 'Annex 1 item 10')} (repeat; `case events mvno_permit` lists them)"


def parse_instant(value: str, name: str) -> datetime:
    """An ISO instant; one typed without an offset is Asia/Almaty time (every office in Kazakhstan keeps it)."""
    from rules.calendar import read_almaty

    try:
        return read_almaty(value)
    except ValueError:
        raise typer.BadParameter("not an ISO date-time", param_hint=name) from None


def _hearing_at(value: str | None) -> str | None:
    # The hearing's time is Asia/Almaty time when no zone is given (the notice states it so).
    return None if value is None else parse_instant(value, "--hearing-at").isoformat()


def _confirmed(value: bool) -> bool | None:
    return True if value else None


def _held_at(value: str) -> str:
    return parse_instant(value, "--held-at").isoformat()


def _receipt(answer: Any, body: Any) -> Text:
    r = answer.result
    at = when(datetime.fromisoformat(r["accepted_at"]))
    return Text.assemble(("accepted", "green"), f" {r['update']} at {at}: {r['note']}")


def _started(started: Any, application: Any) -> Text:
    return Text.assemble(
        "case ",
        (started.case_id, "bold"),
        f" (application {application.application_number})\nnext: python starter.py permit show {started.case_id}",
    )


def _send(name: str, event: str, help: str, *params: Any, **kw: Any) -> Alias:
    return Alias(name, PROCEDURE, "send", help, (CASE(), *params), event=event, say=_receipt, **kw)


_BY = opt("by", str, "--by", field="decided_by", help="the employee who decided")

ALIASES = (
    Alias(
        "start",
        PROCEDURE,
        "start",
        "Start the case of an application; the same application again joins its existing case.",
        (FILE, RECEIVED_NOW, ID_ONLY),
        say=_started,
    ),
    _send(
        "completeness",
        "completeness_decision",
        f"Record the completeness check ({cite('665/NK', 'p.6')}); incomplete → reasoned refusal to consider further.",
        opt("complete", bool, "--complete/--incomplete", help="the package is complete or not"),
        opt("reason", list[str], "--reason", field="reasons", default=[], help="why incomplete (repeat)"),
        _BY,
    ),
    _send(
        "qualification",
        "qualification_decision",
        f"Record the qualification check ({cite('665/NK', 'p.7')}): compliant → permit; otherwise preliminary "
        "refusal + hearing.",
        opt("compliant", bool, "--compliant/--not-compliant"),
        opt("ground", list[str], "--ground", field="grounds", default=[], help=_GROUNDS),
        opt("findings", str, default=None, help="what was found (the preliminary decision is reasoned)"),
        opt(
            "hearing_at",
            str,
            field="hearing.at",
            default=None,
            callback=_hearing_at,
            help="time and date of the hearing, e.g. 2027-03-24T15:00 (Asia/Almaty unless an offset is given)",
        ),
        opt("place", str, field="hearing.place", default=None, help="place of the hearing"),
        opt("means", str, field="hearing.means", default=None, help="e.g. a video-conference link"),
        opt(
            "outside_office_hours",
            bool,
            "--outside-office-hours",
            field="hearing.outside_office_hours_confirmed",
            default=False,
            callback=_confirmed,
            help=f"confirm a hearing set outside the provider's office hours ({cite('665/NK', 'Annex 1 item 8(2)')})",
        ),
        _BY,
    ),
    _send(
        "hearing",
        "record_hearing",
        f"Record the hearing and the applicant's position ({cite('665/NK', 'p.7')}).",
        opt("held_at", str, callback=_held_at, help="when the hearing was held (ISO; without an offset: Asia/Almaty)"),
        opt("position", str, field="applicant_position", default=None, help="the applicant's position"),
        opt(
            "absent",
            bool,
            "--absent",
            field="applicant_attended",
            default=False,
            to_field=lambda absent: not absent,
            help="the applicant did not attend",
        ),
        opt("by", str, "--by", field="recorded_by"),
    ),
    _send(
        "decide",
        "final_decision",
        "The decision after the hearing: the permit or a reasoned refusal (not before the first working day the "
        f"hearing notice precedes by {term('mvno.hearing_notice_lead').amount} working days).",
        opt("grant", bool, "--grant/--refuse"),
        opt("ground", list[str], "--ground", field="grounds", default=[], help=_GROUNDS),
        opt("reasons", str, default=None, help="the reasons of a refusal"),
        _BY,
    ),
    _send(
        "contract",
        "contract_event",
        f"A contract event after issue ({cite('665/NK', 'Annex 5')}): terminated early, ended without compliance, "
        "extended.",
        arg(
            "kind",
            str,
            help="what happened to the base-operator contract: "
            "terminated_early, ended_without_compliance or extended_compliance_confirmed",
        ),
        opt("contract_number", str, "--contract"),
        opt("occurred_on", datetime, "--on", formats=["%Y-%m-%d"], to_field=lambda d: d.date()),
        opt(
            "until",
            datetime,
            "--until",
            field="contract_valid_until",
            default=None,
            formats=["%Y-%m-%d"],
            to_field=lambda d: d.date(),
            help="new end of an extension",
        ),
        opt("note", str, default=None),
        opt("by", str, "--by", field="reported_by"),
    ),
    _send(
        "reopen",
        "reopen",
        f"Reopen a refused case for a new decision on an upheld complaint's instruction ({cite('665/NK', 'p.10')}).",
        opt("complaint", str, field="complaint_id", help="the upheld complaint's id"),
        opt("reason", str),
        opt(
            "stage",
            str,
            default=None,
            help="completeness_check | qualification_check (default: the stage that refused)",
        ),
    ),
    Alias(
        "show",
        PROCEDURE,
        "show",
        "A case: status, what it waits for, deadlines with their explanation, hearing, overrun, permit, documents.",
        (CASE(),),
    ),
)
register(app, ALIASES)
app.command("document", help="Export a document and its detached CMS signature. Alias of `starter.py case document`.")(
    case.document_command
)


@app.command("list")
def list_permits(
    status: str | None = typer.Option(None, help="e.g. completeness_check, hearing_scheduled, permit_valid"),
    overdue: bool = typer.Option(False, help="only cases with an outstanding breach"),
    all_: bool = typer.Option(False, "--all", help="closed cases too"),
) -> None:
    """List MVNO permit cases by status (visibility; no personal data is searchable)."""
    cases.list_cases(procedure=PROCEDURE, status=status, overdue=overdue, all_=all_)


def build_qualification(
    compliant: bool,
    grounds: list[str],
    findings: str | None,
    hearing_at: str | None,
    place: str | None,
    means: str | None,
    by: str,
    outside_office_hours: bool = False,
) -> QualificationDecision:
    """The qualification decision the ``qualification`` options make (validated by the model)."""
    from models.mvno_permit import QualificationDecision

    alias = next(a for a in ALIASES if a.name == "qualification")
    values = {"compliant": compliant, "ground": grounds, "findings": findings, "hearing_at": hearing_at}
    confirmed = _confirmed(outside_office_hours)
    body = alias.body({**values, "place": place, "means": means, "by": by, "outside_office_hours": confirmed})
    return QualificationDecision.model_validate(body)
