"""The one place that builds a Temporal client: envconfig connection, pydantic data converter with the
payload encryption codec (``infra.codec``), failure messages moved into encrypted attributes, and the edge's
receipt instant stamped on every Update (``infra.receipts``), and a query that waits no longer than
``KZ_QUERY_TIMEOUT_SECONDS`` (``QueryDeadline``).

Two converters, one codec keyring:

- ``strict_data_converter()`` — the worker (``worker.make_worker`` gives its client this one), the API and the
  command line (``connect()``): a payload that reaches them without encryption is refused
  (``StrictPayloadConverter``): an Update sent in clear is rejected, a start in clear fails its workflow at
  once, a signal in clear is dropped; nothing is allow-listed.
- ``data_converter()`` — lenient: the replayer and the audit tool (``connect(strict=False)``), and the golden
  histories, which are stored decrypted; it reads clear payloads as they are.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import timedelta
from functools import cache
from typing import Any

from temporalio import client as temporal_client
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, EncodingPayloadConverter
from temporalio.envconfig import ClientConfig
from temporalio.exceptions import ApplicationError
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from infra.codec import REFUSED, REFUSED_ENCODING, EncryptionCodec, default_codec, strict_codec
from infra.payloads import TolerantPayloadConverter
from infra.receipts import StampReceipts
from infra.settings import settings
from infra.telemetry import tracing_interceptors

__all__ = [
    "UNENCRYPTED",
    "QueryDeadline",
    "StrictPayloadConverter",
    "connect",
    "data_converter",
    "strict_client",
    "strict_data_converter",
]

log = logging.getLogger(__name__)

UNENCRYPTED = "UnencryptedPayload"
"""The ``ApplicationError`` type of a refused clear payload (an Update's rejection, a start's failure)."""


class _RefuseClear(EncodingPayloadConverter):
    """Never encodes; refuses every payload the strict codec marked as having come without encryption."""

    @property
    def encoding(self) -> str:
        return REFUSED.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        came_as = payload.metadata.get(REFUSED_ENCODING, b"?").decode(errors="replace")
        raise ApplicationError(
            f"refused: a payload without encryption (encoding {came_as}) reached the worker; every payload must go "
            "through the codec of infra.client (the engine's client, the API or starter.py)",
            type=UNENCRYPTED,
            non_retryable=True,
        )


class StrictPayloadConverter(TolerantPayloadConverter):
    """The pydantic payload converter that refuses payloads the strict codec marked as clear."""

    def __init__(self) -> None:
        super().__init__()
        self._set_converters(*self.converters.values(), _RefuseClear())


def _converter(codec: EncryptionCodec, payload_converter_class: type = TolerantPayloadConverter) -> DataConverter:
    return dataclasses.replace(
        pydantic_data_converter,
        payload_converter_class=payload_converter_class,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


@cache
def data_converter() -> DataConverter:
    """The lenient converter (replayer, audit tool, golden histories): pydantic JSON read tolerantly (unknown
    fields of a newer deploy ignored, ``infra.payloads``), then AES-GCM encryption; a payload that is not
    encrypted is read as it is.

    Inputs, results, update arguments, memos and failure messages/stack traces are encrypted; search
    attributes are not (the server indexes them), so they never hold personal data.
    """
    return _converter(default_codec())


@cache
def strict_data_converter() -> DataConverter:
    """The worker's and the API's converter: as ``data_converter()``, but a payload without encryption is refused
    (``ApplicationError`` of type ``UnencryptedPayload``) instead of read."""
    return _converter(strict_codec(), StrictPayloadConverter)


def strict_client(client: Client) -> Client:
    """``client`` with the strict converter (same connection, namespace and interceptors), keeping its keyring and
    packing."""
    codec = client.data_converter.payload_codec
    strict = (
        _converter(
            EncryptionCodec(
                codec.ring,
                strict=True,
                compress_from=codec.compress_from,
                packing_dictionary=codec.packing_dictionary,
            ),
            StrictPayloadConverter,
        )
        if isinstance(codec, EncryptionCodec)
        else strict_data_converter()
    )
    config = client.config()
    config["data_converter"] = strict
    return Client(**config)


class QueryDeadline(temporal_client.Interceptor):
    """A query sent without a deadline of its own gets ``seconds``: a case whose worker is down, restarting or too
    busy is then said to be unable to answer after that long, not after the server's own ~30 s. A query past its
    deadline raises the SDK's ``RPCTimeoutOrCancelledError`` (as an Update does), not an ``RPCError`` the API would
    read as Temporal itself unreachable."""

    def __init__(self, seconds: float) -> None:
        self.deadline = timedelta(seconds=seconds)

    def intercept_client(self, next: temporal_client.OutboundInterceptor) -> temporal_client.OutboundInterceptor:
        return _QueryWithin(next, self.deadline)


class _QueryWithin(temporal_client.OutboundInterceptor):
    def __init__(self, next: temporal_client.OutboundInterceptor, deadline: timedelta) -> None:
        super().__init__(next)
        self.deadline = deadline

    async def query_workflow(self, input: temporal_client.QueryWorkflowInput) -> Any:
        if input.rpc_timeout is None:
            input.rpc_timeout = self.deadline
        try:
            return await super().query_workflow(input)
        except RPCError as exc:
            if exc.status not in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):  # the SDK's own reading
                raise
            raise temporal_client.RPCTimeoutOrCancelledError(f"no answer to {input.query!r} in time") from exc


def connect_config(profile: str | None = None) -> dict[str, Any]:
    """Address, namespace and TLS from Temporal's environment configuration (default localhost:7233)."""
    config = dict(ClientConfig.load_client_connect_config(profile=profile))
    config.setdefault("target_host", "localhost:7233")
    return config


async def connect(
    profile: str | None = None, *, wait_seconds: float = 0, strict: bool = True, runtime: Runtime | None = None
) -> Client:
    """Connect to Temporal; with ``wait_seconds`` keep trying while the server starts. ``strict`` (the worker, the
    API, the command line) refuses clear payloads; the audit tool connects with ``strict=False``.

    ``runtime`` is the Temporal runtime the client (and a worker on it) uses: the worker passes one that serves
    its metrics (``infra.telemetry.metrics_runtime``). With an OTLP endpoint configured the client traces
    (``infra.telemetry.tracing_interceptors``), and so does a worker built on it.
    """
    config = connect_config(profile)
    loop = asyncio.get_running_loop()
    give_up = loop.time() + wait_seconds
    converter = strict_data_converter() if strict else data_converter()
    while True:
        try:
            return await Client.connect(
                **config,
                data_converter=converter,
                interceptors=[
                    StampReceipts(),
                    QueryDeadline(settings().query_timeout_seconds),
                    *tracing_interceptors(),
                ],
                runtime=runtime,
            )
        except RuntimeError as exc:
            if loop.time() >= give_up:
                raise RuntimeError(f"cannot reach Temporal at {config['target_host']}: {exc}") from exc
            log.info("waiting for Temporal at %s", config["target_host"])
            await asyncio.sleep(1.0)
