"""Keeping an archiving process's memory flat: large part buffers go back to the OS.

glibc serves big allocations with ``mmap`` (returned to the system when freed) only up to a
threshold that it raises on its own each time such a block is freed, up to 32 MiB. After the
first parts, every part buffer would then come from the heaps of the upload threads and stay
there, fragmented, so a worker's resident memory would creep well above what it holds. A
fixed threshold (1 MiB) turns that adjustment off. And each new thread (every archive starts a
small pool of upload threads) may get a heap (an "arena") of its own, up to eight per core,
each keeping its fragments: two arenas are plenty for threads that mostly wait on sockets.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import structlog

__all__ = ["return_large_buffers_to_the_os"]

log = structlog.get_logger(__name__)

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_THRESHOLD = 1024 * 1024
_ARENAS = 2


def return_large_buffers_to_the_os() -> bool:
    """Fix glibc's mmap threshold and arena count; False (nothing changed) on another libc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt)
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)) and bool(mallopt(_M_ARENA_MAX, _ARENAS))
