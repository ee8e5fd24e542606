"""Replaying recorded (encrypted) histories of a test procedure with today's code (``audit.replay``): today's
code reproduces them, changed code is reported with the event where it diverged, a history under an unknown
key is reported and not replayed, decrypted histories and golden files replay too."""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory

from audit.history import decode_history, load_history
from audit.replay import Replay
from infra.client import data_converter
from infra.codec import ENCODING, EncryptionCodec, KeyRing
from infra.sandbox import SANDBOX
from tests.audit.conftest import PERSON_ON_TIME, Recorded
from tests.audit.probe import AuditProbe, AuditProbeChanged


async def test_todays_code_reproduces_the_recorded_cases(recorded: Recorded) -> None:
    replay = Replay([AuditProbe], runner=SANDBOX)
    for history in (recorded.late, recorded.on_time):
        outcome = await replay.check(history)
        assert outcome.reproduced, outcome.error


async def test_changed_code_is_reported_with_the_event_where_it_diverged(recorded: Recorded) -> None:
    outcome = await Replay([AuditProbeChanged], runner=SANDBOX).check(recorded.late)
    assert not outcome.reproduced and outcome.error_kind == "nondeterminism"
    events = list(recorded.late.events)
    # The recorded case registered first (a local-activity marker); the changed code starts a timer instead.
    first_marker = next(e for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED)
    assert (outcome.diverged_event_id, outcome.diverged_event_type) == (first_marker.event_id, "MarkerRecorded")
    assert outcome.diverged_after_event_id == first_marker.event_id - 1
    assert f"event {first_marker.event_id} MarkerRecorded" in outcome.where()


async def test_history_under_an_unknown_key_is_reported_not_replayed(recorded: Recorded) -> None:
    other = dataclasses.replace(
        data_converter(), payload_codec=EncryptionCodec(KeyRing(keys={"elsewhere": b"\x05" * 32}, active="elsewhere"))
    )
    outcome = await Replay([AuditProbe], converter=other, runner=SANDBOX).check(recorded.late)
    assert not outcome.reproduced and outcome.error_kind == "cannot_decrypt"
    assert "not in the keyring" in (outcome.error or "")


async def test_decrypted_history_still_replays_through_the_codec(recorded: Recorded) -> None:
    decoded = decode_history(recorded.late)
    assert all(p.metadata.get("encoding") != ENCODING for p in _payloads(decoded))
    assert (await Replay([AuditProbe], runner=SANDBOX).check(decoded)).reproduced


def _payloads(history: WorkflowHistory) -> list:  # type: ignore[type-arg]
    from audit.history import _payload_slots

    out: list = []  # type: ignore[type-arg]
    for e in history.events:
        _payload_slots(e, out)
    return out


async def test_golden_files_are_recorded_decrypted_and_replay(
    recorded: Recorded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests import golden_tools

    class Handle:
        async def fetch_history(self) -> WorkflowHistory:
            return recorded.on_time

    monkeypatch.setattr(golden_tools, "GOLDEN", tmp_path)
    monkeypatch.setenv("KZ_RECORD_GOLDEN", "missing")
    path = await golden_tools.save_golden(Handle(), "audit_probe", "refused")  # type: ignore[arg-type]
    assert (
        PERSON_ON_TIME["address"]
        in base64.b64decode(
            json.loads(path.read_text())["history"]["events"][0]["workflowExecutionStartedEventAttributes"]["input"][
                "payloads"
            ][0]["data"]
        ).decode()
    )
    golden = load_history(path)
    assert (await Replay([AuditProbe], runner=SANDBOX).check(golden)).reproduced


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "[TMPRL1100] Nondeterminism error: Timer machine does not handle this event: "
            "HistoryEvent(id: 8, TimerFired)",
            (8, "TimerFired"),
        ),
        ("[TMPRL1100] Nondeterminism error: Missing associated machine for LocalActivity(1)", None),
    ],
)
def test_event_named_by_a_nondeterminism_message(message: str, expected: tuple[int, str] | None) -> None:
    from audit.replay import divergence_from_message

    assert divergence_from_message(message) == expected
