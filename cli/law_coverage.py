"""The law coverage report: for every paragraph of every seed act, the code that executes it, the tests and
golden histories that exercise it, or why it is deliberately not executed (``starter.py law coverage``).

The trace is read from the sources: citations in the code's strings and docstrings and in its calls of
``rules.law`` (``cite``, ``cite_range``, ``ground``, ``item``, ``items``), the keys of terms (each term's value
names its paragraphs in the law data), the tests' text, and the golden histories' recorded payloads (deadlines,
events and documents carry their citations).
"""

from __future__ import annotations

import ast
import base64
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from jinja2 import Environment, select_autoescape

from rules import law

__all__ = ["CoverageRow", "citations_in", "coverage_rows", "render_html"]

ROOT = Path(__file__).resolve().parent.parent
CODE = ("workflows", "models", "activities", "infra", "adapters", "cli", "api", "audit")
_PART = re.compile(r"\s*([^,;]+?)\s*(?:[,;]|$)")
_LOOKUPS = ("cite", "cite_range", "ground", "item", "items")


@dataclass
class CoverageRow:
    """One paragraph and where it is executed and exercised."""

    act: str
    pid: str
    citation: str
    title: str
    executed: bool
    reason: str
    code: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    goldens: list[str] = field(default_factory=list)


@cache
def _acts() -> dict[str, law.Act]:
    return dict(law.acts())


def citations_in(text: str) -> set[tuple[str, str]]:
    """The (act, paragraph id) pairs a text cites, e.g. ``665/NK p.7, p.9; Annex 1 item 10(1)``."""
    found: set[tuple[str, str]] = set()
    for key, act in _acts().items():
        for m in re.finditer(rf"(?<![\w/]){re.escape(key)} ", text):
            rest = text[m.end() : m.end() + 160]
            for part in _PART.finditer(rest):
                try:
                    p, _ = act.resolve(part.group(1))
                except (LookupError, ValueError):
                    break
                found.add((key, p.id))
                if part.group(0).rstrip().endswith((".", ")")) and not part.group(0).rstrip().endswith((",", ";")):
                    break
    return found


@cache
def _term_paragraphs() -> dict[str, set[tuple[str, str]]]:
    """Each term key → the paragraphs its values cite, under every act declaring it."""
    out: dict[str, set[tuple[str, str]]] = {}
    for key, act in _acts().items():
        for t in act.terms.values():
            for v in t.values:
                for ref in v.reference:
                    try:
                        p, _ = act.resolve(ref)
                    except (LookupError, ValueError):
                        continue
                    out.setdefault(t.key, set()).add((key, p.id))
    return out


def _looked_up(name: str, args: list[str]) -> list[str]:
    """What a call of ``rules.law`` with constant arguments cites: ``cite``, ``cite_range`` (every paragraph of
    the run), ``ground``, ``item`` and ``items`` (their references); nothing when it names nothing of the data."""
    try:
        if name == "cite":
            return [law.cite(*args)]
        if name == "cite_range" and len(args) == 3:
            return [law.cite(args[0], *law.book().span(*args))]
        if name in ("ground", "item") and len(args) == 2:
            return [(law.ground if name == "ground" else law.item)(args[0], args[1]).reference]
        if name == "items" and len(args) == 2:
            return [i.reference for i in law.items(args[0], args[1])]
    except (LookupError, ValueError):
        pass
    return []


def _strings(source: str) -> list[tuple[int, str]]:
    """Every string constant of a module with its line (docstrings and f-string parts included), and each call
    of ``cite``, ``cite_range``, ``ground``, ``item`` or ``items`` with constant arguments written out as the
    citations it builds."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append((node.lineno, node.value))
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if name in _LOOKUPS and len(args) >= 2 and len(args) == len(node.args):
                out += [(node.lineno, cited) for cited in _looked_up(name, args)]
    return out


def _cited(text: str) -> set[tuple[str, str]]:
    found = citations_in(text)
    for key, paragraphs in _term_paragraphs().items():
        if key in text:
            found |= paragraphs
    return found


def _code_index() -> dict[tuple[str, str], list[str]]:
    index: dict[tuple[str, str], list[str]] = {}
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for line, text in _strings(path.read_text(encoding="utf-8")):
                for ref in _cited(text):
                    where = f"{rel}:{line}"
                    if where not in index.setdefault(ref, []):
                        index[ref].append(where)
    return index


def _payload_text(node: object) -> str:
    """A golden history's payloads decoded (``data`` is base64 JSON), joined into one text to search."""
    if isinstance(node, dict):
        if isinstance(node.get("data"), str) and "metadata" in node:
            try:
                return base64.b64decode(node["data"]).decode("utf-8", "replace")
            except ValueError:
                return ""
        return "\n".join(_payload_text(v) for v in node.values())
    if isinstance(node, list):
        return "\n".join(_payload_text(v) for v in node)
    return ""


