"""Workflow code stays deterministic by construction: the AST of every module under ``workflows/`` is walked and
refuses what would let I/O, settings, calendar computation or the wall clock into a workflow.

What workflow code may import from the layers above it, and why (anything else fails here):
- activity definitions from ``activities.*`` (functions or activity classes): typed references for
  ``workflow.execute_activity(SmsActivities.send_sms, ...)``, as Temporal's samples do. They are never called
  from workflow code (checked below): the worker runs them.
- the edge's keyed hashes and secrets (``EDGE_IMPORTS``), imported inside a module-level function of a
  procedure's spec (its ``case_id``, ``start_at_the_edge``, an event's ``to_update``) that the API runs before a
  case exists or before an Update is sent. The import sits inside that function, so the sandbox, which does not
  pass ``infra`` or ``activities`` through, refuses it should workflow code ever call the function
  (``tests/infra/test_sandbox.py``).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "workflows").rglob("*.py"))

LAYERS_ABOVE = ("infra", "activities", "adapters", "api", "audit", "cli", "worker", "starter", "bench", "demo")
"""Our packages that do I/O or read settings; workflow code imports none of them (but the exceptions above)."""
REFUSED_MODULES = (
    # calendar computation: deadlines come from a recorded activity (DESIGN "Deadlines")
    "holidays",
    "rules.calendar",
    "zoneinfo",
    # settings
    "pydantic_settings",
    "infra.settings",
    # I/O
    "os",
    "pathlib",
    "io",
    "shutil",
    "tempfile",
    "sqlite3",
    "sqlalchemy",
    "sqlmodel",
    "httpx",
    "requests",
    "urllib",
    "http",
    "socket",
    "subprocess",
    "threading",
    "concurrent",
    "jinja2",
    "cryptography",
    # the wall clock and chance (workflow.now(), workflow.random(), workflow.uuid4() instead)
    "time",
    "random",
    "secrets",
    "uuid",
)
EDGE_IMPORTS = {
    ("infra.pseudonym", "case_id"): "the keyed case id of a spec (the key comes from settings)",
    ("activities.otp", "secret_digest"): "the keyed digest of a typed code, made by the API's edge",
    ("activities.eds", "seal_eds_password"): "the EDS password sealed to the issuer by the API's edge",
    ("infra.cases", "check_intake"): "the edge's intake check of a report joining a case (the law of its day)",
    ("infra.cases", "REFERENCE_TAKEN"): "the edge's refusal of a report whose ref another case took in",
    ("infra.cases", "taken_messages"): "the start ledger, read by the edge of a report joining a case",
    ("infra.cases", "remember_message"): "the start ledger, written by the edge once a joining report was taken",
    ("infra.cases", "registered_case"): "the case a complaint names, read by the start's edge for its act",
    ("infra.cases", "CaseError"): "the edge's conflict of a report whose ref another case took in",
    ("infra.cases", "refused"): "the edge's refusals, said from a template: a complaint whose act contradicts its "
    "appealed case's, a biometric report whose session id reads as a personal number, a report about another number",
}
WALL_CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("random", "random"),
    ("uuid", "uuid4"),
}
REFUSED_BUILTINS = {"open", "input", "print", "breakpoint", "exec", "eval"}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str
    names: tuple[str, ...]
    in_function: ast.FunctionDef | ast.AsyncFunctionDef | None
    function_at_module_level: bool


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def visit(node: ast.AST, fn: ast.FunctionDef | ast.AsyncFunctionDef | None, top: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(path, child.lineno, alias.name, (), fn, top)
            elif isinstance(child, ast.ImportFrom):
                names = tuple(a.name for a in child.names)
                yield Import(path, child.lineno, _resolve(path, child), names, fn, top)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(child, child, fn is None and isinstance(node, ast.Module))
            else:
                yield from visit(child, fn, top)

    yield from visit(tree, None, False)


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _is_activity_reference(module: str, name: str) -> bool:
    """An activity function, or a class whose methods include activity definitions (its typed references)."""
    obj = getattr(importlib.import_module(module), name, None)
    if hasattr(obj, "__temporal_activity_definition"):
        return True
    return isinstance(obj, type) and any(hasattr(v, "__temporal_activity_definition") for v in vars(obj).values())


def import_violations(path: Path) -> list[str]:
    """Every import of ``path`` that workflow code may not make, with its line and the reason."""
    out = []
    for imp in _imports(path):
        where = f"{_rel(path)}:{imp.line} {imp.module}"
        if _under(imp.module, REFUSED_MODULES):
            out.append(f"{where}: I/O, settings, calendar computation or the wall clock in workflow code")
        elif _under(imp.module, LAYERS_ABOVE):
            if imp.in_function is not None:
                unjustified = [n for n in imp.names if (imp.module, n) not in EDGE_IMPORTS]
                if unjustified or not imp.names:
                    out.append(f"{where} {unjustified}: not an edge import (EDGE_IMPORTS)")
                elif not imp.function_at_module_level:
                    fn = imp.in_function.name
                    out.append(f"{where}: an edge import inside {fn}, which is not a spec's edge function")
            elif not imp.names or not all(_is_activity_reference(imp.module, n) for n in imp.names):
                refused = [n for n in imp.names if not _is_activity_reference(imp.module, n)] or [imp.module]
                out.append(f"{where} {refused}: workflow code imports only activity definitions from above")
    return out


def _dotted(node: ast.AST) -> tuple[str, ...]:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return tuple(reversed(parts))


def call_violations(path: Path) -> list[str]:
    """Wall-clock and I/O calls, and activity references called directly instead of through the worker."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    activity_names = {
        name
        for imp in _imports(path)
        if imp.in_function is None and _under(imp.module, ("activities",))
        for name in imp.names
    }
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        where = f"{_rel(path)}:{node.lineno} {'.'.join(name)}()"
        if len(name) >= 2 and name[-2:] in WALL_CLOCK_CALLS:
            out.append(f"{where}: the wall clock or chance (workflow.now(), workflow.random(), workflow.uuid4())")
        elif name and len(name) == 1 and name[0] in REFUSED_BUILTINS:
            out.append(f"{where}: I/O in workflow code")
        elif name and name[0] in activity_names:
            out.append(f"{where}: an activity is run by the worker (execute_activity / outside), never called")
    return out


