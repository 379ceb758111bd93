"""The composition root: which parts each kind of process runs, and in what order."""

from __future__ import annotations

from pathlib import Path

import pytest

from receiver import runtime
from receiver.config import Settings
from receiver.context import Context
from receiver.errors import ServiceError
from receiver.housekeeping import Housekeeper
from tests.conftest import make_env
from tests.webhooks import new_secret


def context(tmp_path: Path, **env: str) -> Context:
    return Context(Settings.from_env(make_env(tmp_path, **env)))


NOTIFY = {"RECEIVER_NOTIFY_URLS": "http://127.0.0.1:9/hook", "RECEIVER_NOTIFY_SECRET": new_secret()}


@pytest.mark.parametrize(
    ("notify", "expected"),
    [
        (False, ["group_committer", "archive_threads", "chores"]),
        (True, ["group_committer", "archive_threads", "chores", "notifier"]),
    ],
)
def test_serve_runs_the_committer_and_everything_a_worker_runs(
    tmp_path: Path, notify: bool, expected: list[str]
) -> None:
    with context(tmp_path, **(NOTIFY if notify else {})) as ctx:
        web = runtime.web_parts(ctx, archive=True)
        assert web.parts.names == expected
        assert web.wake is not None


def test_serve_without_a_worker_only_commits(tmp_path: Path) -> None:
    with context(tmp_path, **NOTIFY) as ctx:
        web = runtime.web_parts(ctx, archive=False)
        assert web.parts.names == ["group_committer"]
        assert web.wake is None


def test_a_worker_runs_archives_chores_notifier_and_metrics(tmp_path: Path) -> None:
    with context(tmp_path, **NOTIFY) as ctx:
        parts = runtime.worker_parts(ctx, metrics_port=9)
        assert parts.names == ["archive_threads", "chores", "notifier", "metrics_server"]
    with context(tmp_path) as ctx:
        assert runtime.worker_parts(ctx).names == ["archive_threads", "chores"]


def test_the_chores_are_the_watchdog_deadline_warning_and_purges(tmp_path: Path) -> None:
    with context(tmp_path) as ctx:
        (_, chores) = runtime.worker_parts(ctx).parts
        assert isinstance(chores, Housekeeper)
        assert [chore.name for chore in chores.chores] == [
            "watchdog",
            "deadline_warning",
            "purge_rejected",
            "drop_stale_outbox",
            "retention",
        ]


class Recorder:
    def __init__(self, name: str, log: list[str], *, fails: bool = False) -> None:
        self.name = name
        self._log = log
        self._fails = fails

    def start(self) -> None:
        if self._fails:
            raise ServiceError(f"{self.name} cannot start")
        self._log.append(f"start {self.name}")

    def stop(self) -> None:
        self._log.append(f"stop {self.name}")


def test_parts_stop_in_reverse_order() -> None:
    log: list[str] = []
    with runtime.Parts([Recorder("a", log), Recorder("b", log)]):
        log.append("running")
    assert log == ["start a", "start b", "running", "stop b", "stop a"]


def test_a_part_that_cannot_start_stops_those_already_started() -> None:
    log: list[str] = []
    parts = runtime.Parts([Recorder("a", log), Recorder("b", log), Recorder("c", log, fails=True)])
    with pytest.raises(ServiceError, match="c cannot start"):
        parts.start()
    assert log == ["start a", "start b", "stop b", "stop a"]
