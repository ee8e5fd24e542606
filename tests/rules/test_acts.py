"""The legal acts and their dates of force (``rules.acts``): the version that governs a day, an act not yet in
force, an act abolished."""

from __future__ import annotations

from datetime import date

import pytest

from rules.acts import ActNotInForce, acts, governing_version


def test_five_acts_with_seeds() -> None:
    assert set(acts()) == {"58", "71", "almatel-eds", "171", "665/NK"}
    assert {a.seed for a in acts().values()} == {"000", "001", "002", "003", "004"}


def test_governing_version_follows_amendments() -> None:
    assert governing_version("171", date(2025, 6, 1)).version_id == "171/2015"
    v = governing_version("171", date(2025, 12, 1))
    assert v.version_id == "171/554-NK-2025"
    # registered 4 Nov 2025, "10 calendar days after publication": in force from 15 Nov (placeholder date)
    assert v.in_force_from == date(2025, 11, 15) and v.assumed


def test_665_not_in_force_before_its_60_days() -> None:
    with pytest.raises(ActNotInForce, match="not in force"):
        governing_version("665/NK", date(2024, 11, 1))
    assert governing_version("665/NK", date(2024, 12, 28)).version_id == "665/NK/2024"


def test_mailbox_act_abolished_by_305() -> None:
    assert governing_version("71", date(2024, 6, 7)).version_id == "71/344-RR-2022"
    with pytest.raises(ActNotInForce, match="abolished by Order 305/NK"):
        governing_version("71", date(2024, 6, 8))
