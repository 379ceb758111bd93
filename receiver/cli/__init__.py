"""``receiver``: the command line. Thin: each command parses, calls one service, prints.

Settings come from the environment (see ``docs/configuration.md``) and are read once, here.
stdout carries only a command's output; logs go to stderr. Exit status: 0 success,
1 the operation failed (provider refused, job not found, a port in use, an unhealthy
``doctor``, ...), 2 bad usage or settings; 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

import receiver
from receiver import config_docs, logs
from receiver.cli import completion, doctor, jobs, models, recovery, services
from receiver.config import Settings
from receiver.errors import ConfigError, ReceiverError, ValidationError
from receiver.terminal import terminal_safe

__all__ = ["main"]

_ENV_HELP = config_docs.cli_environment_help()

#: Commands that work on what is already recorded. A database they opened would be new and
#: empty (a wrong or missing RECEIVER_DATABASE_URL), and they would report "nothing", so a
#: missing SQLite file is refused instead of created. (`costs` still reports "nothing spent"
#: on a fresh setup, as tests/integration/test_submit_cli.py expects.)
_NEEDS_EXISTING_DATABASE = frozenset(
    {"jobs", "show", "deliveries", "notifications", "replay", "reconcile", "retry"}
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        logs.configure(settings.log_level, settings.log_format)
        if settings.insecure and args.command not in {"simulator"}:
            import structlog

            structlog.get_logger("receiver").warning(
                "insecure_mode",
                message="RECEIVER_INSECURE=1: http URLs and loopback downloads are allowed. "
                "Never run like this in production.",
            )
        if args.command in _NEEDS_EXISTING_DATABASE:
            from receiver.store.database import require_database

            require_database(settings.database_url)
        command: Callable[[Settings, argparse.Namespace], int] = args.run
        return command(settings, args)
    except ConfigError as exc:
        print(f"receiver: configuration error: {terminal_safe(exc.message)}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"receiver: invalid request: {terminal_safe(exc.message)}", file=sys.stderr)
        return 2
    except ReceiverError as exc:
        print(f"receiver: {terminal_safe(exc.message)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`receiver jobs | head`): what it did not read is not an
        # error worth a traceback. Point stdout at /dev/null so the exit flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="receiver",
        description="Submit AI video jobs, receive their callbacks, archive the videos to S3.",
        epilog=_ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"receiver {receiver.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    jobs.add_submit(commands)
    jobs.add_inspection(commands)
    models.add_models(commands)
    recovery.add_recovery(commands)
    services.add_services(commands)
    doctor.add_setup(commands)
    completion.add_completion(commands, parser)
    return parser
