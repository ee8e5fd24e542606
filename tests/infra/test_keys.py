"""The installation's own keys (issue 15 item 3): the pseudonym key that keys case ids and the one-time-code
digests is generated at random into the data directory by whichever process needs it first, and read from there
by the others; there is no public default; with key generation off a process without its keys refuses to start,
naming the setting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_DEFAULT = b"dev-only-pseudonym-key-change-me"
NUMBER = "+77010000101"

# A process of ours that needs the key: computes the fraud case id of a number and a one-time-code digest, once
# the test says go (so that all start racing for the first key).
_CHILD = """
import json, sys, time
from pathlib import Path
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.005)
from activities.otp import secret_digest
from infra.pseudonym import case_id
print(json.dumps({"case_id": case_id("fraud_check", sys.argv[2]), "digest": secret_digest("s1", "123456")}))
"""


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KZ_") and k != "TEMPORAL_ADDRESS"}
    return {**env, "KZ_DATA_DIR": str(data), **extra}


def test_processes_with_a_fresh_data_dir_agree_on_one_generated_key_which_is_not_public(tmp_path: Path) -> None:
    data, go = tmp_path / "data", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(go), NUMBER],
            cwd=ROOT,
            env=_env(data),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(1.5)  # all four imported and waiting
    go.touch()
    answers = []
    for p in procs:
        out, errs = p.communicate(timeout=60)
        assert p.returncode == 0, errs
        answers.append(json.loads(out))
    assert all(a == answers[0] for a in answers), answers  # one key for all of them

    key_file = data / "pseudonym-key"
    assert key_file.exists() and key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip().encode()
    assert len(key) >= 32
    # The case id is keyed with the generated key, never with the once public default.
    message = "\x1f".join(["fraud_check", NUMBER]).encode()
    public = "fraud_check-" + hmac.new(PUBLIC_DEFAULT, message, hashlib.sha256).hexdigest()[:20]
    assert answers[0]["case_id"] != public
    assert answers[0]["case_id"] == "fraud_check-" + hmac.new(key, message, hashlib.sha256).hexdigest()[:20]
    # The one-time-code digests are keyed by the installation too (a key derived from it under its own label).
    otp_key = hmac.new(key, b"one-time-secret-digest/v1", hashlib.sha256).digest()
    assert answers[0]["digest"] == hmac.new(otp_key, b"s1:123456", hashlib.sha256).hexdigest()
    leftovers = [p.name for p in data.iterdir() if p.name.endswith(".tmp")]
    assert not leftovers, leftovers


def _codec_keys() -> str:
    return "k1=" + base64.b64encode(os.urandom(32)).decode()


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ({"KZ_CODEC_KEYS": "codec"}, ["KZ_PSEUDONYM_KEY"]),
        ({}, ["KZ_PSEUDONYM_KEY", "KZ_CODEC_KEYS"]),
        ({"KZ_CODEC_KEYS": "codec", "KZ_PSEUDONYM_KEY": "dev-only-pseudonym-key-change-me"}, ["KZ_PSEUDONYM_KEY"]),
    ],
    ids=["no-pseudonym-key", "no-keys-at-all", "the-old-public-default"],
)
def test_a_worker_with_key_generation_off_and_no_key_refuses_to_start_naming_the_setting(
    tmp_path: Path, extra: dict[str, str], names: list[str]
) -> None:
    data = tmp_path / "data"
    extra = {k: _codec_keys() if v == "codec" else v for k, v in extra.items()}
    # Temporal is deliberately unreachable: the refusal must come before any attempt to connect.
    env = _env(data, KZ_KEY_GENERATION="false", TEMPORAL_ADDRESS="127.0.0.1:9", **extra)
    done = subprocess.run([sys.executable, "worker.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=50)
    assert done.returncode != 0
    for name in names:
        assert name in done.stderr, done.stderr
    assert "worker cannot start" in done.stderr, done.stderr
    assert not (data / "pseudonym-key").exists() and not (data / "codec-keys.json").exists()


def test_the_api_refuses_to_start_without_its_keys(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", KZ_KEY_GENERATION="false", KZ_CODEC_KEYS=_codec_keys())
    done = subprocess.run(
        [sys.executable, "-c", "import api.app"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "api cannot start" in done.stderr and "KZ_PSEUDONYM_KEY" in done.stderr


def test_a_configured_key_is_used_and_nothing_is_generated(tmp_path: Path) -> None:
    data, go = tmp_path / "data", tmp_path / "go"
    go.touch()
    key = "k" * 40
    env = _env(data, KZ_KEY_GENERATION="false", KZ_CODEC_KEYS=_codec_keys(), KZ_PSEUDONYM_KEY=key)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(go), NUMBER], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    message = "\x1f".join(["fraud_check", NUMBER]).encode()
    expected = "fraud_check-" + hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:20]
    assert json.loads(done.stdout)["case_id"] == expected
    assert not (data / "pseudonym-key").exists()
