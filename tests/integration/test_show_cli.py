"""``receiver show`` in-process on a real database: a provider's error text holding terminal
control sequences is printed escaped; ``--json`` prints it exactly."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from receiver import logs
from receiver.cli import main
from receiver.store.database import open_database
from receiver.store.migrate import migrate
from tests.conftest import make_env, run_sql

pytestmark = pytest.mark.integration

#: Clear the screen, retitle the terminal (OSC ... BEL), and a one-byte C1 CSI.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x9b31mred"
RAW = ("\x1b", "\x07", "\x9b")


@pytest.fixture
def job_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    env = make_env(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)
    before = structlog.get_config()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    db = open_database(env["RECEIVER_DATABASE_URL"])
    try:
        migrate(db)
        now = "2026-05-01T12:00:00.000000Z"
        run_sql(
            db,
            "INSERT INTO jobs (id, provider, model, prompt, params, status, task_id,"
            " provider_status, error_code, error_message, attention, created_at, submitted_at,"
            " finished_at, updated_at) VALUES ('job_hostile', 'evolink', 'veo3', :prompt, '{}',"
            " 'failed', 'task_1', :status, 'E1', :message, :attention, :now, :now, :now, :now)",
            prompt="a fox " + HOSTILE,
            status="failed" + HOSTILE,
            message="content policy: " + HOSTILE,
            attention="look " + HOSTILE,
            now=now,
        )
    finally:
        db.close()
    yield "job_hostile"
    structlog.configure(**before)


def test_show_escapes_control_sequences_from_the_provider(
    job_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", job_id]) == 0
    out = capsys.readouterr().out
    for raw in RAW:
        assert raw not in out, repr(out)
    assert "error     E1 content policy: \\x1b[2J\\x1b]0;pwned\\x07\\x9b31mred" in out

    assert main(["show", job_id, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["error"]["message"] == "content policy: " + HOSTILE
    assert document["prompt"] == "a fox " + HOSTILE

    assert main(["jobs"]) == 0
    out = capsys.readouterr().out
    assert job_id in out
    for raw in RAW:
        assert raw not in out, repr(out)
