"""The S3-compatible object store: where an asset really lives.

A thin wrapper over boto3 that speaks in our terms (keys, parts, "already exists") and
turns botocore's exceptions into :class:`~receiver.errors.StorageError`. Its settings are
chosen to work on AWS S3 and on the stores that imitate it (SeaweedFS, MinIO, R2, B2):
checksums only when an operation requires them, path-style addressing by default.

Parts, the one request made per 6 MiB of every video, go out as presigned ``UploadPart``
URLs on botocore's own HTTP session rather than through the client's full request
pipeline, with the client's retry rules (see :meth:`ObjectStore.upload_part`); what that
takes of botocore's internals is fenced in :mod:`receiver.compat.botocore_internals`.
"""

from __future__ import annotations

import http
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
import structlog
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from receiver.compat.botocore_internals import (
    MAX_RETRY_DELAY,
    RETRY_CODES,
    RETRY_STATUSES,
    AWSRequest,
    part_session,
)
from receiver.config import Settings
from receiver.errors import StorageError, UploadGone

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["Listed", "ObjectExists", "ObjectStore", "UploadedPart", "asset_key"]

log = structlog.get_logger(__name__)

_CONNECT_TIMEOUT, _READ_TIMEOUT = 10, 60
#: Tries of one part, as botocore's standard retry mode makes them for every other call.
_PART_ATTEMPTS = 5
#: A part's URL is used at once: it only has to outlive the retries of that part.
_PART_URL_SECONDS = 15 * 60
#: The store's answers to credentials it does not accept (a wrong key pair, or a pair meant for
#: another store): their message names the variables to check.
_AUTH_CODES = frozenset(
    {
        "403",
        "AccessDenied",
        "Forbidden",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "InvalidToken",
        "ExpiredToken",
        "AuthorizationHeaderMalformed",
    }
)
_CHECK_CREDENTIALS = (
    "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, and that RECEIVER_S3_ENDPOINT_URL is "
    "the store they belong to"
)
_ERROR_CODE = re.compile(r"<Code>([^<]*)</Code>")
_ERROR_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")
#: A URL's query: on a presigned URL, the signature.
_QUERY = re.compile(r"(https?://[^\s\"'?]*)\?[^\s\"']*")


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


