"""The worker, starter and API connect through Temporal's environment configuration: address, namespace,
API key and mTLS come from a profile file or TEMPORAL_* variables, unchanged code for a cluster."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.testing import WorkflowEnvironment

from api.temporal import problem_from_temporal
from cli.common import explain
from infra.client import connect, connect_config
from infra.settings import settings


def test_defaults_to_the_local_dev_server(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for var in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_CONFIG_FILE", "TEMPORAL_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", "/nonexistent")
    assert connect_config()["target_host"] == "localhost:7233"


def test_cluster_profile_with_mtls(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cert, key, ca = tmp_path / "client.pem", tmp_path / "client.key", tmp_path / "ca.pem"
    for f, text in ((cert, "CERT"), (key, "KEY"), (ca, "CA")):
        f.write_text(text)
    config = tmp_path / "temporal.toml"
    config.write_text(
        '[profile.prod]\naddress = "temporal.example.kz:7233"\nnamespace = "telecom-procedures"\n'
        f'[profile.prod.tls]\nclient_cert_path = "{cert}"\nclient_key_path = "{key}"\nserver_ca_cert_path = "{ca}"\n'
    )
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(config))
    monkeypatch.setenv("TEMPORAL_PROFILE", "prod")
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    c = connect_config()
    assert c["target_host"] == "temporal.example.kz:7233" and c["namespace"] == "telecom-procedures"
    tls = c["tls"]
    assert tls.client_cert == b"CERT" and tls.client_private_key == b"KEY" and tls.server_root_ca_cert == b"CA"


def test_environment_variables_override_the_file(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal-staging.internal:7233")
    monkeypatch.setenv("TEMPORAL_NAMESPACE", "staging")
    c = connect_config()
    assert (c["target_host"], c["namespace"]) == ("temporal-staging.internal:7233", "staging")


async def test_a_query_no_worker_answers_fails_after_the_configured_deadline(
    env: WorkflowEnvironment, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API says 503 and a command says why once ``KZ_QUERY_TIMEOUT_SECONDS`` passed, not after the server's
    ~30 s (which the API's and the console's users waited, e.g. while a worker restarts)."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", env.client.service_client.config.target_host)
    monkeypatch.setenv("KZ_QUERY_TIMEOUT_SECONDS", "1.5")
    settings.cache_clear()
    try:
        client = await connect()
    finally:
        settings.cache_clear()
    handle = await env.client.start_workflow("CaseNobodyRuns", id=f"no-worker-{task_queue}", task_queue=task_queue)
    try:
        began = time.monotonic()
        with pytest.raises(RPCTimeoutOrCancelledError) as failed:
            await client.get_workflow_handle(handle.id).query("case")
        assert 1.4 < time.monotonic() - began < 10
        said = explain(failed.value)
        assert said is not None and "cannot answer now" in said.plain
        assert problem_from_temporal(failed.value).status == 503
        with pytest.raises(RPCTimeoutOrCancelledError):  # a caller's own deadline is kept
            await client.get_workflow_handle(handle.id).query("case", rpc_timeout=timedelta(seconds=0.2))
        assert time.monotonic() - began < 12
    finally:
        await handle.terminate()
