"""No citation is spelled in code: workflows, models, documents and the command line take them from ``rules/data``.

A citation of one of our acts (``665/NK p.7``, ``58 Annex item 3``, ``almatel-eds step 2`` …) may stand in a
docstring, where code says which paragraph it executes; anywhere else it is built by ``rules.law.cite(...)``
(or read from ``law.ground``/``law.item``) so that it names a paragraph the data declare.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rules import law

ROOT = Path(__file__).resolve().parent.parent
CODE = ("workflows", "models", "cli", "activities", "api", "infra", "audit", "adapters")
ENTRY_POINTS = ("starter.py", "worker.py")
CITATION = re.compile(r"(?<![\w/])(58|71|171|665/NK|almatel-eds|305/NK|554/NK) (p\.|Annex|step|art\.|Order)")
LOOKUPS = {"cite": law.cite, "cite_range": law.cite_range, "ground": law.ground, "item": law.item, "items": law.items}


def _modules() -> list[Path]:
    return sorted(p for folder in CODE for p in (ROOT / folder).rglob("*.py")) + [ROOT / m for m in ENTRY_POINTS]


def _documentation(tree: ast.AST) -> set[int]:
    """The ids of string constants that are statements of their own: module, class and function docstrings
    and the docstrings of fields and constants (a string under an assignment)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def _strings(tree: ast.AST) -> Iterator[ast.Constant]:
    """Every string constant that is not documentation, f-string parts included."""
    docs = _documentation(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node


def _stray(path: Path) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{rel}:{s.lineno}: {s.value!r}" for s in _strings(tree) if CITATION.search(s.value)]


def _lookups(path: Path) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """Calls of ``rules.law`` lookups (``LOOKUPS``) whose arguments are all string constants."""
    rel = path.relative_to(ROOT).as_posix()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or node.keywords or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if name in LOOKUPS and len(args) == len(node.args):
            yield f"{rel}:{node.lineno}", name, tuple(args)


def test_the_pattern_finds_what_code_used_to_spell() -> None:
    for text in ("665/NK p.7; Annex 1 item 10", "(171 p.120)", "almatel-eds step 3", "58 Annex item 3", "71 p.12"):
        assert CITATION.search(text), text
    for text in ("a 7-working-day term", "act 71", "171 numbers", "ИИН 900101300017 p.1", "x/58 p.1"):
        assert not CITATION.search(text), text
    tree = ast.parse('"""58 p.5"""\nX = 1\n"""71 p.7"""\ndef f():\n    """665/NK p.6"""\n    return f"a (171 p.{X})"\n')
    assert [s.value for s in _strings(tree)] == ["a (171 p.", ")"]


@pytest.mark.parametrize("part", [*CODE, *ENTRY_POINTS])
def test_no_citation_is_spelled_in_code(part: str) -> None:
    stray = [line for path in _modules() if path.is_relative_to(ROOT / part) for line in _stray(path)]
    assert not stray, (
        f"{len(stray)} citation(s) spelled in {part} outside docstrings: build them with "
        "rules.law.cite(act, *paragraphs) or read them from law.ground/law.item\n" + "\n".join(stray)
    )


def test_every_constant_citation_names_paragraphs_the_data_declare() -> None:
    calls = [c for path in _modules() for c in _lookups(path)]
    assert any(name == "cite" for _, name, _ in calls)  # the sweep left cite(...) calls to check
    wrong = []
    for where, name, args in calls:
        try:
            found = LOOKUPS[name](*args)
        except (LookupError, ValueError) as exc:
            wrong.append(f"{where}: {name}{args}: {exc}")
            continue
        if not found:
            wrong.append(f"{where}: {name}{args}: the act has no such items")
    assert not wrong, "\n".join(wrong)
