"""The fraud case's models (``models.fraud_check``, 171 p.52(4), p.119): a number cannot report itself, an
outcome needs evidence, the case input tells the ways in apart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from models.fraud_check import CheckOutcome, FraudCaseInput, SubscriberReport, WayIn

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
