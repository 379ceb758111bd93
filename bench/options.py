"""What every scenario is told by the command line."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Options", "progress"]


@dataclass(frozen=True, kw_only=True)
class Options:
    #: Where scenarios keep their databases, plans and server logs (a fresh temp dir).
    workdir: Path
    #: A smoke run: every stage a fifth as long. Its figures are not worth writing down.
    quick: bool = False
    #: Pin the server and the load generator to different cores (when there are two).
    pin: bool = True

    def seconds(self, full: float) -> float:
        return full / 5 if self.quick else full


def progress(message: str) -> None:
    """What is happening now, on stderr: stdout carries only the figures."""
    print(f"bench: {message}", file=sys.stderr, flush=True)
