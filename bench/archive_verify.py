"""After each copy: is every stored object its source, byte for byte?

A fast archiver that stores the wrong bytes is worth nothing, and so is a baseline. Every
object is read back from the store and hashed here, and for the archiver its ``assets`` row
(size, SHA-256, key) and its job's ``stored`` status must agree too. The store is read with a
plain boto3 client and the database with plain SQL, not through ``receiver``'s own code: an
audit should not trust the code it audits.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from bench.archive_source import Video

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["Verdict", "s3_client", "verify_archived", "verify_objects"]

_READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Verdict:
    checked: int
    matching: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.checked > 0 and self.matching == self.checked and not self.problems

    def __str__(self) -> str:
        text = f"{self.matching} of {self.checked} objects read back match their source's SHA-256"
        if self.problems:
            shown = "; ".join(self.problems[:3])
            more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
            text += f"; {shown}{more}"
        return text


def s3_client(endpoint: str, access_key: str, secret_key: str) -> S3Client:
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    return client


def verify_objects(client: S3Client, bucket: str, expected: Mapping[str, Video]) -> Verdict:
    """Each key in ``expected`` holds exactly its video's bytes."""
    problems = []
    for key, video in expected.items():
        problem = _compare(client, bucket, key, video)
        if problem:
            problems.append(problem)
    return Verdict(checked=len(expected), matching=len(expected) - len(problems), problems=problems)


def verify_archived(
    client: S3Client, db_path: Path, bucket: str, expected: Mapping[str, Video]
) -> Verdict:
    """Each job (id → video) is ``stored``, its asset row describes its video, and the
    object the row names holds exactly the video's bytes."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        rows = {
            job_id: (status, asset_bucket, key, size, sha256)
            for job_id, status, asset_bucket, key, size, sha256 in conn.execute(
                "SELECT j.id, j.status, a.bucket, a.object_key, a.size_bytes, a.sha256 "
                "FROM jobs j LEFT JOIN assets a ON a.job_id = j.id"
            )
        }
    problems = []
    for job_id, video in expected.items():
        status, asset_bucket, key, size, sha256 = rows.get(job_id, (None,) * 5)
        if status != "stored" or key is None:
            problems.append(f"{video.name}: job {job_id} is {status}, with no asset")
            continue
        if (asset_bucket, size, sha256) != (bucket, video.size, video.sha256):
            problems.append(
                f"{video.name}: the asset row says {size} bytes, SHA-256 {sha256} in "
                f"{asset_bucket}; the source is {video.size} bytes, {video.sha256}"
            )
            continue
        problem = _compare(client, bucket, str(key), video)
        if problem:
            problems.append(problem)
    return Verdict(checked=len(expected), matching=len(expected) - len(problems), problems=problems)


def _compare(client: S3Client, bucket: str, key: str, video: Video) -> str | None:
    digest = hashlib.sha256()
    size = 0
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        for chunk in body.iter_chunks(_READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    except (BotoCoreError, ClientError) as exc:
        return f"{video.name}: s3://{bucket}/{key} could not be read: {exc}"
    if (size, digest.hexdigest()) != (video.size, video.sha256):
        return (
            f"{video.name}: s3://{bucket}/{key} holds {size} bytes, SHA-256 "
            f"{digest.hexdigest()[:16]}…, not the source's {video.size} bytes, "
            f"{video.sha256[:16]}…"
        )
    return None
