"""The long-lived parts of a running receiver, built once from the settings.

Commands and the web app receive a :class:`Context` instead of reaching for globals. Each
part is built on first use, so a command only needs the settings its parts need
(``receiver jobs`` needs no S3 credentials, ``receiver serve`` needs no API key). It is a
context manager: ``with Context(settings) as ctx:`` closes what was built.
"""

from __future__ import annotations

import threading
from functools import cached_property
from types import TracebackType

from receiver import providers
from receiver.config import Settings
from receiver.providers.base import Provider
from receiver.storage import ObjectStore
from receiver.store.database import Database, open_database
from receiver.store.migrate import migrate
from receiver.tokens import CallbackSigner

__all__ = ["Context"]


class Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._providers: dict[str, Provider] = {}
        self._lock = threading.Lock()

    @cached_property
    def db(self) -> Database:
        db = open_database(self.settings.database_url)
        migrate(db)
        return db

    @cached_property
    def store(self) -> ObjectStore:
        # Every archive sends up to RECEIVER_PARTS_IN_FLIGHT parts while it opens, lists or
        # completes; the rest serve the API's presigned links and probes.
        settings = self.settings
        connections = settings.archive_concurrency * (settings.parts_in_flight + 1) + 4
        return ObjectStore(settings, max_connections=connections)

    @cached_property
    def signer(self) -> CallbackSigner:
        return CallbackSigner(
            self.settings.require_secret_keys(), max_age=self.settings.token_max_age
        )

    def provider(self, name: str) -> Provider:
        with self._lock:
            if name not in self._providers:
                self._providers[name] = providers.build(name, self.settings)
            return self._providers[name]

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for provider in self._providers.values():
            provider.close()
        if "db" in self.__dict__:
            self.db.close()
