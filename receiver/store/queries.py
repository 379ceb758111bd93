"""Named SQL queries, loaded from ``.sql`` files so SQL never hides in Python strings.

Every ``sql/*.sql`` file holds blocks that start with ``-- name: some_query``; a name is
defined once across all files. Parameters are written ``:name``; for PostgreSQL they are
rewritten to psycopg's ``%(name)s``.

Where the engines differ, the query is still written once: a line ending in
``-- postgresql only`` (or ``-- sqlite only``) is kept for that dialect and dropped for the
other, so row locking such as ``FOR UPDATE SKIP LOCKED`` is one line of the shared query, not
a copy of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from importlib import resources

__all__ = ["DIALECTS", "Queries", "parse_queries", "to_dialect"]

DIALECTS = ("sqlite", "postgresql")

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)
# ":name" but not the "::" of a PostgreSQL cast, nor a ":" inside a word like "12:30".
_PARAM = re.compile(r"(?<![:\w]):(\w+)")
_ONLY = re.compile(r"^(?P<sql>.*?)\s*--\s*(?P<dialect>\w+)\s+only\s*$")


def parse_queries(text: str, dialect: str | None = None) -> dict[str, str]:
    """The named blocks of ``text``; with ``dialect``, its ``-- X only`` lines resolved."""
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        lines: list[str] = []
        for line in body.strip().splitlines():
            if line.lstrip().startswith("--"):
                continue
            only = _ONLY.match(line)
            if only is None:
                lines.append(line)
                continue
            if only["dialect"] not in DIALECTS:
                raise ValueError(f"query {name!r}: unknown dialect {only['dialect']!r}")
            if only["dialect"] == dialect:
                lines.append(only["sql"])
        queries[name] = "\n".join(lines).strip().rstrip(";").rstrip()
    return queries


def to_dialect(sql: str, dialect: str) -> str:
    """``sql`` with ``:name`` parameters in the placeholder style of ``dialect``'s driver."""
    return _PARAM.sub(r"%(\1)s", sql) if dialect == "postgresql" else sql


def load_queries(dialect: str) -> dict[str, str]:
    """Every named query of every ``sql/*.sql`` file, for ``dialect``, still with ``:name``."""
    sql_dir = resources.files("receiver.store") / "sql"
    queries: dict[str, str] = {}
    for entry in sorted(sql_dir.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".sql") or not entry.is_file():
            continue
        for name, sql in parse_queries(entry.read_text(), dialect).items():
            if name in queries:
                raise ValueError(f"query {name!r} is defined twice ({entry.name})")
            queries[name] = sql
    return queries


class Queries(Mapping[str, str]):
    """The queries of one dialect, by name."""

    def __init__(self, dialect: str) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}")
        #: The plain dict, for the connections that look a query up per statement.
        self.by_name = {
            name: to_dialect(sql, dialect) for name, sql in load_queries(dialect).items()
        }

    def __getitem__(self, name: str) -> str:
        return self.by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_name)

    def __len__(self) -> int:
        return len(self.by_name)
