"""Nothing the worker registers blocks its event loop (DESIGN, "The outside world"): the worker's one event loop
polls for tasks, runs every workflow activation and heartbeats; an activity that blocks it (SQLAlchemy, CMS
signing, templates, calendar computation) delays every case on the worker.

So an activity is a plain ``def`` run on the worker's thread pool (``worker.ACTIVITY_THREADS``), unless it
awaits Temporal's client (``activity.client()``); such an async activity calls nothing of ours that blocks: our
tables, documents and ZIPs go through ``asyncio.to_thread``. The rule is checked on the source of every
activity the worker registers.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

from temporalio import activity

from infra.store import load_document
from worker import ACTIVITIES, bind, outside_systems

OURS_THAT_MAY_BLOCK = ("infra", "activities", "adapters", "audit", "api", "sqlalchemy", "sqlmodel", "jinja2")
"""Modules whose plain functions may do I/O or heavy work (``models`` and ``rules`` are pure data and checks)."""


def _registered() -> list[Callable[..., Any]]:
    return bind(ACTIVITIES, outside_systems())


def _resolve(node: ast.expr, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, scope)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def blocking_calls(fn: Callable[..., Any]) -> list[str]:
    """Calls in async ``fn`` to plain (non-async) functions of modules that may block, or to ``open``."""
    fn = inspect.unwrap(getattr(fn, "__func__", fn))
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    scope = dict(fn.__globals__)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id == "open":
            out.append(f"{fn.__name__}:{node.lineno} open()")
            continue
        target = _resolve(node.func, scope)
        module = getattr(target, "__module__", None) or ""
        if not callable(target) or isinstance(target, type) or inspect.iscoroutinefunction(target):
            continue
        if any(module == m or module.startswith(m + ".") for m in OURS_THAT_MAY_BLOCK):
            out.append(f"{fn.__name__}:{node.lineno} {module}.{getattr(target, '__qualname__', target)}()")
    return out


def test_every_activity_is_sync_unless_it_awaits_temporals_client() -> None:
    async_ones = [fn for fn in _registered() if inspect.iscoroutinefunction(fn)]
    sync_ones = [fn for fn in _registered() if not inspect.iscoroutinefunction(fn)]
    assert sync_ones, "the worker registers sync activities"
    without_client = [fn.__name__ for fn in async_ones if "activity.client()" not in inspect.getsource(fn)]
    assert without_client == [], (
        f"async activities that never await Temporal's client (make them plain def): {without_client}"
    )
    # the blocking ones measured in issue 16 are sync: deadlines, registration, documents, signing, hearing windows
    names = {activity._Definition.must_from_callable(fn).name for fn in sync_ones}  # type: ignore[attr-defined]
    assert {"compute_deadline", "register_case", "render_document", "sign_document", "hearing_windows"} <= names


def test_async_activities_block_nothing() -> None:
    found = [c for fn in _registered() if inspect.iscoroutinefunction(fn) for c in blocking_calls(fn)]
    assert found == []


@activity.defn
async def _blocks_the_loop(doc_id: str) -> bool:
    return load_document(doc_id) is not None


@activity.defn
async def _on_a_thread(doc_id: str) -> bool:
    return await asyncio.to_thread(load_document, doc_id) is not None


def test_the_check_sees_a_blocking_call() -> None:
    assert blocking_calls(_blocks_the_loop) == ["_blocks_the_loop:3 infra.store.load_document()"]
    assert blocking_calls(_on_a_thread) == []
