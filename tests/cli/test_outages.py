"""``starter.py outage`` declares and ends rehearsal outages that the local activities obey."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from infra import outages
from tests.cli.conftest import Starter


async def test_outage_down_and_up(starter: Starter) -> None:
    code, out = await starter("outage", "down", "sms_gateway", "--minutes", "30", "--reason", "drill")
    assert code == 0 and "for 30 min" in out
    now = datetime.now(UTC)
    assert outages.outage_at("sms_gateway", now + timedelta(minutes=29)) is not None
    assert outages.outage_at("sms_gateway", now + timedelta(minutes=31)) is None
    with pytest.raises(ApplicationError) as exc:
        outages.raise_if_down("sms_gateway", now + timedelta(minutes=1))
    assert exc.value.type == "SmsGatewayUnavailable" and not exc.value.non_retryable
    code, out = await starter("outage", "up", "sms_gateway")
    assert code == 0 and "1 outage window(s) removed" in out
    assert outages.outage_at("sms_gateway", datetime.now(UTC)) is None

    code, out = await starter("outage", "down", "state_registry", "--permanent", "--reason", "contract ended")
    assert code == 0 and "permanently" in out
    with pytest.raises(ApplicationError) as exc:
        outages.raise_if_down("state_registry", datetime.now(UTC) + timedelta(days=3650))
    assert exc.value.non_retryable and "contract ended" in str(exc.value)
    assert outages.end("state_registry") == 1

    code, out = await starter("outage", "down", "nonsense")
    assert code == 2 and "one of:" in out
