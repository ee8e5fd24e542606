"""``starter.py demo``'s keys file: a file that does not hold the keys is named, with what to do."""

from __future__ import annotations

import pytest

from cli.demo import demo_keys, demo_keys_file


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"], ids=["not_json", "not_an_object"])
def test_a_keys_file_that_does_not_hold_the_keys_is_named(content: str) -> None:
    path = demo_keys_file()
    kept = path.read_bytes() if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    try:
        with pytest.raises(ValueError) as refused:
            demo_keys()
    finally:
        if kept is None:
            path.unlink()
        else:
            path.write_bytes(kept)
    assert str(path) in str(refused.value) and "move it away and run `starter.py demo` again" in str(refused.value)
