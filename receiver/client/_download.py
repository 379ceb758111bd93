"""Saving a stored video, without network I/O: where it goes, resuming, the SHA-256 check.

The bytes land in ``<target>.partial``, are hashed as they arrive, and are renamed to the
target only when their size and SHA-256 are the ones the receiver recorded for the asset.
A ``.partial`` left by an interrupted download is continued with an HTTP ``Range`` request
(its bytes hashed first); a server that ignores the range answers 200 and the file starts
over. Bytes that do not match are deleted, never renamed into place.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import httpx

from receiver.client._exceptions import ChecksumMismatch, DownloadError
from receiver.client._models import Asset

__all__ = ["DownloadedFile", "Saving", "StartOver", "check_writable", "target_path"]

_CHUNK = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class DownloadedFile:
    """A video saved on disk, checked against the receiver's record."""

    path: Path
    size_bytes: int
    sha256: str
    #: Bytes this call fetched (less than the size when it continued a ``.partial``).
    fetched_bytes: int


def target_path(path_or_dir: str | os.PathLike[str], job_id: str, key: str) -> Path:
    """The file a download writes: ``path_or_dir`` itself, or ``<job id>.<ext>`` inside it.

    It is a directory when it is one, or when it is spelled as one (``videos/``: made if
    missing). A file's directory must exist: a typo should not make a tree of folders.
    """
    text = os.fspath(path_or_dir)
    if not text:
        raise DownloadError("no path to save the video at")
    path = Path(text).expanduser()
    name = job_id + (PurePosixPath(key).suffix or ".mp4")
    if text.endswith(("/", os.sep)):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DownloadError(f"cannot make the directory {text}: {exc.strerror}") from exc
        return path / name
    if path.is_dir():
        return path / name
    parent = path.parent
    if not parent.is_dir():
        raise DownloadError(
            f"no directory {str(parent)!r} to save {path.name!r} in "
            f"(end the path with / to have it made)"
        )
    return path


def check_writable(path: Path) -> None:
    """Refuse early a target that cannot be written (before a job is paid for)."""
    if path.exists() and not path.is_file():
        raise DownloadError(f"{str(path)!r} exists and is not a file")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise DownloadError(f"cannot write in {str(path.parent)!r}")


class Saving:
    """One download of ``asset`` into ``target``: the file side, fed by either shell."""

    def __init__(self, target: Path, asset: Asset) -> None:
        self.target = target
        self.partial = target.with_name(target.name + ".partial")
        self._asset = asset
        self._file: BinaryIO | None = None
        self._hash = hashlib.sha256()
        self._size = 0
        self._fetched = 0
        #: Whether this download continued bytes an earlier one had saved.
        self.resumed = False

    def start(self) -> dict[str, str] | None:
        """Open the ``.partial``; the headers of the request to make, or None when the
        ``.partial`` already holds the whole video (only the check and rename are left)."""
        self._hash, self._size, self.resumed = hashlib.sha256(), 0, False
        try:
            have = self.partial.stat().st_size
        except FileNotFoundError:
            have = 0
        except OSError as exc:
            raise DownloadError(f"cannot use {str(self.partial)!r}: {exc.strerror}") from exc
        if 0 < have <= self._asset.size_bytes:
            self.resumed = True
            self._file = self._open("r+b")
            while chunk := self._file.read(_CHUNK):
                self._hash.update(chunk)
                self._size += len(chunk)
            if self._size == self._asset.size_bytes:
                return None
            return {"Range": f"bytes={self._size}-"}
        self._file = self._open("wb")
        return {}

    def begin(self, response: httpx.Response) -> None:
        """The object's answer: go on after the ``.partial`` (206) or start over (200)."""
        status = response.status_code
        if status == 206 and self._size and _range_start(response) == self._size:
            return
        if status == 200:
            if self._size:  # the range was ignored: the whole object comes again
                self._truncate()
            return
        if status == 416:
            # The .partial does not fit the object (another video under the same name).
            self._truncate()
            raise StartOver
        raise DownloadError(f"the stored video answered {status} {response.reason_phrase}")

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        try:
            self._file.write(chunk)
        except OSError as exc:
            raise DownloadError(f"cannot write {str(self.partial)!r}: {exc.strerror}") from exc
        self._hash.update(chunk)
        self._size += len(chunk)
        self._fetched += len(chunk)

    def finish(self) -> DownloadedFile:
        """Check size and SHA-256, then rename into place; a mismatch deletes the bytes."""
        self.close()
        digest = self._hash.hexdigest()
        if self._size != self._asset.size_bytes or digest != self._asset.sha256:
            self.partial.unlink(missing_ok=True)
            raise ChecksumMismatch(
                f"the download is {self._size} bytes with SHA-256 {digest}; the receiver "
                f"stored {self._asset.size_bytes} bytes with SHA-256 {self._asset.sha256}"
            )
        try:
            os.replace(self.partial, self.target)
        except OSError as exc:
            raise DownloadError(f"cannot move the video to {str(self.target)!r}: {exc}") from exc
        return DownloadedFile(
            path=self.target, size_bytes=self._size, sha256=digest, fetched_bytes=self._fetched
        )

    def close(self) -> None:
        """Close the ``.partial``, kept so that the next try continues it."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def discard(self) -> None:
        self.close()
        self.partial.unlink(missing_ok=True)

    def _open(self, mode: str) -> BinaryIO:
        try:
            return self.partial.open(mode)  # type: ignore[return-value]
        except OSError as exc:
            raise DownloadError(f"cannot write {str(self.partial)!r}: {exc.strerror}") from exc

    def _truncate(self) -> None:
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self._hash, self._size = hashlib.sha256(), 0


class StartOver(Exception):
    """The ``.partial`` was useless and is now empty: make the request again, unranged."""


def _range_start(response: httpx.Response) -> int | None:
    # Content-Range: bytes 1000-1999/2000
    unit, _, spec = response.headers.get("content-range", "").partition(" ")
    start = spec.partition("-")[0]
    return int(start) if unit == "bytes" and start.isdigit() else None
