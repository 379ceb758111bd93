"""``receiver completion SHELL``: a completion script made from the parser itself.

Generated (by shtab) rather than written, so a new command or option is completed the day it
is added; job ids are not completed (they would need the database on every Tab).
"""

from __future__ import annotations

import argparse

from receiver.compat.stdlib_internals import SubParsers
from receiver.config import Settings

__all__ = ["SHELLS", "add_completion"]

SHELLS = ("bash", "zsh", "tcsh")


def add_completion(commands: SubParsers, root: argparse.ArgumentParser) -> None:
    completion = commands.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh or tcsh)",
        description="Print the completion script for SHELL. bash: "
        "`receiver completion bash > ~/.local/share/bash-completion/completions/receiver`; "
        'zsh: `receiver completion zsh > "${fpath[1]}/_receiver"`; or, for this shell '
        "only: `source <(receiver completion bash)`.",
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete in")

    def run(_settings: Settings, args: argparse.Namespace) -> int:
        import shtab

        print(shtab.complete(root, shell=args.shell), end="")
        return 0

    completion.set_defaults(run=run)
