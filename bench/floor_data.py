"""The benchmarks' workflow inputs: pure data, passed through the workflow sandbox as ``models`` is for ours.

A model defined in a workflow's own module is built again for every case (the sandbox re-imports that module per
workflow run); ours live in ``models``, which the sandbox passes through, so the floor's must too, or the floor
would pay a cost ours does not.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, SerializerFunctionWrapHandler, model_serializer

__all__ = ["BareShape", "Carried", "FloorOp", "FloorScript", "StormInput", "filler"]


class StormInput(BaseModel):
    start: datetime  # every case gets the same start, so every deadline falls on the same instant


class BareShape(BaseModel):
    """How many activities, local activities, updates and fired timers a procedure's path has."""

    activities: int = 0
    local_activities: int = 0
    updates: int = 0
    timers: int = 0


def filler(stored: int, rng: random.Random) -> str:
    """Text the payload codec stores in about ``stored`` bytes, as a payload of ours that took that many: random
    base64, which zlib packs to about three quarters (a run of one letter would pack to nothing)."""
    n = max(stored - _SEALED_OVERHEAD, 0)
    return base64.b64encode(rng.randbytes(n))[: n * 4 // 3].decode()


_SEALED_OVERHEAD = 100
"""What sealing adds to a text's packed bytes: the JSON quotes and the inner payload's metadata, the nonce and tag."""


class Carried(BaseModel):
    """The one argument of the floor's ``carry`` activity: as many bytes as an activity of ours took (``data``), how
    many it gave back (``result``) and how long it ran (``seconds``)."""

    data: str = ""
    result: int = 0
    seconds: float = 0.0
    """How long it takes: as long as ours took (the floor with ``latency`` added back)."""

    @model_serializer(mode="wrap")
    def _as_many_bytes(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without ``seconds`` when it is 0, so the floor with ``payloads`` stores as many bytes as before it."""
        out: dict[str, Any] = handler(self)
        if not self.seconds:
            out.pop("seconds", None)
        return out


class FloorOp(BaseModel):
    """One command or wait of a procedure's history, in history order (``bench.floor.script_of``)."""

    kind: Literal[
        "activity_start",  # ActivityTaskScheduled
        "activity_wait",  # its completion (or final failure: the floor's activity always succeeds)
        "local",  # a local activity's marker (patch markers are not local activities and are left out)
        "timer_start",  # TimerStarted, for ``seconds``
        "timer_cancel",  # TimerCanceled
        "timer_wait",  # TimerFired
        "update_accept",  # the case waits for the driver's next Update
        "update_complete",  # the Update's handler returns
        # only in a floor with our own costs added back (``script_of(extras=...)``), to weigh each:
        "patch",  # a ``workflow.patched`` marker (and the TemporalChangeVersion upsert the SDK makes with it)
        "upsert_sa",  # one search-attribute upsert, of ``attributes``
        "upsert_memo",  # one memo upsert of ``size`` bytes
    ]
    ref: int = 0  # the scheduling event's id: links a start with its wait or cancel
    seconds: float = 0.0
    size: int = 0  # an Update's argument: as many bytes as the procedure's (what the outside world sends)
    name: str = ""  # a patch's id
    # only with ``payloads`` added back: an activity's argument and result (a local activity's result), stored bytes
    carried: int = 0
    result: int = 0
    # only with ``latency`` added back: the wall seconds ours' (last) attempt took, started to completed
    took: float = 0.0
    # only with ``upserts`` added back: the search attributes ours upserted, by name: (type, JSON value)
    attributes: dict[str, tuple[str, Any]] = {}


class FloorScript(BaseModel):
    """A procedure's command sequence, to be replayed with no logic by ``FloorCase``."""

    procedure: str
    ops: list[FloorOp]
    input: str = ""  # stored in as many bytes as the procedure's input (the application the case starts from)
    with_start: bool = False
    """Whether its first Update came with the start (ours was sent an update-with-start: a fraud report starts its
    case, ``cli.fraud_intake``): the floor's driver sends it so too."""

    def until_first_event(self) -> FloorScript:
        """The script up to the first Update that did not come with the start: a case left open waiting for its first
        event, where ours is left (its start, with the report it brought, taken)."""
        accepts = [n for n, op in enumerate(self.ops) if op.kind == "update_accept"]
        i = accepts[self.with_start] if len(accepts) > self.with_start else len(self.ops)  # the first, or the second
        return self.model_copy(update={"ops": self.ops[: i + 1]})
