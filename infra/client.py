"""The one place that builds a Temporal client: envconfig connection, pydantic data converter with the
payload encryption codec (``infra.codec``) and failure messages moved into encrypted attributes, and the edge's
receipt instant stamped on every Update (``infra.receipts``)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from functools import cache
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.envconfig import ClientConfig

from infra.codec import default_codec
from infra.receipts import StampReceipts

__all__ = ["connect", "data_converter"]

log = logging.getLogger(__name__)


@cache
def data_converter() -> DataConverter:
    """The converter shared by client, worker and replayer: pydantic JSON, then AES-GCM encryption.

    Inputs, results, update arguments, memos and failure messages/stack traces are encrypted; search
    attributes are not (the server indexes them), so they never hold personal data.
    """
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=default_codec(),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def connect_config(profile: str | None = None) -> dict[str, Any]:
    """Address, namespace and TLS from Temporal's environment configuration (default localhost:7233)."""
    config = dict(ClientConfig.load_client_connect_config(profile=profile))
    config.setdefault("target_host", "localhost:7233")
    return config


async def connect(profile: str | None = None, *, wait_seconds: float = 0) -> Client:
    """Connect to Temporal; with ``wait_seconds`` keep trying while the server starts."""
    config = connect_config(profile)
    loop = asyncio.get_running_loop()
    give_up = loop.time() + wait_seconds
    while True:
        try:
            return await Client.connect(**config, data_converter=data_converter(), interceptors=[StampReceipts()])
        except RuntimeError as exc:
            if loop.time() >= give_up:
                raise RuntimeError(f"cannot reach Temporal at {config['target_host']}: {exc}") from exc
            log.info("waiting for Temporal at %s", config["target_host"])
            await asyncio.sleep(1.0)
