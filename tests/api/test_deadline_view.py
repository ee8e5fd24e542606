"""A deadline explains itself on the console (``api.deadline_view``): the CLI's explanation in the page's language,
and a calendar strip built from what the case recorded. Nauryz 2027 (665/NK p.6: a Friday-evening application is
registered on the Thursday after the holidays) and the permit's ten years (a bar)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest

from activities.deadlines import compute
from api.deadline_view import day_off_name, explain, picture
from api.i18n import gettext
from models.deadlines import DeadlineRequest, DeadlineState, DeadlineStatus
from rules import law
from rules.calendar import ALMATY, DayOffReason, WorkingCalendar

CAL = WorkingCalendar()
FRIDAY_EVENING = datetime(2027, 3, 19, 19, 5, tzinfo=ALMATY)


def _(lang: str) -> Callable[[str], str]:
    """The page's translator."""
    return lambda text: gettext(lang, text)


def completeness(start: datetime = FRIDAY_EVENING) -> DeadlineState:
    value = law.term("mvno.completeness_check", on=CAL.registration_day(start), act="665/NK")
    req = DeadlineRequest(term_key=value.key, term=value, start=start)
    return DeadlineState(key="completeness_check", deadline=compute(CAL, req), request=req)


def test_the_explanation_says_what_the_cli_says_in_the_pages_language() -> None:
    state = completeness()
    d = state.deadline
    assert d.counted_from_day == date(2027, 3, 25) and d.due == datetime(2027, 3, 29, 18, 30, tzinfo=ALMATY)
    en = explain(state, _("en"))
    assert en[0] == "2 working days (665/NK p.6)"
    assert en[1].startswith(
        "received 2027-03-19 19:05 +05:00 (after office hours), registered on the next working day 2027-03-25 ("
    )
    assert "counted from 2027-03-25 (that day not counted)" in en
    skipped = next(line for line in en if line.startswith("not counted: "))
    assert "2027-03-20 (weekend: Saturday)" in skipped and "2027-03-22 (holiday: Nowruz Holiday)" in skipped
    assert en[-2:] == ["due 2027-03-29 18:30 +05:00", f"calendar version {CAL.version}"]
    # the same facts as the command line's explanation (Deadline.explain), every instant in Asia/Almaty
    assert "due 2027-03-29 18:30 +05:00 [calendar" in d.explain()

    kk, ru = (" · ".join(explain(state, _(lang))[:-1]) for lang in ("kk", "ru"))  # the last: the calendar version
    assert "2 жұмыс күні (665/NK p.6)" in kk and "Наурыз мейрамы" in kk and "сенбі" in kk
    assert "рабочих дней: 2 (665/NK p.6)" in ru and "Праздник Наурыз" in ru and "суббота" in ru
    for text in (kk, ru):
        for english in ("Nowruz", "Saturday", "working days", "registered", "weekend", "holiday", "due "):
            assert english not in text, english


def test_the_strip_shades_and_names_the_days_off_numbers_the_counted_days_and_marks_today() -> None:
    state = completeness()
    now = datetime(2027, 3, 26, 12, 0, tzinfo=ALMATY)
    pic = picture(state, now, _("en"))
    assert pic.days
    kinds = {c.day: c.kind for c in pic.cells}
    assert min(kinds) == date(2027, 3, 19) and max(kinds) == date(2027, 3, 29)
    assert kinds[date(2027, 3, 20)] == kinds[date(2027, 3, 27)] == DayOffReason.WEEKEND.value
    assert kinds[date(2027, 3, 22)] == DayOffReason.HOLIDAY.value
    assert kinds[date(2027, 3, 19)] == kinds[date(2027, 3, 25)] == "before"  # received after hours; registration day
    assert {c.day: c.number for c in pic.cells if c.number} == {date(2027, 3, 26): "1", date(2027, 3, 29): "2"}
    assert "Nowruz Holiday" in {lb.text for lb in pic.labels} and "weekend" in {lb.text for lb in pic.labels}
    marks = {m.label.split(" ")[0]: m for m in pic.marks}
    assert marks["due"].label == "due 2027-03-29 18:30 +05:00" and marks["start"].label == "start 19:05"
    assert marks["today"].dashed
    cell = {c.day: c for c in pic.cells}
    assert cell[date(2027, 3, 26)].x < marks["today"].x < cell[date(2027, 3, 26)].x + cell[date(2027, 3, 26)].w
    assert cell[date(2027, 3, 29)].x < marks["due"].x < cell[date(2027, 3, 29)].x + cell[date(2027, 3, 29)].w
    assert [text for _fill, text in pic.legend] == ["counted day", "not counted", "weekend", "holiday"]
    assert "Наурыз мейрамы" in {lb.text for lb in picture(state, now, _("kk")).labels}
    # before the strip, or long after it: no today mark
    assert "today" not in {m.label for m in picture(state, datetime(2027, 1, 4, tzinfo=ALMATY), _("en")).marks}