@dataclass(frozen=True, kw_only=True)
class Listed:
    """An object as a listing shows it."""

    key: str
    size: int
    last_modified: datetime


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
                retries={"mode": "standard", "max_attempts": _PART_ATTEMPTS},
                max_pool_connections=max_connections,
                connect_timeout=_CONNECT_TIMEOUT,
                read_timeout=_READ_TIMEOUT,
            ),
        )
        # The session botocore's client sends with, set up as the client's own is (its CA
        # bundle, the environment's proxies), for the parts (see upload_part).
        self._parts = part_session(
            self._client.meta.endpoint_url,
            max_connections=max_connections,
            connect_timeout=_CONNECT_TIMEOUT,
            read_timeout=_READ_TIMEOUT,
        )

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing, or say clearly why we cannot use it."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            code = _code(exc)
            if code in _AUTH_CODES:
                raise StorageError(
                    f"access to bucket {self.bucket!r} is denied ({code}): "
                    f"{_CHECK_CREDENTIALS}, and the bucket's policy"
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
            f"starting an upload of {key}",
            self._client.create_multipart_upload,
            Bucket=self.bucket,
            Key=key,
            ContentType=content_type,
        )
        return str(response["UploadId"])

    def upload_part(
        self, key: str, upload_id: str, number: int, data: bytes | bytearray
    ) -> UploadedPart:
        """Send one part: a presigned ``UploadPart`` URL, the bytes sent as they are.

        botocore's ``upload_part`` spends about 1 ms of CPU per call besides sending the
        bytes (building, validating and hooking the request, waiting on ``Expect:
        100-continue``); presigning the request and sending it on botocore's own HTTP
        session takes about 0.7 ms. Failures are told apart and
        retried as the client's standard retry mode would (connection failures, 5xx, 429
        and throttling codes, five tries with jittered exponential backoff), and end as a
        :class:`StorageError` like any other call's. The URL carries a signature: it is
        never logged, and error messages drop its query.
        """
        url = self._client.generate_presigned_url(
            "upload_part",
            Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
            ExpiresIn=_PART_URL_SECONDS,
        )
        for attempt in range(1, _PART_ATTEMPTS + 1):
            try:
                response = self._parts.send(AWSRequest(method="PUT", url=url, data=data).prepare())
            except (BotoConnectionError, HTTPClientError) as exc:
                code, retry = "", True
                failure = f"{type(exc).__name__}: {_without_query(str(exc))}"
            else:
                etag = response.headers.get("ETag")
                if response.status_code == 200 and etag:
                    return UploadedPart(number=number, etag=str(etag), size=len(data))
                code, message = _error_of(response.status_code, response.content)
                failure = (
                    f"An error occurred ({code}) when calling the UploadPart operation: {message}"
                )
                if code in _AUTH_CODES:
                    failure = f"{failure} ({_CHECK_CREDENTIALS})"
                retry = response.status_code in RETRY_STATUSES or code in RETRY_CODES
            if not retry or attempt == _PART_ATTEMPTS:
                # Not chained: botocore's exceptions quote the URL, signature and all.
                gone = not retry and code == "NoSuchUpload"
                raise (UploadGone if gone else StorageError)(
                    f"S3 store failed while uploading a part: {failure}"
                )
            time.sleep(min(MAX_RETRY_DELAY, random.random() * 2 ** (attempt - 1)))  # noqa: S311 - jitter
        raise AssertionError("unreachable")  # pragma: no cover

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

    def delete(self, key: str) -> None:
        """Delete ``key``; deleting an object that is already gone succeeds (S3 answers 204)."""
        self._call(f"deleting {key}", self._client.delete_object, Bucket=self.bucket, Key=key)

    def list_pages(self, prefix: str) -> Iterator[list[Listed]]:
        """The objects under ``prefix``, a page (at most 1,000) at a time."""
        token: str | None = None
        while True:
            options = {"ContinuationToken": token} if token else {}
            page = self._call(
                f"listing {prefix}",
                self._client.list_objects_v2,
                Bucket=self.bucket,
                Prefix=prefix,
                **options,
            )
            yield [
                Listed(key=item["Key"], size=item["Size"], last_modified=item["LastModified"])
                for item in page.get("Contents", [])
            ]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def presigned_url(self, key: str, *, expires_in: int = 3600) -> str:
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )

    def ping(self) -> None:
        self._call(f"reaching bucket {self.bucket!r}", self._client.head_bucket, Bucket=self.bucket)

    def _call(self, doing: str, operation: Any, **kwargs: Any) -> Any:
        try:
            return operation(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _wrap(exc, doing) from exc


def _error_of(status: int, body: bytes) -> tuple[str, str]:
    """An S3 error answer's code and message; the status stands in, as botocore has it."""
    text = body.decode("utf-8", "replace")
    code, message = _ERROR_CODE.search(text), _ERROR_MESSAGE.search(text)
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return (code.group(1) if code else str(status)), (message.group(1) if message else phrase)


def _without_query(text: str) -> str:
    return _QUERY.sub(r"\1", text)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _wrap(exc: Exception, doing: str) -> StorageError:
    """botocore's error as ours; when the store refused the credentials (or there were
    none), the message says which variables to check."""
    refused = isinstance(exc, ClientError) and _code(exc) in _AUTH_CODES
    if refused or isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return StorageError(f"S3 store failed while {doing}: {exc} ({_CHECK_CREDENTIALS})")
    return StorageError(f"S3 store failed while {doing}: {exc}")
