"""``python -m bench [SCENARIO ...]``: run benchmark scenarios (all of them by default).

Figures go to stdout, progress to stderr, and the whole report to ``docs/benchmarks.md``
(``--output``), unless ``--no-write`` or ``--quick`` (a smoke run whose figures are not
worth keeping) says otherwise. Exit status 0 when every scenario ran and its checks (the
receiver's correctness, the measurement's validity) passed; a missed target is reported, not
a failure. 1 otherwise.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from bench import ack, archive, flood, machine, purge, report, scale, scale_out
from bench.options import Options, progress
from bench.processes import ProcessFailed
from bench.results import ScenarioResult
from receiver import logs

SCENARIOS: dict[str, Callable[[Options], ScenarioResult]] = {
    "ack": ack.run,
    "archive": archive.run,
    "scale": scale.run,
    "scale-out": scale_out.run,
    "flood": flood.run,
    "purge": purge.run,
}
_DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help=f"any of: {', '.join(SCENARIOS)}"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: shorter stages, smaller workloads"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    parser.add_argument("--output", type=Path, help=f"report file (default {_DEFAULT_OUTPUT})")
    parser.add_argument("--no-write", action="store_true", help="print only, write no report")
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"no such scenario: {', '.join(unknown)} (known: {', '.join(SCENARIOS)})")
    names = args.scenarios or list(SCENARIOS)
    # Stopped by SIGTERM (or SIGINT, even where a shell made it ignored), unwind like
    # Ctrl-C so every `finally` stops the servers and load generators this run started.
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, _interrupted)
    # receiver's own code (migrations, ...) logs through structlog: keep it off stdout.
    logs.configure("warning", "console")

    with tempfile.TemporaryDirectory(prefix="receiver-bench-") as temp:
        workdir = Path(temp)
        host = machine.describe(workdir)
        options = Options(workdir=workdir, quick=args.quick, pin=not args.no_pin)
        results = []
        print(report.text_machine(host), end="\n\n", flush=True)
        for name in names:
            try:
                result = SCENARIOS[name](options)
            except ProcessFailed as exc:
                print(f"bench: {name} failed: {exc}", file=sys.stderr)
                return 1
            except KeyboardInterrupt:
                print(f"bench: {name} interrupted; its processes are stopped", file=sys.stderr)
                return 130
            print(report.text(result), end="\n\n", flush=True)
            results.append(result)

    output = args.output or (None if args.quick or args.no_write else _DEFAULT_OUTPUT)
    if output is not None and not args.no_write:
        # Scenarios not run this time keep their section from the file as it was.
        earlier = output.read_text() if output.is_file() and args.scenarios else None
        report.write(output, report.markdown(host, results, earlier=earlier, order=list(SCENARIOS)))
        progress(f"wrote {output}")
    return 0 if all(check.ok for result in results for check in result.checks) else 1


def _interrupted(number: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(number).name)


if __name__ == "__main__":
    sys.exit(main())
