"""Commands that run things: serve, worker, migrate, simulator, dev."""

from __future__ import annotations

import argparse
import json
import os

from receiver.cli._common import context
from receiver.compat.stdlib_internals import SubParsers
from receiver.config import Settings
from receiver.errors import ConfigError

__all__ = ["add_services"]


def add_services(commands: SubParsers) -> None:
    serve = commands.add_parser("serve", help="run the receiver (and, by default, a worker)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--no-worker", action="store_true", help="receive only; archive elsewhere")
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run an archive worker alone")
    worker.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics on 127.0.0.1:PORT/metrics"
    )
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--json", action="store_true", help="print {applied: [versions]} as JSON")
    migrate.set_defaults(run=_migrate)

    simulator = commands.add_parser("simulator", help="run the provider simulator")
    simulator.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    simulator.add_argument(
        "--port", type=int, default=8010, help="port to listen on (default 8010)"
    )
    simulator.add_argument("--delay", type=float, default=3.0, help="seconds until a task ends")
    simulator.add_argument(
        "--outcome",
        default="completed",
        choices=["completed", "failed", "cancelled", "unknown"],
        help="how every task ends (default completed)",
    )
    simulator.add_argument("--video-bytes", type=int, help="pad videos to this size (bytes)")
    # Secrets come from the environment: a command line is shown to every user by `ps`.
    simulator.add_argument(
        "--api-key",
        help="the only API key accepted (default: $RECEIVER_SIMULATOR_API_KEY, else any; "
        "prefer the variable, arguments are visible to every user)",
    )
    simulator.add_argument(
        "--kling-access-key", help="Kling: the only access key accepted (default: any)"
    )
    simulator.add_argument(
        "--kling-secret-key",
        help="Kling: the key tokens must be signed with (default: "
        "$RECEIVER_SIMULATOR_KLING_SECRET_KEY, else unchecked; prefer the variable)",
    )
    simulator.add_argument(
        "--allow-http-callbacks",
        action="store_true",
        help="accept http and loopback callback URLs (local use)",
    )
    simulator.set_defaults(run=_simulator)

    dev = commands.add_parser("dev", help="SeaweedFS + simulator + receiver + worker, one command")
    dev.add_argument("--port", type=int, default=8000, help="receiver port (default 8000)")
    dev.add_argument("--no-demo", action="store_true", help="do not submit a demo job")
    dev.set_defaults(run=_dev)


# ── commands ──


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import runtime

    _check_port(args.port, "--port")
    _check_free(args.host, args.port, "--port")
    with context(settings) as ctx:
        runtime.serve(ctx, host=args.host, port=args.port, archive=not args.no_worker)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import runtime

    if args.metrics_port is not None:
        _check_port(args.metrics_port, "--metrics-port")
        _check_free("127.0.0.1", args.metrics_port, "--metrics-port")
    with context(settings) as ctx:
        runtime.work(ctx, metrics_port=args.metrics_port)
    return 0


def _check_port(port: int, flag: str) -> None:
    if not 0 < port < 65536:
        raise ConfigError(flag, f"{port} is not a TCP port (1-65535)")


def _check_free(host: str, port: int, flag: str) -> None:
    """Fail now, in one line, if the port is taken: before the database is opened, the
    bucket checked and the archive threads started, only to be stopped again."""
    from receiver.web.server import listen

    for sock in listen(host, port, flag=flag):
        sock.close()


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.store.database import open_database
    from receiver.store.migrate import migrate

    db = open_database(settings.database_url)
    try:
        applied = migrate(db)
    finally:
        db.close()
    if args.json:
        print(json.dumps({"applied": [f"{m.version:04d}_{m.name}" for m in applied]}))
    else:
        print(f"applied {len(applied)} migration(s)" if applied else "the schema is up to date")
    return 0


def _simulator(_settings: Settings, args: argparse.Namespace) -> int:
    from receiver.devtools import simulator

    secrets = simulator.secrets_from_env(
        os.environ, api_key=args.api_key, kling_secret_key=args.kling_secret_key
    )
    config = simulator.SimulatorConfig(
        delay=args.delay,
        outcome=args.outcome,
        video_bytes=args.video_bytes,
        api_key=secrets["api_key"],
        kling_access_key=args.kling_access_key,
        kling_secret_key=secrets["kling_secret_key"],
        allow_http_callbacks=args.allow_http_callbacks,
        allow_private_callbacks=args.allow_http_callbacks,
    )
    simulator.serve(config, args.host, args.port)
    return 0


def _dev(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.devtools.dev import run_dev

    return run_dev(settings, port=args.port, demo=not args.no_demo)
