"""docs/guarantees.md names a test for every promise, and every test it names exists.

A promise whose test was renamed or deleted would otherwise go on being made with nothing
behind it; a row without a test is a promise nobody checks.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "docs" / "guarantees.md"
_TEST = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


@cache
def _tests_in(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text())
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    )


def _rows() -> list[str]:
    return [
        line
        for line in LEDGER.read_text().splitlines()
        if line.startswith("| ") and "---" not in line
    ]


def test_every_test_the_ledger_names_exists() -> None:
    named = _TEST.findall(LEDGER.read_text())
    assert len(named) > 100
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).is_file() or name not in _tests_in(ROOT / path)
    ]
    assert missing == []


def test_every_promise_in_the_ledger_names_its_test() -> None:
    promises = [row for row in _rows() if not row.startswith("| promise")]
    assert promises
    without = [row for row in promises if not _TEST.search(row)]
    assert without == []
