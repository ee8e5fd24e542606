"""``starter.py demo``'s keys file: kept keys are the demo's working keys; anything else is named, with what to do,
never handed to a user as the key to sign in with."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.auth import revoke_key
from cli.demo import KEY_ROLES, demo_keys, demo_keys_file


@pytest.fixture
def keys_file() -> Iterator[Path]:
    """The demo keys file, put back as it was after the test."""
    path = demo_keys_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    yield path
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    if kept is not None:
        path.write_bytes(kept)


def _text(content: str) -> Callable[[Path], object]:
    return lambda path: path.write_text(content)


DAMAGED: dict[str, Callable[[Path], object]] = {
    "not_json": _text("{not json"),
    "a_list": _text("[1, 2]"),
    "empty_object": _text("{}"),
    "one_fake_key": _text('{"staff": "garbage"}'),
    "fake_keys_for_every_name": _text(json.dumps(dict.fromkeys(KEY_ROLES, "kz_0000.garbage"))),
    "a_directory": lambda path: path.mkdir(),
    "a_dangling_link": lambda path: path.symlink_to(path.parent / "nowhere-keys.json"),
}


@pytest.mark.parametrize("damage", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_keys_file_that_does_not_hold_working_keys_is_named(
    keys_file: Path, damage: Callable[[Path], object]
) -> None:
    damage(keys_file)
    with pytest.raises(ValueError) as refused:
        demo_keys()
    assert str(keys_file) in str(refused.value) and "move it away and run `starter.py demo` again" in str(refused.value)
    assert not (keys_file.parent / "nowhere-keys.json").exists()  # nothing written through a link


def test_kept_keys_are_given_back_until_one_is_revoked(keys_file: Path) -> None:
    if keys_file.exists():
        keys_file.unlink()
    made = demo_keys()
    assert set(made) == set(KEY_ROLES) and demo_keys() == made  # kept, not made again
    revoke_key(made["auditor"].removeprefix("kz_").split(".")[0])
    with pytest.raises(ValueError, match="no longer accepts \\(auditor: revoked"):
        demo_keys()
