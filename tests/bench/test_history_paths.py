"""The history benchmark's old paths are old: every patch a case asks first, standing for those of issue 16 item 14,
is answered absent too (one left out answers for the rest, and "before" would be today's code)."""

from __future__ import annotations

import ast
import inspect
import textwrap

from bench.bench_history import OLD_PATHS
from workflows import clock


def test_every_umbrella_patch_a_case_asks_first_is_forced_absent() -> None:
    init = ast.parse(textwrap.dedent(inspect.getsource(clock.CasePatches.__init__)))
    asked = {
        getattr(clock, node.args[0].id)
        for node in ast.walk(init)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "patched"
        and isinstance(node.args[0], ast.Name)
    }
    assert {clock.CURRENT_PATHS, clock.CURRENT_PATHS_18} <= asked  # the scan sees the patches
    assert asked <= set(OLD_PATHS), f"not forced absent: {sorted(asked - set(OLD_PATHS))}"