def test_the_walk_sees_every_workflow_module() -> None:
    """The walk covers the package (a rename of the directory must not make the test vacuous)."""
    names = {_module_name(p) for p in FILES}
    assert {"workflows.case", "workflows.clock", "workflows.mvno_permit.workflow", "workflows.complaint"} <= names
    # and it reads the imports inside ``with workflow.unsafe.imports_passed_through():`` blocks
    assert any(i.module == "activities.sms" for i in _imports(ROOT / "workflows" / "complaint.py"))


@pytest.mark.parametrize("path", FILES, ids=[_rel(p) for p in FILES])
def test_workflow_module_imports_nothing_that_does_io(path: Path) -> None:
    assert import_violations(path) == []


@pytest.mark.parametrize("path", FILES, ids=[_rel(p) for p in FILES])
def test_workflow_module_calls_no_clock_io_or_activity_directly(path: Path) -> None:
    assert call_violations(path) == []


def test_the_rules_refuse_what_they_should(tmp_path: Path) -> None:
    """The checks themselves catch each kind of breach (they are not vacuous)."""
    pkg = tmp_path / "workflows"
    pkg.mkdir()
    bad = pkg / "bad.py"
    bad.write_text(
        "from datetime import datetime\n"
        "import random\n"
        "from temporalio import workflow\n"
        "with workflow.unsafe.imports_passed_through():\n"
        "    from infra.calendar import current_calendar\n"
        "    from activities.law import register_case\n"
        "    from activities.otp import OtpActivities, secret_digest\n"
        "    from rules.calendar import WorkingCalendar\n"
        "    from infra.settings import settings\n"
        "def edge(x):\n"
        "    from infra.pseudonym import case_id\n"
        "    return case_id('p', x)\n"
        "class Case:\n"
        "    def run(self):\n"
        "        from infra.pseudonym import case_id\n"
        "        register_case(None)\n"
        "        open('f')\n"
        "        return datetime.now(), OtpActivities.verify_secret(None)\n",
        encoding="utf-8",
    )
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        imports = import_violations(bad)
        calls = call_violations(bad)
    finally:
        ROOT = saved
    assert [v.split(":")[1].split()[0] for v in imports] == ["2", "5", "7", "8", "9", "15"]
    assert "secret_digest" in imports[2] and "OtpActivities" not in imports[2]  # the class is a typed reference
    assert "not a spec's edge function" in imports[-1]
    assert [v.split(":")[1].split()[1] for v in calls] == [
        "register_case()",
        "open()",
        "datetime.now()",
        "OtpActivities.verify_secret()",
    ]
