"""The operator's durations (``KZ_TIMINGS__<FIELD>``) as the README writes them: ISO 8601 or plain seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from infra.settings import Settings


def test_plain_seconds_and_iso_durations_are_both_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KZ_TIMINGS__OUTSIDE_TIMEOUT", "90")
    monkeypatch.setenv("KZ_TIMINGS__AUTO_FORWARD_MARGIN", "PT45M")
    monkeypatch.setenv("KZ_TIMINGS__LOCAL_TIMEOUT", "2.5")
    monkeypatch.setenv("KZ_TIMINGS__OUTSIDE_RETRY_CEILING", "PT1H")
    timings = Settings().timings
    assert timings.outside_timeout == timedelta(seconds=90)
    assert timings.auto_forward_margin == timedelta(minutes=45)
    assert timings.local_timeout == timedelta(seconds=2.5)
    assert timings.outside_retry_ceiling == timedelta(hours=1)


@pytest.mark.parametrize("value", ["abc", "-5", "0"])
def test_a_wrong_duration_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("KZ_TIMINGS__OUTSIDE_TIMEOUT", value)
    with pytest.raises(ValidationError, match="outside_timeout"):
        Settings()
