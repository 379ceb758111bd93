"""``receiver dev`` (what ``make run`` runs): the whole system on one machine, one command.

Starts SeaweedFS (data under ``var/dev``), the provider simulator, and ``receiver serve``
with its worker, each as a child process wired to the others; submits a demo job and
shows it stored; then keeps everything running until Ctrl-C, and stops it all cleanly.
Secrets for this local setup are generated once and kept in ``var/dev/secrets.json``, and
``var/dev/env`` holds the variables to talk to it from another terminal. Both are the owner's
alone (``0600`` from the moment they exist, in a ``0700`` directory), and no secret is ever
put on a child's command line, which ``ps`` shows to every user: the simulator is given its
keys in its environment.

One ``receiver dev`` per directory: it holds a lock on ``var/dev/lock`` (with its pid) while
it runs, released by the kernel however it ends, so a second one in the same directory says
who is running instead of starting a second SeaweedFS on the same data. Its receiver port
must be free before anything starts, so an instance in another directory cannot be
mistaken for this one's receiver.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TextIO

import httpx

from receiver.config import Settings
from receiver.devtools.seaweed import Credentials, SeaweedFS, free_ports
from receiver.errors import ReceiverError, ServiceError

__all__ = ["run_dev"]

VAR = Path("var/dev")


#: The simulator's Kling account in development (the secret key is generated).
_DEV_KLING_ACCESS_KEY = "ak-dev-kling"


def _private_dir(path: Path) -> None:
    """``path`` as a directory only its owner can enter (``0700``), created so if missing."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # An existing one (from before, or made under another umask) is tightened too.
    path.chmod(0o700)


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by its owner only from the first byte.

    The content goes to a new file created ``0600`` by ``os.open`` (never a file created
    world-readable and narrowed afterwards, nor an old file whose mode would be kept), which
    then takes the place of ``path`` in one rename.
    """
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _dev_secrets() -> dict[str, str]:
    path = VAR / "secrets.json"
    if path.exists():
        # Written by an older version, perhaps readable by all: the owner's alone from now.
        path.chmod(0o600)
        stored: dict[str, str] = json.loads(path.read_text())
        if "kling_secret_key" in stored:
            return stored
        # Written before Kling was a provider: add its key pair, keep the rest.
        values = {**stored, "kling_secret_key": secrets.token_urlsafe(32)}
        _write_private(path, json.dumps(values, indent=2))
        return values
    values = {
        "secret_key": secrets.token_urlsafe(32),
        "admin_token": secrets.token_urlsafe(24),
        "s3_access_key": "dev" + secrets.token_hex(8),
        "s3_secret_key": secrets.token_urlsafe(30),
        "api_key": "sk-evo-dev-" + secrets.token_hex(12),
        "kling_secret_key": secrets.token_urlsafe(32),
    }
    _write_private(path, json.dumps(values, indent=2))
    return values


def _lock() -> TextIO:
    """Hold ``var/dev/lock`` for as long as this process lives, or say who holds it."""
    descriptor = os.open(VAR / "lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    file = os.fdopen(descriptor, "r+", encoding="utf-8")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = file.read().strip() or "unknown"
        file.close()
        raise ServiceError(
            f"receiver dev is already running in {Path.cwd()} (pid {pid}): stop it first "
            "(Ctrl-C in its terminal), or start another one from another directory with "
            "another --port"
        ) from None
    file.truncate(0)
    file.write(f"{os.getpid()}\n")
    file.flush()
    return file


def _check_port_free(port: int) -> None:
    from receiver.web.server import listen

    for sock in listen("127.0.0.1", port):
        sock.close()


def _env_file(variables: dict[str, str]) -> str:
    """``var/dev/env``: the variables to ``source`` in another terminal."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables.items())


def _simulator_command(
    port: int, values: dict[str, str], env: dict[str, str]
) -> tuple[list[str], dict[str, str]]:
    """The simulator's arguments and environment: its secrets in the environment only."""
    from receiver.devtools.simulator.config import SECRET_VARIABLES

    args = [
        "simulator",
        "--port",
        str(port),
        "--kling-access-key",
        _DEV_KLING_ACCESS_KEY,
        "--allow-http-callbacks",
    ]
    secret_env = {
        SECRET_VARIABLES["api_key"]: values["api_key"],
        SECRET_VARIABLES["kling_secret_key"]: values["kling_secret_key"],
    }
    return args, {**env, **secret_env}


def _wait_http(url: str, process: subprocess.Popen[bytes], name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"{name} exited with status {process.returncode}; see var/dev/*.log")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise ServiceError(f"{name} did not start within {timeout:.0f} s; see var/dev/*.log")


def _check_ours(url: str, admin_token: str) -> None:
    """The receiver that answered is the one we started: it takes our admin token."""
    try:
        response = httpx.get(
            f"{url}/v1/jobs",
            params={"limit": 1},
            headers={"authorization": f"Bearer {admin_token}"},
            timeout=5.0,
        )
    except httpx.HTTPError as exc:
        raise ServiceError(f"the receiver at {url} stopped answering: {exc}") from exc
    if response.status_code in {401, 403}:
        raise ServiceError(
            f"{url} answers, but refuses this receiver dev's admin token: another receiver "
            "holds the port; see var/dev/receiver.log"
        )


