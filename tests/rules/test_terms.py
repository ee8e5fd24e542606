"""Terms as data (``rules.terms``): each with one unit, its direction and a citation."""

from __future__ import annotations

import pytest

from rules.terms import TERMS, Direction, Unit, term


def test_terms_have_one_unit_and_a_citation() -> None:
    assert term("mvno.completeness_check").amount == 2
    assert term("mvno.completeness_check").unit is Unit.WORKING_DAYS
    assert term("egov.service_term").unit is Unit.MINUTES
    assert term("mvno.permit_validity").unit is Unit.YEARS
    assert term("mvno.hearing_notice_lead").direction is Direction.BEFORE
    assert all(t.cite and t.text for t in TERMS.values())
    assert [t.key for t in TERMS.values() if t.to_be_confirmed] == ["numbers.review", "mvno.complaint_window"]
    with pytest.raises(KeyError, match="known"):
        term("no.such.term")
