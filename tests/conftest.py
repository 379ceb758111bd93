"""Fixtures shared by every test layer: settings, a migrated database, a real SeaweedFS.

Database-backed tests run twice, on SQLite and on PostgreSQL (``database_url`` is
parametrized), so the two backends cannot drift apart. Each PostgreSQL test gets its own
database, cloned from a template migrated once per session (fast, and isolated).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from receiver.config import Settings
from receiver.devtools.seaweed import Credentials, SeaweedFS
from receiver.store.database import Database, open_database
from receiver.store.migrate import migrate
from receiver.store.queries import to_dialect

SECRET_KEY = "test-secret-key-" + "x" * 24
POSTGRES = os.environ.get("RECEIVER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One real SeaweedFS for the session, credentials enforced."""
    credentials = Credentials("test" + secrets.token_hex(6), secrets.token_urlsafe(24))
    with SeaweedFS(tmp_path_factory.mktemp("seaweedfs"), credentials) as server:
        yield server


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(f"{POSTGRES}/postgres", autocommit=True)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = f"receiver_template_{secrets.token_hex(4)}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db = open_database(f"{POSTGRES}/{name}")
    migrate(db)
    db.close()
    yield name
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'receiver.db'}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"receiver_test_{secrets.token_hex(6)}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield f"{POSTGRES}/{name}"
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "RECEIVER_DATABASE_URL": f"sqlite:///{tmp_path / 'receiver.db'}",
        "RECEIVER_PUBLIC_URL": "http://127.0.0.1:9",
        "RECEIVER_SECRET_KEYS": SECRET_KEY,
        "RECEIVER_INSECURE": "1",
        "RECEIVER_S3_BUCKET": "test-" + secrets.token_hex(6),
        "EVOLINK_API_KEY": "sk-evo-test",
        "EVOLINK_BASE_URL": "http://127.0.0.1:9",
        "RECEIVER_LOG_FORMAT": "json",
    }
    env.update(overrides)
    return env


def s3_env(server: SeaweedFS) -> dict[str, str]:
    return {
        "RECEIVER_S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_ACCESS_KEY_ID": server.credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": server.credentials.secret_key,
        "AWS_REGION": "us-east-1",
    }


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings.from_env(make_env(tmp_path, RECEIVER_DATABASE_URL=database_url))


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings.database_url)
    migrate(database)
    yield database
    database.close()


def run_sql(db: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Ad-hoc SQL for tests that look under the hood (``:name`` parameters, any dialect)."""
    with db.transaction() as conn:
        cursor = conn._raw.execute(to_dialect(sql, db.dialect), params)
        return list(cursor.fetchall()) if cursor.description else []
