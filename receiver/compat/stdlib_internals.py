"""The standard library's private names that receiver relies on (see :mod:`receiver.compat`).

Both are types the standard library does not export under a public name; they are used in
annotations (and ``Hash`` is the very class of every OpenSSL digest object at run time).
"""

from __future__ import annotations

import argparse
from _hashlib import HASH as Hash
from typing import TypeAlias

from receiver.compat import Reach

__all__ = ["REACHES", "Hash", "SubParsers"]

REACHES = (
    Reach(
        name="_hashlib.HASH",
        checked="python>=3.11,<3.12",
        why=(
            "the type of hashlib.sha256() and every OpenSSL digest: the archiver keeps "
            "digests (and their copies) per part in typed records; hashlib's own name for "
            "it, hashlib._Hash, exists only in the stubs."
        ),
    ),
    Reach(
        name="argparse._SubParsersAction",
        checked="python>=3.11,<3.12",
        why=(
            "the type of ArgumentParser.add_subparsers(): the CLI's command modules take it "
            "to add their commands. A string alias: the class is not generic at run time."
        ),
    ),
)

#: What ``ArgumentParser.add_subparsers()`` returns, for annotations only.
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
