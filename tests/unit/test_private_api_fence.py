"""No module of receiver/ outside the fence (receiver/compat) reaches into a dependency's privates.

Private means a name with a leading underscore in another package (the standard library's
included): a module imported (``import x._y``, ``from x._y import z``), a name imported
(``from x import _y``), an attribute read off an imported module (``hashlib._Hash``), or an
attribute set on an object that is not our own (``transport._pool = ...``). receiver's own
private modules and names (``receiver.client._models``, ``self._x``) are not a dependency's.
Inside the fence, every private name used must be one its module's ``REACHES`` lists.
"""

from __future__ import annotations

import ast
import importlib
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "receiver"
FENCE = "receiver/compat/"

#: Underscored names that are documented public API.
PUBLIC = frozenset({"os._exit", "sys._getframe"})

#: Reaches found outside the fence in files other helpers are changing, each to be replaced
#: by its fenced equivalent (named here) when they are done. An entry no longer needed fails
#: the test: delete it.
PENDING: dict[tuple[str, str], str] = {}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _foreign(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] not in {"receiver", "__future__"}


def private_reaches(source: str) -> list[tuple[int, str]]:
    """(line, what) for every reach into another package's private names in ``source``."""
    tree = ast.parse(source)
    modules: set[str] = set()  # names bound to imported foreign modules
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        found.extend(_imported(node, modules))
    for node in ast.walk(tree):
        found.extend(_touched(node, modules))
    return sorted(set(found))


def _imported(node: ast.AST, modules: set[str]) -> list[tuple[int, str]]:
    """Private modules and names imported from other packages; their modules' names noted."""
    found: list[tuple[int, str]] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if _foreign(alias.name):
                modules.add(alias.asname or alias.name.split(".", maxsplit=1)[0])
                if any(_private(part) for part in alias.name.split(".")):
                    found.append((node.lineno, f"import {alias.name}"))
    elif (
        isinstance(node, ast.ImportFrom)
        and node.level == 0
        and node.module
        and _foreign(node.module)
    ):
        if any(_private(part) for part in node.module.split(".")):
            found.append((node.lineno, f"from {node.module} import"))
        found.extend(
            (node.lineno, f"{node.module}.{alias.name}")
            for alias in node.names
            if _private(alias.name)
        )
    return found


def _touched(node: ast.AST, modules: set[str]) -> list[tuple[int, str]]:
    """A private attribute read off an imported module, or set on an object not our own."""
    found: list[tuple[int, str]] = []
    if isinstance(node, ast.Attribute) and _private(node.attr):
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in modules:
            dotted = f"{owner.id}.{node.attr}"
            if dotted not in PUBLIC:
                found.append((node.lineno, dotted))
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    found.extend(
        (target.lineno, f"{ast.unparse(target)} =")
        for target in targets
        if isinstance(target, ast.Attribute) and _private(target.attr) and not _ours(target.value)
    )
    return found


def _ours(value: ast.expr) -> bool:
    """``self``, ``cls`` or ``type(self)``: an object of a class the module defines."""
    if isinstance(value, ast.Name):
        return value.id in {"self", "cls"}
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "type"
        and len(value.args) == 1
        and isinstance(value.args[0], ast.Name)
        and value.args[0].id == "self"
    )


def _sources() -> list[tuple[str, str]]:
    return [
        (path.relative_to(ROOT).as_posix(), path.read_text())
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def _pending(path: str, what: str) -> tuple[str, str] | None:
    for pattern, reach in PENDING:
        if fnmatch(path, pattern) and what == reach:
            return pattern, reach
    return None


def test_only_the_fence_reaches_into_a_dependencys_private_names() -> None:
    offending: list[str] = []
    used: set[tuple[str, str]] = set()
    for path, source in _sources():
        if path.startswith(FENCE):
            continue
        for line, what in private_reaches(source):
            pending = _pending(path, what)
            if pending is not None:
                used.add(pending)
            else:
                offending.append(f"{path}:{line}: {what}")
    assert not offending, (
        "private names of dependencies outside receiver/compat (move each into the fenced "
        "module of its dependency, with its Reach, and import it from there):\n"
        + "\n".join(offending)
    )
    assert not set(PENDING) - used, (
        f"no longer used, delete from PENDING: {sorted(set(PENDING) - used)}"
    )


def test_every_private_name_in_the_fence_is_a_listed_reach() -> None:
    for path, source in _sources():
        if not path.startswith(FENCE):
            continue
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        listed = " ".join(reach.name for reach in getattr(module, "REACHES", ()))
        for line, what in private_reaches(source):
            if what.endswith(" ="):  # an attribute set on a dependency's object: its name
                name = "." + what.removesuffix(" =").rpartition(".")[2]
            else:
                name = what.removeprefix("from ").removeprefix("import ").removesuffix(" import")
            assert name in listed, f"{path}:{line}: {what} is not in its REACHES"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from starlette._utils import get_route_path", ["from starlette._utils import"]),
        ("import httpcore._sync", ["import httpcore._sync"]),
        ("from botocore.retries import _x", ["botocore.retries._x"]),
        ("import hashlib\nh: hashlib._Hash", ["hashlib._Hash"]),
        ("import httpx\nt = httpx.HTTPTransport()\nt._pool = 1", ["t._pool ="]),
        ("import os\nos._exit(1)", []),
        ("from receiver.client._models import Job", []),
        ("from ._models import Job", []),
        ("class A:\n    def f(self):\n        self._x = 1\n        type(self)._y = 2", []),
        ("def f(parts):\n    return parts._replace(a=1)", []),
    ],
)
def test_the_check_sees_each_kind_of_reach(source: str, expected: list[str]) -> None:
    assert [what for _, what in private_reaches(source)] == expected
