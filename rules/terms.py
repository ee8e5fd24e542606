"""Every legal term of the procedures, as data with its citation (OpenFisca style).

A term has one unit; working days, calendar days, minutes and years never mix. Code asks this
table (``TERMS["mvno.completeness_check"]``) instead of restating a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["TERMS", "Direction", "Term", "Unit", "term"]


class Unit(StrEnum):
    """The unit a term is counted in."""

    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MINUTES = "minutes"
    YEARS = "years"


class Direction(StrEnum):
    """Whether a term runs after its start ("within N days") or before it ("no later than N days before")."""

    AFTER = "after"
    BEFORE = "before"


@dataclass(frozen=True)
class Term:
    """A legal term: an amount in one unit, what it governs, and where the law says so."""

    key: str
    amount: int
    unit: Unit
    cite: str
    text: str
    direction: Direction = Direction.AFTER
    # True where the seeds do not give the value and an operator must confirm it (see ``note``).
    to_be_confirmed: bool = False
    note: str = ""

    def describe(self) -> str:
        """Human-readable form, e.g. ``2 working days (665/NK p.6)``."""
        unit = self.unit.value.replace("_", " ")
        when = " before" if self.direction is Direction.BEFORE else ""
        return f"{self.amount} {unit}{when} ({self.cite})"


_TERMS: tuple[Term, ...] = (
    # -- 58: connecting a number to the e-government account
    Term(
        "egov.service_term",
        10,
        Unit.MINUTES,
        "58 Annex item 3",
        "service term of connecting a subscriber number to the portal account",
    ),
    # -- 665/NK: MVNO permit
    Term("mvno.service_term", 7, Unit.WORKING_DAYS, "665/NK Annex 1 item 4", "service term of the MVNO permit"),
    Term(
        "mvno.completeness_check",
        2,
        Unit.WORKING_DAYS,
        "665/NK p.6",
        "check of the completeness of the documents from registration",
    ),
    Term(
        "mvno.qualification_check",
        3,
        Unit.WORKING_DAYS,
        "665/NK p.7",
        "check of the qualification requirements (Annex 4)",
    ),
    Term(
        "mvno.hearing_notice_lead",
        3,
        Unit.WORKING_DAYS,
        "665/NK p.7",
        "the hearing notice is sent no later than this before the decision",
        direction=Direction.BEFORE,
    ),
    Term(
        "mvno.hearing_after_notice",
        2,
        Unit.WORKING_DAYS,
        "665/NK p.7",
        "the hearing is held no later than this from the notice",
    ),
    Term("mvno.permit_validity", 10, Unit.YEARS, "665/NK Annex 1 item 11", "validity of the MVNO permit"),
    Term(
        "mvno.service_info_retention",
        2,
        Unit.YEARS,
        "665/NK Annex 4 item 2 (220/NK)",
        "storage of service information on subscribers by the virtual operator",
    ),
    # -- complaints: 58 p.10, 665/NK p.10, Law on public services art. 25
    Term(
        "complaint.forward",
        3,
        Unit.WORKING_DAYS,
        "58 p.10; 665/NK p.10",
        "the provider forwards the complaint and the administrative case unless it fully satisfies it",
    ),
    Term(
        "complaint.review_provider",
        5,
        Unit.WORKING_DAYS,
        "Law on public services art. 25 p.2",
        "review of a complaint addressed to the service provider",
    ),
    Term(
        "complaint.review_quality_body",
        15,
        Unit.WORKING_DAYS,
        "Law on public services art. 25 p.2",
        "review of a complaint addressed to the authorised body for the quality of public services",
    ),
    # -- 171 ch.3: fraud
    Term(
        "fraud.check",
        2,
        Unit.WORKING_DAYS,
        "171 p.119",
        "check of a fraud report or of the antifraud centre's information",
    ),
    Term(
        "fraud.suspension",
        2,
        Unit.WORKING_DAYS,
        "171 p.120",
        "suspension of services to a number whose fraud is confirmed",
    ),
    Term(
        "fraud.not_confirmed_notice",
        2,
        Unit.WORKING_DAYS,
        "171 p.120",
        "informing the antifraud centre that the signs of fraud were not confirmed",
    ),
    Term(
        "fraud.suspension_notice",
        2,
        Unit.WORKING_DAYS,
        "171 p.120",
        "informing the antifraud centre of the suspension of a number whose fraud is confirmed",
    ),
    # -- 171 p.55-4: more than ten numbers for an individual
    Term(
        "numbers.review",
        5,
        Unit.WORKING_DAYS,
        "171 p.55-4, p.57(16)",
        "review of an application for more than ten numbers",
        to_be_confirmed=True,
        note="the p.57(16) term is not in the seeds; 5 working days is a placeholder to confirm",
    ),
    # -- 665/NK: MVNO permit, terms added by the permit workflow (issue 3)
    Term(
        "mvno.decision_after_notice",
        3,
        Unit.WORKING_DAYS,
        "665/NK p.7",
        "the administrative act is adopted no earlier than the 3rd working day after the hearing notice "
        "(the notice goes out no later than 3 working days before the act)",
    ),
    Term(
        "mvno.complaint_window",
        90,
        Unit.CALENDAR_DAYS,
        "APPC art. 91",
        "a refused case stays open for a complaint's instruction to reopen it",
        to_be_confirmed=True,
        note="the APPC allows a complaint within three months; counted as 90 calendar days until confirmed",
    ),
    # -- subscriber procedures (issue 6): operator practice of almatel-eds, act 71 --------------------
    *(
        Term(
            f"eds.step{n}",
            minutes,
            Unit.MINUTES,
            f"almatel-eds step {n} (operator setting)",
            text,
            note="the operator's published procedure gives no term: an operator setting",
        )
        for n, minutes, text in (
            (1, 30, "the subscriber gives the 1414 code to the technician"),
            (2, 1440, "the subscriber opens the unique link from 3344 (the link expires with it)"),
            (3, 30, "the subscriber opens the biometric identification and EDS signing page"),
            (4, 30, "consent to the Biometric ID privacy policy"),
            (5, 30, "the subscriber enters the 1414 code"),
            (6, 30, "biometric identification"),
            (7, 30, "consent to the issuance of an EDS"),
            (8, 30, "the subscriber chooses the EDS password; the application is signed"),
        )
    ),
    Term(
        "eds.code_validity",
        120,
        Unit.MINUTES,
        "almatel-eds step 1 (operator setting)",
        "validity of the 1414 code that grants temporary access to the digital identity document",
        note="an operator setting",
    ),
    Term(
        "mailbox.eds_confirmation",
        30,
        Unit.CALENDAR_DAYS,
        "71 p.12 (no term in the act; operator setting)",
        "the user confirms the personal-account data with an EDS",
        note="act 71 sets no term: an operator setting; a case waiting longer is closed as abandoned",
    ),
)

TERMS: dict[str, Term] = {t.key: t for t in _TERMS}


def term(key: str) -> Term:
    """The term called ``key``; an unknown key is a programming error and says which keys exist."""
    try:
        return TERMS[key]
    except KeyError:
        raise KeyError(f"unknown term {key!r}; known: {', '.join(sorted(TERMS))}") from None
