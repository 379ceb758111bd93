"""Fixtures shared by every test layer: settings, a migrated database, a real SeaweedFS."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver.config import Settings
from receiver.seaweed import Credentials, SeaweedFS
from receiver.store.database import Database
from receiver.store.migrate import migrate

SECRET_KEY = "test-secret-key-" + "x" * 24


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One real SeaweedFS for the session, credentials enforced."""
    credentials = Credentials("test" + secrets.token_hex(6), secrets.token_urlsafe(24))
    with SeaweedFS(tmp_path_factory.mktemp("seaweedfs"), credentials) as server:
        yield server


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
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(make_env(tmp_path))


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.open(settings.database_url)
    migrate(database)
    yield database
    database.close()
