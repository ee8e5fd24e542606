"""The worker binds the catalogue's unbound activity methods to one instance per class, built from settings."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from temporalio import activity

from activities.eds import EdsActivities
from activities.sms import LocalSmsGateway, SmsActivities
from adapters.local_ca import LocalSignatureVerifier
from adapters.ncanode import NcaNodeVerifier
from adapters.sms_gateway import HttpSmsGateway
from infra.settings import Settings
from models.sms import SmsReceipt, SmsRequest
from tests.e2e.procs import launch
from tests.http_servers import TOKEN
from worker import ACTIVITIES, bind, outside_systems

ROOT = Path(__file__).resolve().parents[1]


@activity.defn
async def plain(x: str) -> str:
    return x


class Other:
    @activity.defn(name="other_thing")
    def thing(self, x: str) -> str:
        return x


def test_every_catalogue_activity_is_bound_to_an_instance_and_keeps_its_name() -> None:
    bound = bind(ACTIVITIES, outside_systems())
    assert len(bound) == len(ACTIVITIES)
    names = [activity._Definition.must_from_callable(fn).name for fn in bound]  # type: ignore[attr-defined]
    assert len(set(names)) == len(names)
    assert {"send_sms", "inform_antifraud_centre", "verify_signature", "issue_secret", "compute_deadline"} <= set(names)
    for fn, original in zip(bound, ACTIVITIES, strict=True):
        if "." in original.__qualname__:  # a method: bound to the instance of its class
            assert getattr(fn, "__self__", None) is not None and fn.__func__ is original  # type: ignore[attr-defined]
        else:
            assert fn is original


def test_one_instance_per_class_and_functions_pass_through() -> None:
    sms = SmsActivities(LocalSmsGateway())
    [send, fn] = bind([SmsActivities.send_sms, plain], [sms])
    assert getattr(send, "__self__", None) is sms and fn is plain


def test_an_unbound_method_without_an_instance_of_its_class_is_refused() -> None:
    with pytest.raises(ValueError, match=r"Other\.thing"):
        bind([Other.thing], outside_systems())


class FakeGateway:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, req: SmsRequest) -> SmsReceipt:
        self.sent.append(req.message_id)
        return SmsReceipt(message_id=req.message_id, accepted_at="2030-01-01T00:00:00Z")  # type: ignore[arg-type]


def test_an_instance_given_to_the_worker_replaces_the_default_of_its_class() -> None:
    from temporalio.testing import ActivityEnvironment

    fake = FakeGateway()
    defaults = {type(i): i for i in outside_systems()}
    defaults[SmsActivities] = SmsActivities(fake)
    [send] = bind([SmsActivities.send_sms], list(defaults.values()))
    ActivityEnvironment().run(
        send, SmsRequest(message_id="m-1", case_id="c", to="+77011234567", sender="1414", text="t")
    )
    assert fake.sent == ["m-1"]


def test_settings_choose_http_or_local_per_system() -> None:
    local = {type(i): i for i in outside_systems(Settings())}
    assert isinstance(local[SmsActivities].gateway, LocalSmsGateway)
    assert isinstance(local[EdsActivities].verifier, LocalSignatureVerifier)
    s = Settings(sms_gateway_url="http://sms.example/v1/sms", sms_gateway_token=TOKEN, ncanode_url="http://nca:14579")
    remote = {type(i): i for i in outside_systems(s)}
    gateway = remote[SmsActivities].gateway
    assert isinstance(gateway, HttpSmsGateway) and gateway.url == "http://sms.example/v1/sms"
    assert gateway.http.headers["authorization"] == f"Bearer {TOKEN}"
    verifier = remote[EdsActivities].verifier
    assert isinstance(verifier, NcaNodeVerifier) and verifier.url == "http://nca:14579/cms/verify"
    from activities.otp import OtpActivities

    assert remote[OtpActivities].gateway is gateway  # the codes go out through the same gateway


def test_16_6_the_worker_refuses_to_start_on_a_broken_calendar_file_naming_the_line(tmp_path: Path) -> None:
    """A typo in the override file stops the worker at once, before it connects, with the file and the line."""
    broken = tmp_path / "calendar_overrides.toml"
    broken.write_text(
        "# overrides\n[[day_off]]\ndate = 2027-03-22\nreason = 'Nauryz'\n\n[[day_off]]\ndate = 2027-03-23\n"
    )
    env = {**os.environ, "KZ_CALENDAR_OVERRIDES": str(broken), "KZ_DATA_DIR": str(tmp_path)}
    env["TEMPORAL_ADDRESS"] = "127.0.0.1:9"  # nothing listens: the worker must stop before it tries
    cmd, env = launch([str(ROOT / "worker.py")], env, forked=True)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0
    assert "worker not started" in done.stderr and f"{broken} line 6" in done.stderr and "needs a reason" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_worker_refuses_to_start_on_a_taken_metrics_address_in_one_line(tmp_path: Path) -> None:
    """Another process serves the metrics address: the worker says so and which setting, without a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        env = {**os.environ, "KZ_METRICS_ADDRESS": address, "KZ_DATA_DIR": str(tmp_path)}
        env["TEMPORAL_ADDRESS"] = "127.0.0.1:9"  # never reached: the metrics come first
        cmd, env = launch([str(ROOT / "worker.py")], env, forked=True)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 1
    assert f"worker not started: cannot serve metrics on {address} (KZ_METRICS_ADDRESS)" in done.stderr
    assert "Traceback" not in done.stderr
