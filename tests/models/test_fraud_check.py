"""The fraud case's models (``models.fraud_check``, 171 p.52(4), p.119): a number cannot report itself, an
outcome needs evidence, the case input tells the ways in apart, the state a case hands its next run fits Temporal's
payload limit."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from infra.client import data_converter
from models.case import Registration
from models.fraud_check import (
    STATE_BUDGET_BYTES,
    CheckOutcome,
    FraudCaseInput,
    FraudState,
    RecordedReport,
    SubscriberReport,
    WayIn,
)

AT = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def test_the_same_number_cannot_report_itself() -> None:
    with pytest.raises(ValidationError, match="same"):
        SubscriberReport(
            ref="r1", suspect_number="+77011112233", reporter_number="87011112233", received_at=AT, description="x"
        )


def test_a_check_outcome_needs_evidence() -> None:
    with pytest.raises(ValidationError):
        CheckOutcome(confirmed=True, evidence=[], analyst="a")
    with pytest.raises(ValidationError):
        CheckOutcome(confirmed=True, evidence=["  "], analyst="a")


def test_the_case_input_tells_the_ways_in_apart() -> None:
    inp = FraudCaseInput.model_validate(
        {
            "first": {
                "way_in": "internal_detection",
                "ref": "afs:1",
                "suspect_number": "+77011112233",
                "received_at": AT.isoformat(),
                "description": "burst",
                "simbox": True,
            }
        }
    )
    assert inp.first.way_in is WayIn.INTERNAL_DETECTION
    with pytest.raises(ValidationError):
        FraudCaseInput.model_validate(
            {
                "first": {
                    "way_in": "rumour",
                    "ref": "x",
                    "suspect_number": "+77011112233",
                    "received_at": AT.isoformat(),
                    "description": "x",
                }
            }
        )


PAYLOAD_LIMIT = 2 * 1024 * 1024
"""Temporal's limit on one payload (the server's default ``limit.blobSize.error``)."""


def _report(i: int, text: str) -> RecordedReport:
    report = SubscriberReport(
        ref=f"ref:{i}", suspect_number="+77011112233", reporter_number="+77011112244", received_at=AT, description=text
    )
    return RecordedReport(report=report, recorded_at=AT)


def _state(reports: list[RecordedReport]) -> FraudState:
    registration = Registration(
        act_key="171",
        received_at=AT,
        registered_on=AT.date(),
        act_version_id="171:2024",
        act_basis="order 171 as amended",
        act_in_force_from=date(2024, 1, 1),
        act_version_assumed=False,
        calendar_version="test",
    )
    return FraudState(registration=registration, status="check", reports=reports, opening_answered=True)


async def test_a_case_of_700_long_reports_hands_its_next_run_a_state_under_the_payload_limit() -> None:
    """700 reports of 2,000 characters that do not compress came to 3.37 MB: the case could not continue as new (an
    adversarial run, 2026-12-04). Here the characters are CJK ideographs at random, which the codec's compression
    cannot shrink below 2 MiB. Handed over, the state keeps every report and the latest descriptions; the earliest
    say which run's history holds theirs."""
    rng = random.Random(700)
    whole = _state([_report(i, "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(2000))) for i in range(700)])
    first = whole.reports[0].report
    converter = data_converter()
    [too_large] = await converter.encode([FraudCaseInput(first=first, state=whole)])
    assert too_large.ByteSize() > PAYLOAD_LIMIT

    handed = whole.within_budget("run-1")
    [payload] = await converter.encode([FraudCaseInput(first=first, state=handed)])
    assert payload.ByteSize() < PAYLOAD_LIMIT and len(handed.model_dump_json().encode()) <= STATE_BUDGET_BYTES
    assert [r.report.ref for r in handed.reports] == [r.report.ref for r in whole.reports]
    let_go = [r for r in handed.reports if r.description_in_run is not None]
    assert let_go == handed.reports[: len(let_go)] and 0 < len(let_go) < 700
    assert {r.report.description for r in let_go} == {"(the description is in the history of run run-1)"}
    assert handed.reports[len(let_go) :] == whole.reports[len(let_go) :]
    # the next run reads it back, and hands it over again with each description where it was
    again = FraudCaseInput.model_validate_json(payload_json(handed, first)).state
    assert again is not None and again.within_budget("run-2") == handed


def payload_json(state: FraudState, first: SubscriberReport) -> str:
    return FraudCaseInput(first=first, state=state).model_dump_json()


def test_a_state_within_the_budget_is_handed_over_as_it_is() -> None:
    small = _state([_report(i, "SMS asking for a card code") for i in range(3)])
    assert small.within_budget("run-1") is small
