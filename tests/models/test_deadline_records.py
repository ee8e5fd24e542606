"""``deadline_records``: the term records of a memo, old and new shapes, in the order the terms count from."""

from __future__ import annotations

from typing import Any

from models.deadlines import DEADLINE_MEMO_PREFIX, deadline_records


def record(key: str, start: str | None, status: str = "open") -> dict[str, Any]:
    return {"key": key, "status": status, "deadline": {} if start is None else {"start": start}}


def test_terms_come_in_the_order_they_count_from_whatever_the_memo_order() -> None:
    """A step's terms published in one upsert reach a reader in no set order: the records are ordered by start."""
    memo = {
        DEADLINE_MEMO_PREFIX + "step2": record("step2", "2026-12-02T10:00:00+05:00"),
        "case": {"status": "step2"},
        DEADLINE_MEMO_PREFIX + "step1": record("step1", "2026-12-02T04:30:00+00:00", "met"),  # 09:30 in Almaty
        DEADLINE_MEMO_PREFIX + "odd": record("odd", None),
        DEADLINE_MEMO_PREFIX + "code": record("code", "2026-12-02T04:30:00+00:00"),
    }
    assert [r["key"] for r in deadline_records(memo)] == ["step1", "code", "step2", "odd"]


def test_the_whole_list_of_older_cases_is_read_and_a_later_key_replaces_its_entry() -> None:
    memo = {
        "deadlines": [record("review", "2025-01-10T09:00:00+05:00"), record("check", "2025-01-09T09:00:00+05:00")],
        DEADLINE_MEMO_PREFIX + "review": record("review", "2025-01-10T09:00:00+05:00", "met"),
    }
    assert [(r["key"], r["status"]) for r in deadline_records(memo)] == [("check", "open"), ("review", "met")]


def test_a_start_that_is_not_an_instant_does_not_break_the_reading() -> None:
    memo = {
        DEADLINE_MEMO_PREFIX + "bad": record("bad", "soon"),
        DEADLINE_MEMO_PREFIX + "naive": record("naive", "2026-01-05T09:00:00"),
        DEADLINE_MEMO_PREFIX + "aware": record("aware", "2026-01-05T10:00:00+05:00"),
    }
    assert [r["key"] for r in deadline_records(memo)] == ["aware", "naive", "bad"]
