#!/usr/bin/env python3
"""Run the benchmarks (creates the virtual environment if missing); results go to bench/results/.

``python3 scripts/benchmark.py`` runs all; ``… calendar storm`` some; ``--quick`` small sizes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap import reexec_in_venv

if __name__ == "__main__":
    reexec_in_venv()
    sys.exit(subprocess.call([sys.executable, "-m", "bench.run", *sys.argv[1:]]))
