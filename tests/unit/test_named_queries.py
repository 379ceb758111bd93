"""The named queries, checked against their callers without a database.

Every ``-- name:`` block of ``receiver/store/sql/*.sql`` is parsed for both dialects, and
every ``execute`` / ``fetch_one`` / ``fetch_all`` call that passes a query's name (in
``receiver/``, the tests and the benchmarks) is read from the source: it must name a query
that exists and pass exactly that query's parameters. A missing one fails at run time on
both engines, but only on the path that runs it; an extra one SQLite and psycopg both ignore
silently, which hides a typo or a parameter the SQL lost.

``tests/integration/test_query_texts.py`` runs every text through each engine's parser.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from receiver.store.queries import DIALECTS, Queries, load_queries, to_dialect

ROOT = Path(__file__).resolve().parents[2]
RECEIVER = ROOT / "receiver"
STORE = RECEIVER / "store"
#: Where calls with a query's name are looked for.
CALLERS = (RECEIVER, ROOT / "tests", ROOT / "bench")
#: The methods of ``receiver.store.database.Connection`` that run a named query.
METHODS = frozenset({"execute", "fetch_one", "fetch_all"})
#: A query's name; raw statements ("BEGIN", "PRAGMA ...", "SELECT 1") never look like one.
QUERY_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: The modules below the named queries: they run raw SQL, or a query looked up by name.
ENGINE = frozenset(
    STORE / name
    for name in ("database.py", "sqlite.py", "postgres.py", "wakeups.py", "group_commit.py")
)
_PSYCOPG_PARAM = re.compile(r"%\((\w+)\)s")


def parameters(sql: str) -> frozenset[str]:
    """The ``:name`` parameters of ``sql``, as the driver sees them.

    Read from the text :func:`to_dialect` gives psycopg, so a ``::`` cast or a ``12:30`` in
    the SQL counts exactly as it does at run time.
    """
    return frozenset(_PSYCOPG_PARAM.findall(to_dialect(sql, "postgresql")))


@cache
def query_parameters() -> dict[str, frozenset[str]]:
    """Every query's parameters, over both dialects (a call must satisfy both)."""
    merged: dict[str, frozenset[str]] = {}
    for dialect in DIALECTS:
        for name, sql in load_queries(dialect).items():
            merged[name] = merged.get(name, frozenset()) | parameters(sql)
    return merged


@dataclass(frozen=True)
class Call:
    path: Path
    line: int
    method: str
    #: The query's name, or None when the first argument is not a string written out.
    name: str | None
    #: The keyword arguments, ``**{"from": x}`` included; None when a ``**`` hides some.
    keywords: frozenset[str] | None
    positional: int

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.method}({self.name!r})"


def _keywords(call: ast.Call) -> frozenset[str] | None:
    names: set[str] = set()
    for keyword in call.keywords:
        if keyword.arg is not None:
            names.add(keyword.arg)
            continue
        spread = keyword.value
        if not isinstance(spread, ast.Dict):
            return None
        for key in spread.keys:
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                return None
            names.add(key.value)
    return frozenset(names)


