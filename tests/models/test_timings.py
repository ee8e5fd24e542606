"""The operator's durations (``KZ_TIMINGS__<FIELD>``) as the README writes them: ISO 8601 or plain seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from infra.keys import require_keys
from infra.settings import Settings, SettingsInvalid, settings
from models.timings import CaseTimings


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


def test_a_refused_setting_is_named_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every process reads its settings through ``settings()``: a refused value is a ``SettingsInvalid`` naming each
    variable as the operator writes it, and why, never the value (a setting may hold a key); the command line
    prints it and exits 2, the worker and the API refuse to start with it (``infra.keys.require_keys``)."""
    monkeypatch.setenv("KZ_TIMINGS__OUTSIDE_RETRY_CEILING", "P2D")  # beyond a day
    monkeypatch.setenv("KZ_TIMINGS__OUTSIDE_TIMEOUT", "secret-looking-abc")
    settings.cache_clear()
    try:
        with pytest.raises(SettingsInvalid) as refused:
            settings()
        with pytest.raises(SystemExit) as worker:
            require_keys("worker")
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    message = str(refused.value)
    assert "KZ_TIMINGS__OUTSIDE_RETRY_CEILING" in message and "1 day" in message
    assert "KZ_TIMINGS__OUTSIDE_TIMEOUT" in message and "secret-looking-abc" not in message
    assert str(worker.value.code) == f"worker cannot start: {message}"


def test_a_group_variable_that_is_not_json_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KZ_TIMINGS", "nope")
    settings.cache_clear()
    try:
        with pytest.raises(SettingsInvalid, match=r"^invalid setting: KZ_TIMINGS: not a JSON object$"):
            settings()
    finally:
        monkeypatch.undo()
        settings.cache_clear()


def _refusal(monkeypatch: pytest.MonkeyPatch) -> str:
    """The message ``settings()`` refuses the environment set on ``monkeypatch`` with (then the environment undone)."""
    settings.cache_clear()
    try:
        with pytest.raises(SettingsInvalid) as refused:
            settings()
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    return str(refused.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("KZ_TIMINGS__OUTSIDE_TIMOUT", "90"), ("KZ_TIMINGS", '{"outside_timeout": 90, "outside_timout": 90}')],
    ids=["variable", "json"],
)
def test_a_misspelt_duration_is_refused_not_ignored(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """A duration the cases do not have would leave the default in force with nothing said: it is refused at start,
    named as the operator would write it, with the names there are."""
    monkeypatch.setenv(name, value)
    message = _refusal(monkeypatch)
    assert message.startswith("invalid setting: KZ_TIMINGS: no such duration: KZ_TIMINGS__OUTSIDE_TIMOUT (known: ")
    assert "OUTSIDE_TIMEOUT" in message.split("known: ")[1] and "90" not in message


@pytest.mark.parametrize(
    "name", ["KZ_TIMING__OUTSIDE_TIMEOUT", "KZ_TIMINGS_OUTSIDE_TIMEOUT", "kz_timing__local_timeout"]
)
def test_a_misspelt_prefix_is_refused_not_ignored(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The settings ignore variables that are not theirs (the suite's own ``KZ_TEST_…`` among them), so a duration
    whose prefix is misspelt would leave the default in force: refused at start, named, its value not repeated."""
    monkeypatch.setenv(name, "91")
    assert _refusal(monkeypatch) == f"invalid setting: {name}: not a setting (durations are KZ_TIMINGS__<NAME>)"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("-5", "Input should be greater than 0 seconds"),
        ("abc", "not a duration: write ISO 8601 (PT45M, P1D) or seconds (90)"),
        ("PT-5S", "not a duration: write ISO 8601 (PT45M, P1D) or seconds (90)"),
    ],
)
def test_a_refused_duration_says_what_a_duration_is(monkeypatch: pytest.MonkeyPatch, value: str, why: str) -> None:
    """pydantic's own words for ``-5`` were about a "day identifier in duration" nobody wrote."""
    monkeypatch.setenv("KZ_TIMINGS__OUTSIDE_TIMEOUT", value)
    assert _refusal(monkeypatch) == f"invalid setting: KZ_TIMINGS__OUTSIDE_TIMEOUT: {why}"


def test_recorded_timings_read_back_as_they_were_written() -> None:
    """A case's registration records its timings as JSON; the durations' validator reads them back unchanged."""
    recorded = CaseTimings(outside_timeout=timedelta(seconds=90), auto_forward_margin=timedelta(minutes=45))
    assert CaseTimings.model_validate_json(recorded.model_dump_json()) == recorded
    assert CaseTimings.model_validate(recorded.model_dump(mode="json")) == recorded
