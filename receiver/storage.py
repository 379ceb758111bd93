"""The S3-compatible object store: where an asset really lives.

A thin wrapper over boto3 that speaks in our terms (keys, parts, "already exists") and
turns botocore's exceptions into :class:`~receiver.errors.StorageError`. Its settings are
chosen to work on AWS S3 and on the stores that imitate it (SeaweedFS, MinIO, R2, B2):
checksums only when an operation requires them, path-style addressing by default.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from receiver.config import Settings
from receiver.errors import StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["ObjectExists", "ObjectStore", "UploadedPart", "asset_key"]

log = structlog.get_logger(__name__)


def asset_key(prefix: str, job_id: str, created_at: datetime) -> str:
    """``<prefix><yyyy>/<mm>/<dd>/<job id>.mp4``, dated by the job's creation (UTC).

    The key depends only on the job, so every attempt to archive it aims at the same
    object and a second copy can never appear under another name.
    """
    return f"{prefix}{created_at:%Y/%m/%d}/{job_id}.mp4"


class ObjectExists(StorageError):
    """An object is already stored under this key."""


@dataclass(frozen=True)
class UploadedPart:
    number: int
    etag: str
    size: int


class ObjectStore:
    def __init__(self, settings: Settings, *, max_connections: int = 10) -> None:
        self.bucket = settings.s3_bucket
        self._region = settings.aws_region
        #: Until the store says it does not know ``If-None-Match`` on completion.
        self._conditional_writes = True
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.aws_region,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=(
                settings.aws_secret_access_key.reveal() if settings.aws_secret_access_key else None
            ),
            config=Config(
                s3={
                    "addressing_style": settings.s3_addressing_style,
                    # Otherwise botocore hashes every part a second time just to sign it (we
                    # hash the whole video ourselves): TLS guards the parts on their way.
                    "payload_signing_enabled": False,
                },
                # Newer botocore adds CRC checksums to every upload by default; several
                # S3-compatible stores reject or mangle them. We hash the video ourselves.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"mode": "standard", "max_attempts": 5},
                max_pool_connections=max_connections,
                connect_timeout=10,
                read_timeout=60,
            ),
        )

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing, or say clearly why we cannot use it."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            code = _code(exc)
            if code in {"403", "AccessDenied", "Forbidden"}:
                raise StorageError(
                    f"access to bucket {self.bucket!r} is denied: check AWS_ACCESS_KEY_ID / "
                    "AWS_SECRET_ACCESS_KEY and the bucket's policy"
                ) from exc
            if code not in {"404", "NoSuchBucket", "NotFound"}:
                raise _wrap(exc, f"checking bucket {self.bucket!r}") from exc
        except BotoCoreError as exc:
            raise _wrap(exc, f"reaching the S3 store for bucket {self.bucket!r}") from exc
        try:
            if self._region == "us-east-1":
                self._client.create_bucket(Bucket=self.bucket)
            else:
                # Outside us-east-1, AWS wants the region spelled out again.
                self._client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={"LocationConstraint": self._region},  # type: ignore[typeddict-item]
                )
        except ClientError as exc:
            if _code(exc) in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                return
            raise _wrap(exc, f"creating bucket {self.bucket!r}") from exc

    def start_upload(self, key: str, *, content_type: str) -> str:
        response = self._call(
            "starting an upload",
            self._client.create_multipart_upload,
            Bucket=self.bucket,
            Key=key,
            ContentType=content_type,
        )
        return str(response["UploadId"])

    def upload_part(
        self, key: str, upload_id: str, number: int, data: bytes | bytearray
    ) -> UploadedPart:
        response = self._call(
            "uploading a part",
            self._client.upload_part,
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
        )
        return UploadedPart(number=number, etag=str(response["ETag"]), size=len(data))

    def complete_upload(self, key: str, upload_id: str, parts: list[UploadedPart]) -> str:
        """Make the object visible, only if no object exists under ``key`` yet.

        Raises :class:`ObjectExists` when one does (the upload is left open for the
        caller to abort after comparing contents). The store enforces it with
        ``If-None-Match: *`` where it supports conditional writes; a HEAD first covers the
        stores that do not (the task's lease keeps a second writer away meanwhile).
        """
        if self.head(key) is not None:
            raise ObjectExists(f"s3://{self.bucket}/{key} already exists")
        condition: dict[str, Any] = {"IfNoneMatch": "*"} if self._conditional_writes else {}
        try:
            response = self._client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]
                },
                **condition,
            )
        except ClientError as exc:
            code = _code(exc)
            if code in {"PreconditionFailed", "412"}:
                raise ObjectExists(f"s3://{self.bucket}/{key} already exists") from exc
            if condition and code in {"NotImplemented", "501"}:
                log.warning("store.no_conditional_writes", bucket=self.bucket)
                self._conditional_writes = False
                return self.complete_upload(key, upload_id, parts)
            raise _wrap(exc, "completing an upload") from exc
        except BotoCoreError as exc:
            raise _wrap(exc, "completing an upload") from exc
        return str(response.get("ETag", ""))

    def uploaded_parts(self, key: str, upload_id: str) -> dict[int, str] | None:
        """The parts the store holds for an open upload (number -> ETag).

        None when the upload is gone, or when we may not list it (no
        ``s3:ListMultipartUploadParts``): either way it cannot be resumed. Any other failure
        (the store is down) raises, so that the upload and its journal wait for a retry.
        """
        parts: dict[int, str] = {}
        marker = 0
        while True:
            try:
                response = self._client.list_parts(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
                )
            except ClientError as exc:
                if _code(exc) in {"NoSuchUpload", "404", "AccessDenied", "403"}:
                    return None
                raise _wrap(exc, "listing an upload's parts") from exc
            except BotoCoreError as exc:
                raise _wrap(exc, "listing an upload's parts") from exc
            for part in response.get("Parts", []):
                parts[int(part["PartNumber"])] = str(part["ETag"])
            if not response.get("IsTruncated"):
                return parts
            marker = int(response.get("NextPartNumberMarker", 0))

    def abort_upload(self, key: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if _code(exc) not in {"NoSuchUpload", "404"}:
                raise _wrap(exc, "aborting an upload") from exc
        except BotoCoreError as exc:
            raise _wrap(exc, "aborting an upload") from exc

    def open_uploads(self, prefix: str = "") -> list[dict[str, Any]]:
        response = self._call(
            "listing uploads",
            self._client.list_multipart_uploads,
            Bucket=self.bucket,
            Prefix=prefix,
        )
        return [dict(upload) for upload in response.get("Uploads", [])]

    def head(self, key: str) -> dict[str, Any] | None:
        try:
            return dict(self._client.head_object(Bucket=self.bucket, Key=key))
        except ClientError as exc:
            if _code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise _wrap(exc, f"looking up {key}") from exc
        except BotoCoreError as exc:
            raise _wrap(exc, f"looking up {key}") from exc

    def read(self, key: str, *, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        response = self._call(
            f"reading {key}", self._client.get_object, Bucket=self.bucket, Key=key
        )
        body = response["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(exc, f"reading {key}") from exc
        finally:
            body.close()

    def read_range(self, key: str, first: int, last: int) -> bytes:
        """Bytes ``first`` to ``last`` (both included) of the object at ``key``."""
        response = self._call(
            f"reading {key}",
            self._client.get_object,
            Bucket=self.bucket,
            Key=key,
            Range=f"bytes={first}-{last}",
        )
        body = response["Body"]
        try:
            return bytes(body.read())
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(exc, f"reading {key}") from exc
        finally:
            body.close()

    def presigned_url(self, key: str, *, expires_in: int = 3600) -> str:
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )

    def ping(self) -> None:
        self._call("reaching the bucket", self._client.head_bucket, Bucket=self.bucket)

    def _call(self, doing: str, operation: Any, **kwargs: Any) -> Any:
        try:
            return operation(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(exc, doing) from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _wrap(exc: Exception, doing: str) -> StorageError:
    return StorageError(f"S3 store failed while {doing}: {exc}")
