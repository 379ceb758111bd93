"""Every named query is valid SQL on its engine, against the migrated schema.

Each text is compiled, never run: SQLite's ``EXPLAIN`` and PostgreSQL's ``PREPARE`` parse
it and resolve every table, column and parameter against a migrated database. So a query
that only one engine understands, or that names a column no migration made, fails here and
not on the first request that happens to run it.
"""

from __future__ import annotations

import re
import sqlite3

import psycopg
import pytest

from receiver.store.database import open_database
from receiver.store.migrate import migrate
from receiver.store.queries import Queries, load_queries
from tests.unit.test_named_queries import parameters

pytestmark = pytest.mark.integration

_PSYCOPG_PARAM = re.compile(r"%\((\w+)\)s")


def numbered(sql: str) -> str:
    """``sql`` (psycopg's ``%(name)s`` style) with ``$1``, ``$2``... as ``PREPARE`` wants,
    one number per name, as psycopg binds it."""
    numbers: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        return f"${numbers.setdefault(match[1], len(numbers) + 1)}"

    return _PSYCOPG_PARAM.sub(number, sql)


def test_numbering_gives_each_name_one_number() -> None:
    assert numbered("x = %(a)s OR y = %(b)s OR z = %(a)s") == "x = $1 OR y = $2 OR z = $1"


def test_every_query_compiles_on_its_engine(database_url: str) -> None:
    db = open_database(database_url)
    try:
        migrate(db)
        dialect = db.dialect
    finally:
        db.close()
    if dialect == "sqlite":
        problems = _explain_on_sqlite(database_url.removeprefix("sqlite:///"))
    else:
        problems = _prepare_on_postgresql(database_url)
    assert not problems, "\n".join(f"{name}: {error}" for name, error in problems.items())


def _explain_on_sqlite(path: str) -> dict[str, str]:
    problems = {}
    conn = sqlite3.connect(path)
    try:
        for name, sql in load_queries("sqlite").items():
            # Exactly the parameters the checker reads: one SQLite sees and we do not fails.
            values = dict.fromkeys(parameters(sql))
            try:
                conn.execute(f"EXPLAIN {sql}", values)
            except sqlite3.Error as exc:
                problems[name] = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return problems


def _prepare_on_postgresql(url: str) -> dict[str, str]:
    problems = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name, sql in Queries("postgresql").items():
            try:
                conn.execute(f"PREPARE checked AS {numbered(sql)}")
            except psycopg.Error as exc:
                problems[name] = f"{type(exc).__name__}: {exc}".strip()
                continue
            conn.execute("DEALLOCATE checked")
    return problems