def calls_in(path: Path) -> Iterator[Call]:
    """Every ``x.execute/fetch_one/fetch_all(...)`` call of the module at ``path``, except
    those given a raw SQL statement written out."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in METHODS
            and node.args
        ):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            if not QUERY_NAME.fullmatch(first.value):
                continue
            name: str | None = first.value
        else:
            name = None
        yield Call(path, node.lineno, node.func.attr, name, _keywords(node), len(node.args) - 1)


def modules(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        yield from sorted(folder.rglob("*.py"))


def mismatch(call: Call, known: dict[str, frozenset[str]]) -> str | None:
    """What is wrong with a call that names a query, or None."""
    assert call.name is not None
    if call.name not in known:
        return "no such query"
    if call.positional:
        return "parameters go by keyword, never by position"
    expected = known[call.name]
    if call.keywords is None:
        return None  # checked apart: test_repositories_write_every_call_out
    missing, extra = sorted(expected - call.keywords), sorted(call.keywords - expected)
    if not (missing or extra):
        return None
    return f"missing {missing}, extra {extra}"


# ── (a) the queries ──


def test_both_dialects_have_the_same_queries_with_the_same_parameters() -> None:
    sqlite, postgresql = load_queries("sqlite"), load_queries("postgresql")
    assert sqlite.keys() == postgresql.keys()
    assert len(sqlite) > 50
    differ = {
        name: (sorted(parameters(sqlite[name])), sorted(parameters(postgresql[name])))
        for name in sqlite
        if parameters(sqlite[name]) != parameters(postgresql[name])
    }
    assert not differ, "a -- <dialect> only line must not add or drop a parameter"


def test_every_query_is_one_statement_with_named_parameters_only() -> None:
    problems = {}
    for dialect in DIALECTS:
        for name, sql in Queries(dialect).items():
            bare = _PSYCOPG_PARAM.sub("", sql)
            if not sql.strip():
                problems[dialect, name] = "empty"
            elif ";" in sql:
                problems[dialect, name] = "more than one statement"
            elif "?" in sql:
                problems[dialect, name] = "a positional '?' parameter"
            elif dialect == "postgresql" and "%" in bare:
                # psycopg reads every % as a placeholder: a literal one must be written %%.
                problems[dialect, name] = "a bare %"
            elif dialect == "sqlite" and "%(" in sql:
                problems[dialect, name] = "a psycopg placeholder"
    assert not problems


def test_parameters_are_read_as_the_driver_reads_them() -> None:
    assert parameters("SELECT :a, :b::text, '12:30', x = :a") == {"a", "b"}
    assert parameters("SELECT 1") == frozenset()
    assert query_parameters()["get_job"] == {"id"}
    assert query_parameters()["lock_budget"] == frozenset()


# ── (b) the calls ──


def test_the_call_reader_sees_names_keywords_and_spreads(tmp_path: Path) -> None:
    module = tmp_path / "caller.py"
    module.write_text(
        "conn.execute('get_job', id=1)\n"
        "conn.fetch_all('advance_job', to=1, **{'from': 2})\n"
        "conn.fetch_one(query, **row)\n"
        "raw.execute('BEGIN IMMEDIATE')\n"
        "raw.execute('SELECT 1')\n"
        "other.call('get_job')\n"
    )
    found = [(c.line, c.method, c.name, c.keywords) for c in calls_in(module)]
    assert found == [
        (1, "execute", "get_job", {"id"}),
        (2, "fetch_all", "advance_job", {"to", "from"}),
        (3, "fetch_one", None, None),
    ]
    known = {"get_job": frozenset({"id"})}
    assert mismatch(Call(module, 1, "execute", "get_job", frozenset({"id"}), 0), known) is None
    assert mismatch(Call(module, 1, "execute", "get_jobs", frozenset(), 0), known)
    assert mismatch(Call(module, 1, "execute", "get_job", frozenset({"id", "x"}), 0), known)
    assert mismatch(Call(module, 1, "execute", "get_job", frozenset(), 0), known)
    assert mismatch(Call(module, 1, "execute", "get_job", frozenset({"id"}), 1), known)


def test_every_call_names_a_query_and_passes_exactly_its_parameters() -> None:
    known = query_parameters()
    checked, wrong = 0, []
    for path in modules(*CALLERS):
        for call in calls_in(path):
            if call.name is None:
                continue
            checked += 1
            problem = mismatch(call, known)
            if problem is not None:
                wrong.append(f"{call}: {problem}")
    assert checked > 50
    assert not wrong, "\n".join(wrong)


def test_repositories_write_every_call_out() -> None:
    """A repository names its query and its parameters literally, so the test above can
    check them: no name in a variable, no ``**row``."""
    hidden = [
        f"{call}: {'the name' if call.name is None else 'a **spread'} hides what it runs"
        for path in modules(STORE)
        if path not in ENGINE
        for call in calls_in(path)
        if call.name is None or call.keywords is None
    ]
    assert not hidden, "\n".join(hidden)


# ── (c) who calls them ──


def test_only_repositories_call_named_queries() -> None:
    """Outside ``receiver/store/``, code asks a repository (``Jobs(conn).get(...)``), never
    the connection for a query by name."""
    outside = [
        str(call)
        for path in modules(RECEIVER)
        if not path.is_relative_to(STORE)
        for call in calls_in(path)
    ]
    assert not outside, "\n".join(outside)
