"""Amended law for tests: the package's law files with one act's file edited, as a ``LawBook`` that a test
puts in place of the package's (``use_law``) so the worker's activities compute under it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

import rules.law
from rules.law import LawBook, package_files

__all__ = ["amended_171", "use_law"]


def amended_book(tmp_path: Path, file_name: str, edit: Callable[[str], str]) -> LawBook:
    """Every package law file, with ``file_name`` edited by ``edit``."""
    paths = []
    for path in package_files():
        if path.name == file_name:
            target = tmp_path / path.name
            target.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
            paths.append(target)
        else:
            paths.append(path)
    return LawBook.from_files(paths)


def amended_171(
    tmp_path: Path,
    *,
    in_force_from: date,
    check_days: int,
    version: str = "171/test-amendment",
    expected: bool = False,
) -> LawBook:
    """Act 171 with a further version, in force from ``in_force_from``, that sets ``fraud.check`` to
    ``check_days`` working days (171 p.119); ``expected``: announced, not law yet (a draft)."""
    published = in_force_from - timedelta(days=11)  # "10 calendar days after publication"

    def edit(text: str) -> str:
        old = '  amount = 2\n  reference = ["p.119"]\n'
        assert text.count(old) == 1, "171.toml: the fraud.check value moved"
        text = text.replace(
            old, old + f'\n  [[term.value]]\n  since = "{version}"\n  amount = {check_days}\n  reference = ["p.119"]\n'
        )
        return (
            text
            + f"""
[[version]]
id = "{version}"
basis = "a test amendment of p.119"
published = {published.isoformat()}
in_force = "10 calendar days after publication"
source = "tests/laws.py"
"""
            + ("expected = true\n" if expected else "")
        )

    return amended_book(tmp_path, "171.toml", edit)


def use_law(monkeypatch: pytest.MonkeyPatch, book: LawBook) -> None:
    """Put ``book`` in place of the package's law for the rest of the test (the worker runs in this process)."""
    monkeypatch.setattr(rules.law, "book", lambda: book)
