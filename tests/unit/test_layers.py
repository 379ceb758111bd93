"""The layers of docs/architecture.md hold: `lint-imports` keeps every contract.

`make lint` runs the same command; this test makes the promise part of `make test` too, so
docs/guarantees.md can name it. The contracts themselves are in pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    kept = result.stdout.count(" KEPT")
    assert kept == len(contracts) >= 7, result.stdout
