"""Named SQL queries, loaded from ``.sql`` files so SQL never hides in Python strings.

A file holds blocks that start with ``-- name: some_query``. Parameters are written
``:name``; for PostgreSQL they are rewritten to psycopg's ``%(name)s``. A file named
``queries.postgresql.sql`` may override individual queries for that dialect (row locking,
for instance), so the common case is written once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from importlib import resources

__all__ = ["Queries", "parse_queries", "to_dialect"]

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)
# ":name" but not the "::" of a PostgreSQL cast, nor a ":" inside a word like "12:30".
_PARAM = re.compile(r"(?<![:\w]):(\w+)")


def parse_queries(text: str) -> dict[str, str]:
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        sql = "\n".join(
            line for line in body.strip().splitlines() if not line.lstrip().startswith("--")
        ).strip()
        queries[name] = sql.rstrip(";")
    return queries


def to_dialect(sql: str, dialect: str) -> str:
    """``sql`` with ``:name`` parameters in the placeholder style of ``dialect``'s driver."""
    return _PARAM.sub(r"%(\1)s", sql) if dialect == "postgresql" else sql


class Queries(Mapping[str, str]):
    """The queries of one dialect, by name."""

    def __init__(self, dialect: str) -> None:
        sql_dir = resources.files("receiver.store") / "sql"
        queries = parse_queries((sql_dir / "queries.sql").read_text())
        override = sql_dir / f"queries.{dialect}.sql"
        if override.is_file():
            queries.update(parse_queries(override.read_text()))
        #: The plain dict, for the connections that look a query up per statement.
        self.by_name = {name: to_dialect(sql, dialect) for name, sql in queries.items()}

    def __getitem__(self, name: str) -> str:
        return self.by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_name)

    def __len__(self) -> int:
        return len(self.by_name)
