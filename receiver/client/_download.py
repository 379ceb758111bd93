"""Saving stored files, without network I/O: where they go, resuming, the SHA-256 check.

The bytes land in ``<target>.partial``, are hashed as they arrive, and are renamed to the
target only when their size and SHA-256 are the ones the receiver recorded for the asset.
A ``.partial`` left by an interrupted download is continued with an HTTP ``Range`` request
(its bytes hashed first); a server that ignores the range answers 200 and the file starts
over. Bytes that do not match are deleted, never renamed into place.

Where the files go: a job with one file is saved as ``<job id>.<ext>`` in a directory (or at
a file path); a job with several (one per result of its task) as ``<job id>/<n>.<ext>`` in
a directory, ``n`` being the result's index. Several files never go to one file path.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import httpx

from receiver.client._exceptions import ChecksumMismatch, DownloadError
from receiver.client._models import Asset, Job

__all__ = [
    "DownloadedFile",
    "Saving",
    "StartOver",
    "check_writable",
    "choose_asset",
    "every_target",
    "is_directory",
    "one_target",
    "stored_assets",
    "target_path",
]

_CHUNK = 1024 * 1024

#: The extension of a file whose key has none (keys normally end with one).
_EXTENSIONS = {
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/ogg": ".ogg",
}


@dataclass(frozen=True, kw_only=True)
class DownloadedFile:
    """A stored file saved on disk, checked against the receiver's record."""

    path: Path
    size_bytes: int
    sha256: str
    #: Bytes this call fetched (less than the size when it continued a ``.partial``).
    fetched_bytes: int
    #: Which result of the job's task the file is (0 for a job with one).
    result_index: int = 0


def target_path(path_or_dir: str | os.PathLike[str], job_id: str, key: str) -> Path:
    """The file a download writes: ``path_or_dir`` itself, or ``<job id>.<ext>`` inside it.

    It is a directory when it is one, or when it is spelled as one (``videos/``: made if
    missing). A file's directory must exist: a typo should not make a tree of folders.
    """
    name = job_id + (PurePosixPath(key).suffix or ".mp4")
    directory = _directory(path_or_dir)
    if directory is not None:
        return directory / name
    path = Path(os.fspath(path_or_dir)).expanduser()
    parent = path.parent
    if not parent.is_dir():
        raise DownloadError(
            f"no directory {str(parent)!r} to save {path.name!r} in "
            f"(end the path with / to have it made)"
        )
    return path


def is_directory(path_or_dir: str | os.PathLike[str]) -> bool:
    """Whether a target names a directory: it is one, or it is spelled with a final /."""
    text = os.fspath(path_or_dir)
    return bool(text) and (text.endswith(("/", os.sep)) or Path(text).expanduser().is_dir())


def _directory(path_or_dir: str | os.PathLike[str]) -> Path | None:
    """The directory a target names (made when spelled ``dir/`` and missing); None: a file."""
    text = os.fspath(path_or_dir)
    if not text:
        raise DownloadError("no path to save the video at")
    path = Path(text).expanduser()
    if text.endswith(("/", os.sep)):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DownloadError(f"cannot make the directory {text}: {exc.strerror}") from exc
        return path
    return path if path.is_dir() else None


def stored_assets(job: Job) -> tuple[Asset, ...]:
    """Every stored file of the job, in the order of its task's results."""
    if job.assets:
        return job.assets
    return (job.asset,) if job.asset is not None else ()


def choose_asset(job: Job, index: int | None) -> Asset:
    """The file ``download`` saves: result ``index``, or the job's only one."""
    assets = stored_assets(job)
    if not assets:
        raise DownloadError(f"job {job.id} has no stored video (it is {job.status})")
    if index is None:
        if len(assets) > 1:
            raise DownloadError(
                f"job {job.id} has {len(assets)} files: pass index= for one, or use "
                f"download_all to save every one"
            )
        return assets[0]
    if isinstance(index, bool) or not isinstance(index, int):
        raise DownloadError(f"not a result index: {index!r}")
    found = next((asset for asset in assets if asset.result_index == index), None)
    if found is None:
        indexes = ", ".join(str(asset.result_index) for asset in assets)
        raise DownloadError(f"job {job.id} has no stored result {index} (it has {indexes})")
    return found


def _suffix(asset: Asset) -> str:
    return PurePosixPath(asset.key).suffix or _EXTENSIONS.get(asset.content_type, ".bin")


def one_target(path_or_dir: str | os.PathLike[str], job: Job, asset: Asset) -> Path:
    """Where ``download`` saves ``asset``: the file path given, else in the directory
    ``<job id>.<ext>`` (a job with one file, as always) or ``<job id>/<n>.<ext>``."""
    if len(stored_assets(job)) <= 1:
        return target_path(path_or_dir, job.id, asset.key)
    directory = _directory(path_or_dir)
    if directory is None:
        return target_path(path_or_dir, job.id, asset.key)
    return _job_directory(directory, job.id) / f"{asset.result_index}{_suffix(asset)}"


def every_target(path_or_dir: str | os.PathLike[str], job: Job) -> list[tuple[Path, Asset]]:
    """Where ``download_all`` saves each file of ``job``, refusing (before anything is
    fetched) a file path for a job with several."""
    assets = stored_assets(job)
    if not assets:
        raise DownloadError(f"job {job.id} has no stored video (it is {job.status})")
    if len(assets) == 1:
        return [(target_path(path_or_dir, job.id, assets[0].key), assets[0])]
    if not is_directory(path_or_dir):
        raise DownloadError(
            f"job {job.id} has {len(assets)} files: save them in a directory, not at the "
            f"file {os.fspath(path_or_dir)!r} (end the path with / to have it made)"
        )
    return [(one_target(path_or_dir, job, asset), asset) for asset in assets]


def _job_directory(directory: Path, job_id: str) -> Path:
    folder = directory / job_id
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot make the directory {str(folder)!r}: {exc.strerror}") from exc
    return folder


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
        raise DownloadError(f"the stored file answered {status} {response.reason_phrase}")

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
            raise DownloadError(f"cannot move the file to {str(self.target)!r}: {exc}") from exc
        return DownloadedFile(
            path=self.target,
            size_bytes=self._size,
            sha256=digest,
            fetched_bytes=self._fetched,
            result_index=self._asset.result_index,
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
