#!/usr/bin/env python3
"""Build a preset dictionary for the payload codec's packing from the golden histories (issue 18).

``python3 scripts/codec_dictionary.py NAME`` reads every JSON payload of ``tests/golden/*/*_without_defaults.json``
(the records as cases write them now, test data only) with every long number zeroed and names and e-mail addresses
left out (a dictionary ships with the code: not even test persons in it), keeps each distinct one once, puts the
most repeated last (zlib reaches the end of a dictionary with the shortest codes) and writes the last 32 KiB as
``infra/dictionaries/NAME.zdict``, printing its SHA-256 for ``infra.codec.DICTIONARIES``. A dictionary is frozen
once a payload is packed with it: the script never overwrites one; a better dictionary is a new name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap import reexec_in_venv

ROOT = Path(__file__).resolve().parent.parent
SOURCES = "tests/golden/*/*_without_defaults.json"
SIZE = 32 * 1024
"""zlib's window: a longer dictionary is not reached."""
SHORTEST = 64
"""Payloads shorter than this teach the dictionary nothing (and are sealed unpacked)."""


NAMES = frozenset({"full_name", "name", "surname", "patronymic", "complainant", "signed_by", "subject", "email"})
"""Keys whose values name a person (or an organisation's contact): left empty."""
_LONG_NUMBER = re.compile(r"\d{7,}")


def scrubbed(value: Any, key: str = "") -> Any:
    """``value`` with names emptied and every run of seven digits or more zeroed (IINs, phones, serials)."""
    if isinstance(value, dict):
        return {k: scrubbed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [scrubbed(v, key) for v in value]
    if isinstance(value, str):
        return "" if key in NAMES else _LONG_NUMBER.sub(lambda m: "0" * len(m.group()), value)
    return value


def samples(root: Path = ROOT) -> list[bytes]:
    """The serialized payloads of the source histories, scrubbed, as the codec packs them, in history order."""
    from audit.history import load_history, payloads

    out: list[bytes] = []
    for path in sorted(root.glob(SOURCES)):
        for event in load_history(path).events:
            for p in payloads(event):
                if p.metadata.get("encoding") != b"json/plain":
                    continue
                p.data = json.dumps(scrubbed(json.loads(p.data)), ensure_ascii=False, separators=(",", ":")).encode()
                if p.ByteSize() >= SHORTEST:
                    out.append(p.SerializeToString())
    return out


def dictionary(found: list[bytes], size: int = SIZE) -> bytes:
    """Distinct samples, the least repeated first, cut to the last ``size`` bytes."""
    counts = Counter(found)
    order = sorted(counts, key=lambda s: counts[s])  # stable: equal counts keep history order
    return b"".join(order)[-size:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="the dictionary's name, e.g. kz2 (a new name for every new dictionary)")
    args = parser.parse_args()
    target = ROOT / "infra" / "dictionaries" / f"{args.name}.zdict"
    if target.exists():
        print(f"{target.relative_to(ROOT)} exists and may have packed payloads already: choose a new name")
        return 1
    found = samples()
    if not found:
        print(f"no payloads under {SOURCES}: record the golden histories first")
        return 1
    data = dictionary(found)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    print(f"{target.relative_to(ROOT)}: {len(data)} bytes from {len(found)} payloads")
    print(f"sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    reexec_in_venv()
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
