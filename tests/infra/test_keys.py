"""The installation's own keys (issue 15 item 3): the pseudonym key that keys case ids and the one-time-code
digests is generated at random into the data directory by whichever process needs it first, and read from there
by the others; there is no public default; with key generation off a process without its keys refuses to start,
naming the setting. The processes are forked from the test process's pre-imported server (``tests/forkserver.py``)
unless ``KZ_TEST_FORKSERVER=0``: each starts as a fresh one would, its settings and caches its own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.procs import launch

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


def _python(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in the repository, its output captured."""
    cmd, env = launch(list(args), env, forked=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_processes_with_a_fresh_data_dir_agree_on_one_generated_key_which_is_not_public(tmp_path: Path) -> None:
    data, go = tmp_path / "data", tmp_path / "go"
    started = [launch(["-c", _CHILD, str(go), NUMBER], _env(data), forked=True) for _ in range(4)]
    procs = [
        subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for cmd, env in started
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
    done = _python("worker.py", env=env, timeout=50)
    assert done.returncode != 0
    for name in names:
        assert name in done.stderr, done.stderr
    assert "worker cannot start" in done.stderr, done.stderr
    assert not (data / "pseudonym-key").exists() and not (data / "codec-keys.json").exists()


def test_the_api_refuses_to_start_without_its_keys(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", KZ_KEY_GENERATION="false", KZ_CODEC_KEYS=_codec_keys())
    done = _python("-c", "import api.app", env=env)
    assert done.returncode != 0 and "api cannot start" in done.stderr and "KZ_PSEUDONYM_KEY" in done.stderr


def test_a_configured_key_is_used_and_nothing_is_generated(tmp_path: Path) -> None:
    data, go = tmp_path / "data", tmp_path / "go"
    go.touch()
    key = "k" * 40
    env = _env(data, KZ_KEY_GENERATION="false", KZ_CODEC_KEYS=_codec_keys(), KZ_PSEUDONYM_KEY=key)
    done = _python("-c", _CHILD, str(go), NUMBER, env=env)
    assert done.returncode == 0, done.stderr
    message = "\x1f".join(["fraud_check", NUMBER]).encode()
    expected = "fraud_check-" + hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:20]
    assert json.loads(done.stdout)["case_id"] == expected
    assert not (data / "pseudonym-key").exists()


# -- key material shared by several hosts (issue 18 item 3) ----------------------------------------------------

_HOST = """
import base64, json, sys
from pathlib import Path
from activities.eds import issuer_key, seal_eds_password, _unseal
from adapters.local_ca import local_ca, sign_cms, verify_cms
from infra.keys import require_keys
require_keys("worker")
mode, arg = sys.argv[1], sys.argv[2]
ca = local_ca()
head = ca.official("provider_head")
out = {"ca": ca.root.cert_pem.decode(), "head_serial": str(head.cert.serial_number)}
if mode == "seal":
    out["sealed"] = base64.b64encode(seal_eds_password("case-1", arg)).decode()
    out["signature"] = base64.b64encode(sign_cms(b"permit", head)).decode()
else:
    doc = json.loads(Path(arg).read_text())
    out["password"] = _unseal(base64.b64decode(doc["sealed"]), "case-1")
    out["signer"] = verify_cms(b"permit", base64.b64decode(doc["signature"]), ca.root.cert).subject
    seal_eds_password("case-2", "Qazaq2026!")
    out["issuer_key_loads"] = issuer_key.cache_info().misses
print(json.dumps(out))
"""


def _key_env(tmp_path: Path) -> dict[str, str]:
    """``starter.py keys init``: the env file every host gets."""
    out = tmp_path / "keys.env"

    def init() -> subprocess.CompletedProcess[str]:
        return _python("starter.py", "keys", "init", "--out", str(out), env=_env(tmp_path / "maker"))

    done = init()
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    again = init()
    assert again.returncode == 2 and "exists" in again.stderr + again.stdout  # never overwritten
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


def test_two_hosts_with_the_shared_key_material_seal_unseal_sign_and_verify_across(tmp_path: Path) -> None:
    keys = _key_env(tmp_path)
    assert set(keys) == {
        "KZ_CODEC_KEYS",
        "KZ_PSEUDONYM_KEY",
        "KZ_CA_KEY",
        "KZ_CA_CERT",
        "KZ_EDS_ISSUER_KEY",
        "KZ_SESSION_SECRET",
    }
    hosts = [tmp_path / "host-a", tmp_path / "host-b"]

    def run(data: Path, *args: str) -> dict[str, str]:
        env = _env(data, KZ_KEY_GENERATION="false", **keys)
        done = _python("-c", _HOST, *args, env=env)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    sealed = run(hosts[0], "seal", "Qazaq2026!")
    (tmp_path / "sealed.json").write_text(json.dumps(sealed))
    opened = run(hosts[1], "open", str(tmp_path / "sealed.json"))
    assert opened["password"] == "Qazaq2026!"  # sealed on one host, unsealed on the other
    assert "Head of the Telecommunications Committee" in opened["signer"]  # signed on one, verified on the other
    assert opened["ca"] == sealed["ca"] and opened["head_serial"] == sealed["head_serial"]  # one CA, one head
    assert opened["issuer_key_loads"] == 1  # read once per process, however many seals
    for data in hosts:  # nothing was generated into either host's data directory
        assert not (data / "ca").exists() and not (data / "pseudonym-key").exists()
        assert not (data / "codec-keys.json").exists()


def test_without_the_ca_and_the_issuer_key_a_worker_and_the_api_refuse_to_start_naming_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    base = {"KZ_CODEC_KEYS": _codec_keys(), "KZ_PSEUDONYM_KEY": "p" * 40}
    env = _env(data, KZ_KEY_GENERATION="false", TEMPORAL_ADDRESS="127.0.0.1:9", **base)
    done = _python("worker.py", env=env, timeout=50)
    assert done.returncode != 0 and "worker cannot start" in done.stderr, done.stderr
    for name in ("KZ_CA_KEY", "KZ_CA_CERT", "KZ_EDS_ISSUER_KEY"):
        assert name in done.stderr, done.stderr
    assert "KZ_SESSION_SECRET" not in done.stderr  # the worker has no console
    api = _python("-c", "import api.app", env=env)
    assert api.returncode != 0 and "api cannot start" in api.stderr
    for name in ("KZ_CA_KEY", "KZ_EDS_ISSUER_KEY", "KZ_SESSION_SECRET"):
        assert name in api.stderr, api.stderr
    assert not (data / "ca").exists() and not (data / "session-secret").exists()
    half = _env(data, KZ_KEY_GENERATION="false", KZ_CA_KEY="x", TEMPORAL_ADDRESS="127.0.0.1:9", **base)
    done = _python("worker.py", env=half, timeout=50)
    assert done.returncode != 0 and "KZ_CA_KEY and KZ_CA_CERT go together" in done.stderr, done.stderr