def test_a_breach_and_a_late_act_are_drawn() -> None:
    state = completeness()
    late = datetime(2027, 3, 31, 11, 0, tzinfo=ALMATY)
    state = state.model_copy(
        update={"status": DeadlineStatus.BREACHED, "breached_at": state.due, "met_at": late, "escalated": True}
    )
    pic = picture(state, late + timedelta(days=1), _("en"))
    kinds = {c.day: c.kind for c in pic.cells}
    assert max(kinds) == date(2027, 3, 31) and kinds[date(2027, 3, 30)] == kinds[date(2027, 3, 31)] == "late"
    labels = [m.label for m in pic.marks]
    assert "due 2027-03-29 18:30 +05:00 · breached" in labels and "done 2027-03-31 11:00 +05:00" in labels
    assert ("#fde8e8", "after the due day (breached)") in pic.legend


def test_a_term_of_years_or_minutes_is_a_bar() -> None:
    issued = datetime(2027, 4, 1, 10, 0, tzinfo=ALMATY)
    value = law.term("mvno.permit_validity", on=issued.date(), act="665/NK")
    req = DeadlineRequest(term_key=value.key, term=value, start=issued, counted_from="day")
    state = DeadlineState(key="permit_validity", deadline=compute(CAL, req), request=req)
    pic = picture(state, datetime(2030, 6, 1, tzinfo=ALMATY), _("en"))
    assert not pic.days and [t.text for t in pic.ticks] == [str(y) for y in range(2028, 2038)]
    assert "today" in {m.label for m in pic.marks}
    assert explain(state, _("en"))[0] == f"{value.amount} years ({value.reference})"

    code = law.term("egov.service_term", on=issued.date(), act="58")
    req = DeadlineRequest(term_key=code.key, term=code, start=issued)
    minutes = DeadlineState(key="service", deadline=compute(CAL, req), request=req)
    assert not picture(minutes, issued, _("en")).days
    assert explain(minutes, _("ru"))[0] == f"минут: {code.amount} ({code.reference})"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Day off (substituted from 2024-05-04)"),
        ("kk", "Демалыс күні (2024-05-04 күнінен ауыстырылған)"),
        ("ru", "Выходной день (перенесён с 2024-05-04)"),
    ],
)
def test_transferred_and_observed_days_off_are_named_in_the_pages_language(lang: str, expected: str) -> None:
    assert day_off_name(DayOffReason.TRANSFER, "Day off (substituted from 05/04/2024)", _(lang)) == expected
    assert day_off_name(DayOffReason.TRANSFER, "Day off (substituted from 2024-05-04)", _(lang)) == expected
    observed = day_off_name(DayOffReason.HOLIDAY, "Eid al-Adha (estimated); Nowruz Holiday", _(lang))
    assert (
        observed
        == {
            "en": "Eid al-Adha (estimated); Nowruz Holiday",
            "kk": "Құрбан айт (болжамды); Наурыз мейрамы",
            "ru": "Курбан айт (ориентировочно); Праздник Наурыз",
        }[lang]
    )
    assert day_off_name(DayOffReason.OVERRIDE, "Government resolution 123", _(lang)) == "Government resolution 123"


