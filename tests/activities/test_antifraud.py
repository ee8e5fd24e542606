"""The antifraud centre's local implementation (``activities.antifraud``, 171 p.118, p.120): a message kept once
whatever the retries, refused while the centre is down."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from activities.antifraud import CENTRE_UNAVAILABLE, deliver, messages_for_case
from infra import outages
from models.fraud_check import CentreMessage, NoticeKind

T0 = datetime(2030, 1, 9, 5, 0, tzinfo=UTC)  # far from any workflow test's clock


def message(case: str) -> CentreMessage:
    return CentreMessage(
        message_id=f"{case}:1:not_confirmed",
        case_id=case,
        kind=NoticeKind.NOT_CONFIRMED,
        number="+77011112233",
        cite="171 p.120",
        evidence=["e"],
    )


def test_the_centre_keeps_a_message_once_whatever_the_retries() -> None:
    case = f"fraud_check-{uuid.uuid4().hex[:20]}"
    first = deliver(message(case), T0)
    again = deliver(message(case), T0 + timedelta(minutes=3))
    assert not first.duplicate and again.duplicate and again.received_at == first.received_at == T0
    assert len(messages_for_case(case)) == 1


def test_a_centre_that_is_down_refuses_until_the_window_ends() -> None:
    case = f"fraud_check-{uuid.uuid4().hex[:20]}"
    outages.begin("antifraud_centre", T0, timedelta(hours=1), "test")
    try:
        with pytest.raises(ApplicationError) as exc:
            deliver(message(case), T0 + timedelta(minutes=59))
        assert exc.value.type == CENTRE_UNAVAILABLE and not exc.value.non_retryable
        assert messages_for_case(case) == []
        assert not deliver(message(case), T0 + timedelta(hours=1)).duplicate
        assert deliver(message(f"{case}x"), T0 - timedelta(seconds=1))  # before the window too
    finally:
        assert outages.end("antifraud_centre") >= 1
