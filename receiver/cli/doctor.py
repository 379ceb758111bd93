"""Commands about the setup itself: ``doctor`` (is this deployment healthy?) and ``config``."""

from __future__ import annotations

import argparse

from receiver.cli._common import print_json
from receiver.compat.stdlib_internals import SubParsers
from receiver.config import Settings

__all__ = ["add_setup"]


def add_setup(commands: SubParsers) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check the whole deployment and say what to fix",
        description="Check the settings, the database, the bucket (and its lifecycle rule), "
        "the providers' keys, and that RECEIVER_PUBLIC_URL reaches this receiver (a signed "
        "callback that it must refuse as expired, so nothing is created). Exit 0 when "
        "healthy, 1 when a check failed (with --strict: or warned).",
    )
    doctor.add_argument("--json", action="store_true", help="print the findings as JSON")
    doctor.add_argument("--strict", action="store_true", help="warnings make it unhealthy too")
    doctor.set_defaults(run=_doctor)

    config = commands.add_parser(
        "config", help="print the example environment file (every variable, its default)"
    )
    config.add_argument(
        "--example",
        action="store_true",
        required=True,
        help="print infra/env.example: every variable with its default and meaning",
    )
    config.set_defaults(run=_config)


def _doctor(settings: Settings, args: argparse.Namespace) -> int:
    from receiver.doctor import run_doctor

    report = run_doctor(settings)
    if args.json:
        print_json(report.as_json(strict=args.strict))
    else:
        print(report.as_text(strict=args.strict))
    return 0 if report.healthy(strict=args.strict) else 1


def _config(_settings: Settings, _args: argparse.Namespace) -> int:
    from receiver.config_docs import env_example

    print(env_example(), end="")
    return 0