def test_the_earliest_act_explains_itself() -> None:
    """665/NK p.7: a notice on Saturday 20 March 2027 allows the act on 30 March at the earliest."""
    saturday = datetime(2027, 3, 20, 11, 0, tzinfo=ALMATY)
    value = law.term("mvno.hearing_notice_lead", on=saturday.date(), act="665/NK")
    req = DeadlineRequest(term_key=value.key, term=value, start=saturday, earliest_act=True, counted_from="day")
    state = DeadlineState(key="decision", deadline=compute(CAL, req), request=req)
    en = explain(state, _("en"))
    assert "counted back from the act" in en
    assert (
        "the act no earlier than 2027-03-30: the first working day that the event of 2027-03-20 precedes by 3 "
        "working days" in en
    )
    assert not any(line.startswith("counted from") for line in en)
    assert datetime.combine(date(2027, 3, 30), time(18, 30), tzinfo=ALMATY) == state.due


def test_names_of_days_off_side_by_side_do_not_run_into_each_other() -> None:
    """Victory Day 2026 fell on a Saturday and was observed on Monday: "Victory Day", "weekend" and "Victory Day
    (observed)" name three days in a row; the long last name goes a row higher instead of running into the weekend's,
    and no two names on a row overlap."""
    received = datetime(2026, 5, 8, 18, 31, tzinfo=ALMATY)
    value = law.term("complaint.review_provider", on=CAL.registration_day(received), act="665/NK")
    req = DeadlineRequest(term_key=value.key, term=value, start=received)
    state = DeadlineState(key="review", deadline=compute(CAL, req), request=req)
    pic = picture(state, datetime(2026, 5, 20, 12, 0, tzinfo=ALMATY), _("en"))
    names = {lb.text: lb for lb in pic.labels if lb.text != "weekend"}
    holiday, observed = names["Victory Day"], names["Victory Day (observed)"]
    [sunday] = [lb for lb in pic.labels if lb.text == "weekend" and holiday.x < lb.x < observed.x]
    assert holiday.y == sunday.y != observed.y
    for one in pic.labels:
        for other in pic.labels:
            if one is not other and one.y == other.y:
                assert abs(one.x - other.x) >= (len(one.text) + len(other.text)) * 3.0, (one.text, other.text)


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_names_of_days_off_never_overlap_nor_leave_the_strip(lang: str) -> None:
    """A permit received on the eve of Republic Day 2026 (Saturday 24 to Monday 26 October: a weekend, the holiday,
    the day off moved to Monday) seen six weeks later: cells too narrow for the three names, which were drawn over
    each other and the first cut off at the left edge (an adversarial run, 2026-12-04). A name with no room goes to
    the legend under a mark."""
    from api.deadline_view import _text_width

    state = completeness(datetime(2026, 10, 23, 18, 31, tzinfo=ALMATY))
    pic = picture(state, datetime(2026, 12, 4, 14, 30, tzinfo=ALMATY), _(lang))
    spans: dict[float, list[tuple[float, float]]] = {}
    for label in pic.labels:
        wide = _text_width(label.text)
        lo = {"start": label.x, "end": label.x - wide, "middle": label.x - wide / 2}[label.anchor]
        assert lo >= 0 and lo + wide <= pic.width, label
        for a, b in spans.get(label.y, []):
            assert lo + wide <= a or b <= lo, (label, spans)
        spans.setdefault(label.y, []).append((lo, lo + wide))
    marks = [lb.text for lb in pic.labels if lb.text.startswith("*")]
    assert [text.split(" ", 1)[0] for _fill, text in pic.notes] == marks  # each mark is named in the legend
    assert len(pic.labels) >= 3 and (pic.notes or lang == "en")
