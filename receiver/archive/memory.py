"""Keeping an archiving process's memory flat: large part buffers go back to the OS.

glibc serves big allocations with ``mmap`` (returned to the system when freed) only up to a
threshold that it raises on its own each time such a block is freed, up to 32 MiB. After the
first parts, every part buffer would then come from the heaps of the upload threads and stay
there, fragmented, so a worker's resident memory would creep well above what it holds. A
fixed threshold (1 MiB) turns that adjustment off.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import structlog

__all__ = ["return_large_buffers_to_the_os"]

log = structlog.get_logger(__name__)

_M_MMAP_THRESHOLD = -3
_THRESHOLD = 1024 * 1024


def return_large_buffers_to_the_os() -> bool:
    """Fix glibc's mmap threshold; False (and nothing changed) on another C library."""
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
    return bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD))
