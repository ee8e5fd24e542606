"""The permit's own view (``models.mvno_permit.views``): what it tells a person to act on."""

from __future__ import annotations

from datetime import datetime

from cli.law_changes import calendar_moves
from models.case import CaseView
from models.mvno_permit import PermitCaseView
from models.mvno_permit.decisions import HearingProposal, HearingRecord
from rules.calendar import ALMATY, WorkingCalendar

CAL = WorkingCalendar()
NAURYZ = datetime(2027, 3, 22, 10, 0, tzinfo=ALMATY)  # a Monday, and a day off (Nauryz)
WORKING = datetime(2027, 3, 26, 10, 0, tzinfo=ALMATY)  # Friday after the holidays


def permit(at: datetime, **more: object) -> PermitCaseView:
    hearing = HearingProposal(at=at, place="Astana, room 305", outside_office_hours_confirmed=False)
    return PermitCaseView.model_validate(
        {"status": "hearing_scheduled", "round": 1, "application_number": "KZ-T", "applicant_kind": "legal_entity"}
        | {"hearing": hearing.model_dump(mode="json")}
        | more
    )


def test_a_hearing_on_a_day_off_is_named_for_a_person_until_it_is_held() -> None:
    """A calendar correction that makes a scheduled hearing's day a day off left it there unnoticed (an adversarial
    run, 2026-12-04): the view names it until the hearing is recorded; the dry run of a correction names the case."""
    assert permit(NAURYZ).hearing_on_a_day_off(CAL) == NAURYZ
    assert permit(WORKING).hearing_on_a_day_off(CAL) is None
    held = HearingRecord(held_at=NAURYZ, applicant_position="asks for the permit", recorded_by="B. Omarov")
    assert permit(NAURYZ, hearing_record=held.model_dump(mode="json")).hearing_on_a_day_off(CAL) is None
    details = permit(NAURYZ).model_dump()
    view = CaseView(case_id="mvno_permit-1", procedure="mvno_permit", status="hearing_scheduled", details=details)
    [warning] = calendar_moves(view, CAL).warnings
    assert warning.startswith("the hearing set for 2027-03-22 10:00 +05:00 falls on a day off under this calendar")
    other = view.model_copy(update={"details": permit(WORKING).model_dump()})
    assert calendar_moves(other, CAL).warnings == []


def test_the_case_page_says_the_hearing_falls_on_a_day_off() -> None:
    from functools import partial

    from api.console import _env
    from api.i18n import gettext, label
    from workflows.mvno_permit import SPEC

    page = _env().get_template("procedures/mvno_permit.html")

    def facts(own: PermitCaseView, lang: str) -> str:
        said = {"_": partial(gettext, lang), "label": partial(label, lang), "spec": SPEC, "lang": lang}
        view = CaseView(case_id="mvno_permit-1", procedure="mvno_permit", status=own.status)
        return str(page.make_module(said).facts(view, own))

    en = facts(permit(NAURYZ), "en")
    assert 'id="hearing-day-off"' in en and "a day off under the calendar in force" in en
    assert "выходной день по действующему календарю" in facts(permit(NAURYZ), "ru")
    assert 'id="hearing-day-off"' not in facts(permit(WORKING), "en")
