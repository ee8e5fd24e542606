"""The case page's "next step" panel (``api.case_page.next_steps``): what the case waits for, and by when."""

from __future__ import annotations

from datetime import datetime

from activities.deadlines import compute
from api.case_page import next_steps
from models.case import CaseView
from models.deadlines import DeadlineRequest, DeadlineState
from rules import law
from rules.calendar import ALMATY, WorkingCalendar
from workflows.complaint import SPEC

CAL = WorkingCalendar()
RECEIVED = datetime(2027, 3, 1, 10, 0, tzinfo=ALMATY)


def term(key: str, term_key: str) -> DeadlineState:
    value = law.term(term_key, on=CAL.registration_day(RECEIVED), act="665/NK")
    req = DeadlineRequest(term_key=value.key, term=value, start=RECEIVED)
    return DeadlineState(key=key, deadline=compute(CAL, req), request=req)


def test_a_withdrawal_is_offered_last_and_no_term_makes_it_due() -> None:
    """A complaint waits for the provider to satisfy or forward it; the complainant may withdraw it at any time. The
    panel listed "Withdraw the complaint" first, due by the review term and overdue (an adversarial run,
    2026-12-04)."""
    forward, review = term("forward", "complaint.forward"), term("review", "complaint.review_provider")
    view = CaseView(
        case_id="complaint-1",
        procedure="complaint",
        status="provider_review",
        pending_events=["withdraw", "satisfy", "forward"],
        deadlines=[forward, review],
    )
    steps = next_steps(SPEC, view, None, {"withdraw", "satisfy", "forward"})
    assert [s.event.name for s in steps] == ["satisfy", "forward", "withdraw"]
    assert [d.key for d in steps[1].deadlines] == ["forward"] and steps[-1].deadlines == []


def test_a_term_done_late_reads_met_late_on_the_command_line_as_in_the_report() -> None:
    """One outcome, one wording: ``case show`` read "breached (done …)" where the report says "met late" and the case
    page now does (an adversarial run, 2026-12-04)."""
    from rich.console import Console

    from cli.common import deadline_table
    from models.deadlines import DeadlineStatus

    forward = term("forward", "complaint.forward")
    late = forward.model_copy(
        update={
            "status": DeadlineStatus.BREACHED,
            "breached_at": forward.due,
            "met_at": datetime(2027, 3, 9, 11, 0, tzinfo=ALMATY),
        }
    )
    wide = Console(width=400)
    with wide.capture() as shown:
        wide.print(deadline_table([late, term("review", "complaint.review_provider")]))
    said = " ".join(shown.get().split())
    assert "met late (done 2027-03-09 11:00 +05:00)" in said and "breached" not in said, said
