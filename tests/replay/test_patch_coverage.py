"""Every ``workflow.patched`` branch a new case runs has a golden history of its procedure (issue 16 item 12).

The patches a procedure can take are read from the code: every module of its workflow class and base classes
(and the legal clock every case owns) is parsed for ``workflow.patched(NAME)``. A golden history holds a
patch's ``core_patch`` marker when the recorded case took the new branch. Two promises are checked:

- each patch a procedure's code calls appears in at least one golden history of that procedure;
- the patches decided in ``__init__`` (every new case takes them at its first activation) all appear together
  in one golden history: a new case's whole path replays, not only its pieces.
"""

from __future__ import annotations

import ast
import base64
import importlib
import inspect
import json
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from tests.golden_tools import GOLDEN
from workflows import clock
from workflows.catalogue import PROCEDURES


@cache
def patch_calls(module: ModuleType) -> dict[str, bool]:
    """``{patch id: decided in __init__}`` for the ``workflow.patched(NAME)`` calls of ``module``."""
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))
    found: dict[str, bool] = {}

    def visit(node: ast.AST, in_init: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_init or (isinstance(child, ast.FunctionDef) and child.name == "__init__")
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "patched"
                and child.args
            ):
                arg = child.args[0]
                if isinstance(arg, ast.Name) and not hasattr(module, arg.id):
                    continue  # ``CasePatches.patched`` asking for its caller's patch: found at the call
                value = getattr(module, arg.id) if isinstance(arg, ast.Name) else ast.literal_eval(arg)
                found[value] = found.get(value, False) or in_init
            visit(child, inside)

    visit(tree, False)
    return found


def patches_of(workflow: type) -> dict[str, bool]:
    """The patches a procedure's workflow can take, from its class and base classes' modules and its clock."""
    modules = {importlib.import_module(c.__module__) for c in workflow.__mro__ if c.__module__.startswith("workflows")}
    modules.add(clock)
    found: dict[str, bool] = {}
    for m in modules:
        for patch, in_init in patch_calls(m).items():
            found[patch] = found.get(patch, False) or in_init
    return found


def markers(path: Path) -> set[str]:
    """The patch ids recorded in a golden history; its ``CURRENT_PATHS`` marker stands for every patch of
    ``SUBSUMED`` (the case took their new branches without a marker each), its ``CURRENT_PATHS_18`` marker for
    ``CURRENT_PATHS`` and those of ``SUBSUMED_18`` too, its ``RECORD_HELD_OVER_LOCALS`` marker for all of these, and
    its ``RECORDS_WITHOUT_DEFAULTS`` marker for that one too."""
    events = json.loads(path.read_text(encoding="utf-8"))["history"]["events"]
    ids = set()
    for e in events:
        attrs = e.get("markerRecordedEventAttributes")
        if attrs and attrs.get("markerName") == "core_patch":
            data = attrs["details"]["patch-data"]["payloads"][0]["data"]
            ids.add(json.loads(base64.b64decode(data))["id"])
    if clock.RECORDS_WITHOUT_DEFAULTS in ids:
        ids |= {clock.RECORD_HELD_OVER_LOCALS}
    if clock.RECORD_HELD_OVER_LOCALS in ids:
        ids |= {clock.CURRENT_PATHS_18}
    if clock.CURRENT_PATHS_18 in ids:
        return ids | clock.SUBSUMED | clock.SUBSUMED_18 | {clock.CURRENT_PATHS}
    return ids | clock.SUBSUMED if clock.CURRENT_PATHS in ids else ids


def test_the_patch_scan_sees_the_patches_of_the_code() -> None:
    """The scan finds the clock's two patches in every procedure, decided in ``__init__``, and a procedure's own."""
    for spec in PROCEDURES:
        found = patches_of(spec.workflow)
        assert found[clock.WAKE_ONLY_ON_MOVED_DUE] and found[clock.CORRECTION_RECORDS_ONLY_MOVES], spec.key
    from workflows.mvno_permit.life import PERMIT_VALIDITY_CARRIED
    from workflows.mvno_permit.workflow import MvnoPermit

    assert patches_of(MvnoPermit)[PERMIT_VALIDITY_CARRIED] is False  # decided where the checkpoint is reached


@pytest.mark.parametrize("spec", PROCEDURES, ids=[s.key for s in PROCEDURES])
def test_every_patch_a_new_case_runs_has_a_golden_history(spec: object) -> None:
    from models.procedure import ProcedureSpec

    assert isinstance(spec, ProcedureSpec)
    patches = patches_of(spec.workflow)
    recorded = {p.name: markers(p) for p in sorted((GOLDEN / spec.key).glob("*.json"))}
    seen = set().union(*recorded.values()) if recorded else set()
    missing = sorted(set(patches) - seen)
    assert not missing, f"{spec.key}: no golden history takes the new branch of {missing}"
    at_start = {p for p, in_init in patches.items() if in_init}
    whole = [name for name, ids in recorded.items() if at_start <= ids]
    assert whole, f"{spec.key}: no golden history of a case begun today (with all of {sorted(at_start)})"


def test_the_current_paths_stand_for_exactly_the_patches_asked_through_them() -> None:
    """``CasePatches.patched`` (each case's first activation) is asked exactly the patches of ``SUBSUMED`` and
    ``SUBSUMED_18``: a patch added later is asked with ``workflow.patched`` (a case begun on the current paths never
    took its new branch)."""
    asked: set[str] = set()
    for spec in PROCEDURES:
        modules = {importlib.import_module(c.__module__) for c in spec.workflow.__mro__}
        for m in {*modules, clock}:
            if not m.__name__.startswith("workflows"):
                continue
            for node in ast.walk(ast.parse(Path(inspect.getfile(m)).read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "patched"
                    and isinstance(node.func.value, ast.Name | ast.Attribute)
                    and ast.unparse(node.func.value) in ("patches", "self.patches")
                ):
                    arg = node.args[0]
                    asked.add(getattr(m, arg.id) if isinstance(arg, ast.Name) else ast.literal_eval(arg))
    assert asked == clock.SUBSUMED | clock.SUBSUMED_18
