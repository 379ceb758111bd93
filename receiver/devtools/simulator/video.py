"""The videos the simulator serves: the bundled sample, padded per task to any size.

A video is ``sample.mp4`` followed, when it must be larger, by one MP4 ``free`` box whose
payload is pseudo-random bytes seeded by the task id. Players skip ``free`` boxes, so the
file stays a valid MP4; each task gets its own SHA-256, yet the same task always serves
the same bytes. Bytes are produced block by block on demand, so a 2 GiB video (or a range
deep inside it) costs a few hundred KiB of memory.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["BLOCK_SIZE", "MIN_PADDING", "VideoFile", "sample_bytes", "sample_size"]

#: Size of the padding blocks, and so the largest chunk a stream yields.
BLOCK_SIZE = 256 * 1024
#: The smallest padding: a bare ``free`` box header.
MIN_PADDING = 8
_MAX_COMPACT_BOX = 0xFFFF_FFFF


@functools.cache
def sample_bytes() -> bytes:
    """The bundled 2 s, 320x180 H.264 MP4."""
    return (
        importlib.resources.files("receiver.devtools.simulator").joinpath("sample.mp4").read_bytes()
    )


def sample_size() -> int:
    return len(sample_bytes())


@dataclass(frozen=True)
class VideoFile:
    """The video of one task: ``size`` bytes, derived from ``task_id`` alone."""

    task_id: str
    size: int

    @property
    def etag(self) -> str:
        """A strong ETag: the bytes depend on nothing but the task id and the size."""
        digest = hashlib.sha256(f"{self.task_id}\n{self.size}".encode()).hexdigest()
        return f'"{digest[:32]}"'

    def iter_bytes(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive), in chunks of at most :data:`BLOCK_SIZE`."""
        end = self.size if end is None else min(end, self.size)
        head = self._head()
        position = start
        if position < len(head):
            stop = min(end, len(head))
            yield head[position:stop]
            position = stop
        while position < end:
            index, within = divmod(position - len(head), BLOCK_SIZE)
            take = min(BLOCK_SIZE - within, end - position)
            yield self._block(index)[within : within + take]
            position += take

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in self.iter_bytes():
            digest.update(chunk)
        return digest.hexdigest()

    def _head(self) -> bytes:
        """The sample, then the header of the padding box when there is one."""
        sample = sample_bytes()
        box_size = self.size - len(sample)
        if box_size == 0:
            return sample
        if box_size <= _MAX_COMPACT_BOX:
            return sample + struct.pack(">I4s", box_size, b"free")
        # Beyond 4 GiB a box declares size 1 and carries a 64-bit "largesize".
        return sample + struct.pack(">I4sQ", 1, b"free", box_size)

    def _block(self, index: int) -> bytes:
        # Seeding per block lets a range start anywhere without generating what precedes it.
        # Filler, not secrets: a reproducible generator is the point.
        return random.Random(f"{self.task_id}/{index}").randbytes(BLOCK_SIZE)  # noqa: S311
