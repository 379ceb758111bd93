"""``receiver dev``'s secrets stay the owner's: ``var/dev`` is ``0700``, ``secrets.json`` and
``env`` are ``0600`` from the moment they exist, and the simulator gets its keys in its
environment, never on its command line (which ``ps`` shows to every user)."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from receiver import logs
from receiver.cli import main
from receiver.devtools import dev, simulator
from receiver.devtools.simulator import SimulatorConfig

_WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
#: Every open that can write, as the ``open`` audit event reports it: (path, mode, flags).
#: ``mode`` is the text mode of a builtin ``open()`` (files created ``0666 & ~umask``) and
#: ``None`` for ``os.open``. Audit hooks cannot be removed, so one is added once and collects
#: only while a test has set ``_WATCHED``.
_OPENED: list[tuple[str, Any, int]] = []
_WATCHED: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _WATCHED and isinstance(args[0], str | Path):
        path = os.path.abspath(args[0])
        if path.startswith(_WATCHED[0]) and args[2] & _WRITING:
            _OPENED.append((path, args[1], args[2]))


sys.addaudithook(_audit)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``receiver.devtools.dev.VAR`` in a temporary directory, under a umask of 0: a file created
    with default permissions would be readable and writable by everyone."""
    path = tmp_path / "var" / "dev"
    monkeypatch.setattr(dev, "VAR", path)
    old_umask = os.umask(0)
    try:
        yield path
    finally:
        os.umask(old_umask)


@pytest.fixture
def created_with(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[int, int]]:
    """Each file ``os.open`` was asked to create: its flags and permission bits."""
    created: dict[str, tuple[int, int]] = {}
    real_open = os.open

    def spy(path: Any, flags: int, mode: int = 0o777, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created[os.path.abspath(path)] = (flags, mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    return created


def _write_like_dev(var: Path) -> dict[str, str]:
    """What ``run_dev`` does to ``var/dev`` before it starts a child."""
    dev._private_dir(var)
    values = dev._dev_secrets()
    dev._write_private(var / "env", dev._env_file({"RECEIVER_ADMIN_TOKEN": values["admin_token"]}))
    return values


def test_var_dev_and_its_secret_files_are_the_owners_alone_from_creation(
    var: Path, created_with: dict[str, tuple[int, int]]
) -> None:
    _WATCHED[:] = [str(var)]
    try:
        values = _write_like_dev(var)
    finally:
        _WATCHED.clear()

    assert _mode(var) == 0o700
    assert _mode(var / "secrets.json") == 0o600
    assert _mode(var / "env") == 0o600
    assert f"export RECEIVER_ADMIN_TOKEN={values['admin_token']}" in (var / "env").read_text()
    assert sorted(p.name for p in var.iterdir()) == ["env", "secrets.json"]

    # No window: every file written under var/dev was opened by os.open, created 0600
    # (O_EXCL: a new file, never an old one keeping its old mode), then renamed into place.
    assert _OPENED, "nothing was written?"
    for path, text_mode, _flags in _OPENED:
        assert text_mode is None, f"{path} was written with open(), created 0666 & ~umask"
        flags, mode = created_with[path]
        assert mode == 0o600, (path, oct(mode))
        assert flags & os.O_EXCL, path
    _OPENED.clear()


def test_files_left_readable_by_an_older_version_are_tightened(var: Path) -> None:
    var.mkdir(parents=True, mode=0o755)
    var.chmod(0o755)
    (var / "secrets.json").write_text('{"secret_key": "k", "admin_token": "t"}')
    (var / "env").write_text("export OLD=1\n")
    for path in (var / "secrets.json", var / "env"):
        path.chmod(0o644)

    _write_like_dev(var)

    assert _mode(var) == 0o700
    assert _mode(var / "secrets.json") == 0o600
    assert _mode(var / "env") == 0o600
    assert "kling_secret_key" in (var / "secrets.json").read_text()
    assert "OLD" not in (var / "env").read_text()


def test_complete_secrets_are_kept_and_their_file_tightened(var: Path) -> None:
    dev._private_dir(var)
    first = dev._dev_secrets()
    (var / "secrets.json").chmod(0o644)
    assert dev._dev_secrets() == first
    assert _mode(var / "secrets.json") == 0o600


def test_the_simulator_gets_its_secrets_by_environment_not_arguments() -> None:
    values = {"api_key": "sk-evo-dev-0123456789", "kling_secret_key": "kling-secret-abcdef"}
    args, env = dev._simulator_command(8123, values, {"PATH": "/usr/bin"})
    for secret in values.values():
        assert not any(secret in arg for arg in args), args
    assert env["RECEIVER_SIMULATOR_API_KEY"] == values["api_key"]
    assert env["RECEIVER_SIMULATOR_KLING_SECRET_KEY"] == values["kling_secret_key"]
    assert env["PATH"] == "/usr/bin"
    assert args[:3] == ["simulator", "--port", "8123"]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SimulatorConfig]]:
    """``receiver simulator`` in-process, with ``serve`` replaced: the configs it would run."""
    configs: list[SimulatorConfig] = []
    monkeypatch.setattr(simulator, "serve", lambda config, host, port: configs.append(config))
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: None)
    for name in ("RECEIVER_SIMULATOR_API_KEY", "RECEIVER_SIMULATOR_KLING_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    before = structlog.get_config()
    yield configs
    structlog.configure(**before)


def test_the_simulator_command_reads_its_secrets_from_the_environment(
    served: list[SimulatorConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECEIVER_SIMULATOR_API_KEY", "sk-from-env")
    monkeypatch.setenv("RECEIVER_SIMULATOR_KLING_SECRET_KEY", "kling-from-env")
    assert main(["simulator", "--port", "8123", "--kling-access-key", "ak"]) == 0
    (config,) = served
    assert config.api_key == "sk-from-env"
    assert config.kling_secret_key == "kling-from-env"
    assert config.kling_access_key == "ak"


def test_the_simulator_flags_still_work_and_win_over_the_environment(
    served: list[SimulatorConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["simulator", "--api-key", "sk-flag", "--kling-secret-key", "kling-flag"]) == 0
    monkeypatch.setenv("RECEIVER_SIMULATOR_API_KEY", "sk-from-env")
    assert main(["simulator", "--api-key", "sk-flag"]) == 0
    assert main(["simulator"]) == 0
    assert [(c.api_key, c.kling_secret_key) for c in served] == [
        ("sk-flag", "kling-flag"),
        ("sk-flag", None),
        ("sk-from-env", None),
    ]


def test_without_either_the_simulator_accepts_any_key(served: list[SimulatorConfig]) -> None:
    assert main(["simulator"]) == 0
    (config,) = served
    assert config.api_key is None
    assert config.kling_secret_key is None
