"""PostgreSQL: the store for several receivers and workers sharing one database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from receiver.errors import ConfigError
from receiver.store.database import Connection
from receiver.store.queries import Queries

__all__ = ["PostgresDatabase"]


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, url: str, *, max_connections: int = 10) -> None:
        self.queries = Queries(self.dialect)
        # autocommit: transactions are the explicit `conn.transaction()` blocks below, so a
        # connection returned to the pool never carries a half-open transaction.
        self._pool: ConnectionPool[psycopg.Connection[dict[str, object]]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=False,
            name="receiver",
        )
        try:
            self._pool.open(wait=True, timeout=15)
        except PoolTimeout as exc:
            self._pool.close()
            raise ConfigError(
                "RECEIVER_DATABASE_URL", "cannot connect to PostgreSQL within 15 s"
            ) from exc

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self._pool.connection() as raw, raw.transaction():
            yield Connection(raw, self.queries)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self._pool.connection() as raw, raw.transaction():
            # READ COMMITTED would let each statement see a newer state; a snapshot keeps a
            # job and its asset, deliveries and events consistent with one another.
            raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield Connection(raw, self.queries)

    def ping(self) -> None:
        with self._pool.connection() as raw:
            raw.execute("SELECT 1")

    def reclaim_space(self) -> None:
        """Nothing to do: PostgreSQL's autovacuum reuses the space of deleted rows."""

    def close(self) -> None:
        self._pool.close()