def _golden_index() -> dict[tuple[str, str], list[str]]:
    index: dict[tuple[str, str], list[str]] = {}
    for path in sorted((ROOT / "tests" / "golden").rglob("*.json")):
        rel = path.relative_to(ROOT).as_posix()
        for ref in _cited(_payload_text(json.loads(path.read_text(encoding="utf-8")))):
            index.setdefault(ref, []).append(rel)
    return index


def _records(strings: set[str], stem: str) -> bool:
    """Whether a test module whose string constants are ``strings`` records the golden history ``stem``
    (named in full, or as a prefix and a suffix such as ``f"{path}_notices_by_activity"``)."""
    if stem in strings:
        return True
    return any(len(s) > 4 and stem.endswith(s) and stem[: -len(s)] in strings for s in strings)


def _test_index(goldens: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], list[str]]:
    """The tests that cite a paragraph, or that record a golden history in which it is cited."""
    recorders: list[tuple[str, set[str]]] = []
    index: dict[tuple[str, str], list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text(encoding="utf-8")
        if "save_golden(" in text:
            recorders.append((rel, {s for _, s in _strings(text)}))
        for ref in _cited(text):
            index.setdefault(ref, []).append(rel)
    for ref, files in goldens.items():
        for golden in files:
            stem = Path(golden).stem
            for test, strings in recorders:
                if _records(strings, stem) and test not in index.setdefault(ref, []):
                    index[ref].append(test)
    return index


def coverage_rows(act: str | None = None) -> list[CoverageRow]:
    """Every paragraph of ``act`` (default: every act) with its trace in code, tests and golden histories."""
    code = _code_index()
    goldens = _golden_index()
    tests = _test_index(goldens)
    rows = []
    for key in [act] if act else sorted(_acts()):
        for p in law.coverage(key):
            ref = (key, p.id)
            rows.append(
                CoverageRow(
                    act=key,
                    pid=p.id,
                    citation=p.citation,
                    title=p.title,
                    executed=p.executed,
                    reason=p.reason,
                    code=code.get(ref, []),
                    tests=tests.get(ref, []),
                    goldens=goldens.get(ref, []),
                )
            )
    return rows


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Law coverage</title>
<style>body{font-family:sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.3rem;vertical-align:top;font-size:.9rem}th{background:#eef}
.no{color:#777}.gap{background:#fff4e5}code{font-size:.8rem}</style></head><body>
<h1>Law coverage</h1>
<p>{{ executed }} of {{ rows|length }} paragraphs are executed by the engine; {{ tested }} of them are exercised by
tests, {{ recorded }} appear in golden histories. The others are deliberately not executed, with the reason.</p>
{% for act, group in rows|groupby("act") %}
<h2>{{ act }}</h2>
<table><tr><th>paragraph</th><th>what</th><th>code</th><th>tests</th><th>golden histories</th></tr>
{% for r in group %}
<tr class="{{ '' if r.executed else 'no' }}{{ ' gap' if r.executed and not r.tests else '' }}">
<td>{{ r.citation }}</td>
<td>{{ r.title }}{% if not r.executed %}<br><em>not executed: {{ r.reason }}</em>{% endif %}</td>
<td>{% for c in r.code %}<code>{{ c }}</code><br>{% endfor %}</td>
<td>{% for t in r.tests %}<code>{{ t }}</code><br>{% endfor %}</td>
<td>{% for g in r.goldens %}<code>{{ g }}</code><br>{% endfor %}</td></tr>
{% endfor %}</table>
{% endfor %}
</body></html>
"""


def render_html(rows: list[CoverageRow]) -> str:
    """The report as one HTML page."""
    env = Environment(autoescape=select_autoescape(default=True))
    executed = [r for r in rows if r.executed]
    return env.from_string(_TEMPLATE).render(
        rows=rows,
        executed=len(executed),
        tested=sum(1 for r in executed if r.tests),
        recorded=sum(1 for r in executed if r.goldens),
    )