def _spawn(args: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
    with (VAR / log_name).open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "receiver", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_dev(settings: Settings, *, port: int, demo: bool) -> int:
    # SIGTERM/SIGHUP stop everything as Ctrl-C does; by default they would end this process
    # without running the cleanup and leave the children (own sessions) running.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    _private_dir(VAR)
    lock = _lock()
    try:
        return _run(settings, port=port, demo=demo)
    finally:
        lock.close()


def _run(settings: Settings, *, port: int, demo: bool) -> int:
    _check_port_free(port)
    values = _dev_secrets()
    seaweed = SeaweedFS(
        VAR / "seaweedfs",
        Credentials(values["s3_access_key"], values["s3_secret_key"]),
        log_path=VAR / "seaweedfs.log",
    )
    (sim_port,) = free_ports(1)
    children: list[subprocess.Popen[bytes]] = []
    print("starting SeaweedFS ...", file=sys.stderr)
    seaweed.start()
    try:
        env_vars = {
            "RECEIVER_DATABASE_URL": f"sqlite:///{VAR.resolve() / 'receiver.db'}",
            "RECEIVER_S3_ENDPOINT_URL": seaweed.endpoint_url,
            "RECEIVER_S3_BUCKET": settings.s3_bucket,
            "AWS_ACCESS_KEY_ID": values["s3_access_key"],
            "AWS_SECRET_ACCESS_KEY": values["s3_secret_key"],
            "AWS_REGION": settings.aws_region,
            "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{port}",
            # Where `receiver wait` and `submit --wait` find this receiver's API.
            "RECEIVER_API_URL": f"http://127.0.0.1:{port}",
            "RECEIVER_SECRET_KEYS": values["secret_key"],
            "RECEIVER_ADMIN_TOKEN": values["admin_token"],
            "EVOLINK_API_KEY": values["api_key"],
            "EVOLINK_BASE_URL": f"http://127.0.0.1:{sim_port}",
            "KLING_ACCESS_KEY": _DEV_KLING_ACCESS_KEY,
            "KLING_SECRET_KEY": values["kling_secret_key"],
            "KLING_BASE_URL": f"http://127.0.0.1:{sim_port}",
            "RECEIVER_INSECURE": "1",
        }
        env = {**os.environ, **env_vars}
        _write_private(VAR / "env", _env_file(env_vars))
        children.append(_spawn(*_simulator_command(sim_port, values, env), "simulator.log"))
        children.append(_spawn(["serve", "--port", str(port)], env, "receiver.log"))
        _wait_http(f"http://127.0.0.1:{sim_port}/_simulator/config", children[0], "the simulator")
        _wait_http(f"http://127.0.0.1:{port}/healthz", children[1], "the receiver")
        _check_ours(f"http://127.0.0.1:{port}", values["admin_token"])
        dev_settings = Settings.from_env(env)
        print(_banner(port, sim_port, seaweed.endpoint_url), file=sys.stderr)
        if demo:
            _demo(dev_settings)
        print("running; press Ctrl-C to stop everything", file=sys.stderr)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        raise ServiceError("a child process exited unexpectedly; see var/dev/*.log")
    except KeyboardInterrupt:
        print("\nstopping ...", file=sys.stderr)
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        seaweed.stop()


def _banner(port: int, sim_port: int, s3: str) -> str:
    return f"""
receiver dev is up:
  receiver   http://127.0.0.1:{port}   (callbacks at /callbacks/evolink/<token>, health /healthz)
  simulator  http://127.0.0.1:{sim_port}   (stands in for api.evolink.ai and Kling's API)
  S3         {s3}   (SeaweedFS, data in var/dev/seaweedfs)
  logs       var/dev/*.log

In another terminal:
  source var/dev/env
  .venv/bin/receiver submit "a red fox running through snow" --duration 5
  .venv/bin/receiver submit "a heron in the rain" --provider kling
  .venv/bin/receiver jobs
  .venv/bin/receiver show JOB_ID
"""


def _demo(settings: Settings) -> None:
    from receiver import jobs
    from receiver.context import Context
    from receiver.providers.base import JobRequest
    from receiver.terminal import terminal_safe

    with Context(settings) as ctx:
        job = jobs.submit_job(ctx, JobRequest(prompt="A paper boat drifting down a rainy street"))
        print(
            f"demo job {job.id} submitted (task {job.task_id}); waiting for it to be stored ...",
            file=sys.stderr,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            details = jobs.get_job(ctx, job.id)
            if details.job.status.is_final:
                break
            time.sleep(0.5)
        if details.asset is None:
            reason = terminal_safe(details.job.attention or details.job.error_message or "")
            raise ReceiverError(f"the demo job ended as {details.job.status}: {reason}")
        url = ctx.store.presigned_url(details.asset.object_key, expires_in=3600)
        print(
            f"stored: {details.asset.uri}  {details.asset.size_bytes} bytes  "
            f"sha256 {details.asset.sha256}\n  play it: {url}\n",
            file=sys.stderr,
        )
