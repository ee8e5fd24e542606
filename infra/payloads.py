"""Reading payloads tolerantly: a field our models do not know is ignored, not fatal (issue 16 item 4).

Our models refuse unknown fields (``models.base``): the edge (API, command line) validates what people and
operator systems send strictly. Inside Temporal the same models meet payloads written by another deploy: an
activity worker one version ahead returns an extra optional field, a query answers with a field the API does
not know yet. Refusing those would fail a workflow task on every attempt during a rolling deploy (or, as
before, the case). So the converter of the engine's clients and workers drops the unknown fields, logs their
names (never their values: they may be personal data) and validates the rest as strictly as ever; any other
validation error still fails the task, which Temporal retries until a worker that can read it comes.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import TypeAdapter, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import EncodingPayloadConverter

__all__ = ["TYPE_ADAPTERS", "TolerantJSONPayloadConverter", "TolerantPayloadConverter", "drop_unknown_fields"]

log = logging.getLogger(__name__)


def drop_unknown_fields(data: Any, error: ValidationError) -> list[str] | None:
    """Remove from ``data`` (parsed JSON) the fields ``error`` names as unknown (``extra_forbidden``); the dotted
    paths removed, or None when ``error`` holds any other kind of error (then nothing is removed)."""
    errors = error.errors()
    if not errors or any(e["type"] != "extra_forbidden" for e in errors):
        return None
    removed = []
    for e in errors:
        node, path = data, []
        *parents, last = e["loc"]
        for step in parents:  # a step that is not in the data is a union member's tag: skip it
            child = _child(node, step)
            if child is not None:
                node = child
                path.append(str(step))
        if isinstance(node, dict) and last in node:
            del node[last]
            removed.append(".".join([*path, str(last)]))
    return removed


def _child(node: Any, step: int | str) -> Any:
    """``node[step]`` where it exists in the parsed JSON, else None."""
    if isinstance(node, dict):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return None


TYPE_ADAPTERS = functools.lru_cache(maxsize=1024)(TypeAdapter)
"""The type adapters of every converter of the process, one per type read (the SDK's own size, 1024). The SDK makes
a payload converter for each case (the sandbox's own) and each kept its own cache: every open case built and held an
adapter for every type it read (issue 18: CPU and memory per case). A type adapter holds no state of a case."""


class TolerantJSONPayloadConverter(PydanticJSONPlainPayloadConverter):
    """pydantic JSON, reading a payload with fields the type does not know by ignoring those fields; its type
    adapters shared by the process (``TYPE_ADAPTERS``)."""

    def __init__(self) -> None:
        super().__init__()
        self._type_adapter = TYPE_ADAPTERS

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        try:
            return super().from_payload(payload, type_hint)
        except ValidationError as exc:
            data = json.loads(payload.data)
            removed = drop_unknown_fields(data, exc)
            if not removed:
                raise
            log.warning("ignored unknown fields %s reading a %s payload", removed, getattr(type_hint, "__name__", "?"))
            # validate the JSON again (not Python objects), so JSON-only rules such as base64 bytes still apply
            return TypeAdapter(type_hint if type_hint is not None else Any).validate_json(json.dumps(data))


class TolerantPayloadConverter(PydanticPayloadConverter):
    """The pydantic payload converter with ``TolerantJSONPayloadConverter`` for JSON.

    Its encoding converters are built once per process and shared (``_encoding_converters``): the SDK makes a payload
    converter for every workflow activation and every serialization context, and building the pydantic converter's
    parts each time was 8% of a worker's CPU replaying a case (issue 18). None of them holds a case's state."""

    def __init__(self) -> None:
        self.converters = _encoding_converters()


@functools.cache
def _encoding_converters() -> Mapping[bytes, EncodingPayloadConverter]:
    """The pydantic payload converter's encoding converters, JSON read by ``TolerantJSONPayloadConverter``."""
    return MappingProxyType(
        {
            encoding: TolerantJSONPayloadConverter() if isinstance(c, PydanticJSONPlainPayloadConverter) else c
            for encoding, c in PydanticPayloadConverter().converters.items()
        }
    )
