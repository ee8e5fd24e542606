"""What the API's routes share: the procedures it serves, the Temporal gateway and the task queue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from api.temporal import Gateway
from models.procedure import ProcedureSpec

__all__ = ["AppContext"]


@dataclass
class AppContext:
    procedures: Mapping[str, ProcedureSpec]
    gateway: Gateway
    task_queue: str
