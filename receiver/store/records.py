"""Typed records: what the store hands back, frozen and built from rows in one place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from receiver import clock
from receiver.lifecycle import DeliveryOutcome, JobStatus
from receiver.store.database import Row

__all__ = ["ArchiveTask", "Asset", "Delivery", "Event", "Job", "Stamp"]

#: A moment as the database stores it (:func:`receiver.clock.to_db`'s text). The few
#: repository methods on the callback path take this instead of a ``datetime``: the intake
#: formats a moment once per delivery and hands the same text to every write of it.
Stamp = str


def _when(value: str | None) -> datetime | None:
    return clock.from_db(value) if value is not None else None


def _json_or_none(value: str | None) -> dict[str, Any] | None:
    document = json.loads(value) if value is not None else None
    return document if isinstance(document, dict) else None


@dataclass(frozen=True, kw_only=True)
class Job:
    id: str
    provider: str
    model: str
    prompt: str
    params: dict[str, Any]
    status: JobStatus
    task_id: str | None
    provider_status: str | None
    progress: int | None
    error_code: str | None
    error_message: str | None
    attention: str | None
    estimated_seconds: int | None
    credits_reserved: float | None
    #: Our estimate from the price table, made before submitting (None: no price known).
    credits_estimated: float | None = None
    created_at: datetime
    submitted_at: datetime | None
    finished_at: datetime | None
    stored_at: datetime | None
    updated_at: datetime
    check_after: datetime | None = None
    check_attempts: int = 0
    #: What the task returned that is no file (``result_data`` without its media URLs).
    result_data: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: Row) -> Self:
        return cls(
            id=row["id"],
            provider=row["provider"],
            model=row["model"],
            prompt=row["prompt"],
            params=json.loads(row["params"]),
            status=JobStatus(row["status"]),
            task_id=row["task_id"],
            provider_status=row["provider_status"],
            progress=row["progress"],
            error_code=row["error_code"],
            error_message=row["error_message"],
            attention=row["attention"],
            estimated_seconds=row["estimated_seconds"],
            credits_reserved=row["credits_reserved"],
            credits_estimated=row.get("credits_estimated"),
            created_at=clock.from_db(row["created_at"]),
            submitted_at=_when(row["submitted_at"]),
            finished_at=_when(row["finished_at"]),
            stored_at=_when(row["stored_at"]),
            updated_at=clock.from_db(row["updated_at"]),
            check_after=_when(row["check_after"]),
            check_attempts=row["check_attempts"],
            result_data=_json_or_none(row.get("result_data")),
        )


@dataclass(frozen=True, kw_only=True)
class Asset:
    job_id: str
    bucket: str
    object_key: str
    size_bytes: int
    sha256: str
    content_type: str
    etag: str | None
    stored_at: datetime
    #: Read from the stored file; None when it could not be.
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    codec: str | None = None
    #: Which result of the job's task this is (0 for the first, or only, one).
    result_index: int = 0

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.object_key}"

    @classmethod
    def from_row(cls, row: Row) -> Self:
        return cls(
            job_id=row["job_id"],
            bucket=row["bucket"],
            object_key=row["object_key"],
            size_bytes=row["size_bytes"],
            sha256=row["sha256"],
            content_type=row["content_type"],
            etag=row["etag"],
            stored_at=clock.from_db(row["stored_at"]),
            duration_seconds=row["duration_seconds"],
            width=row["width"],
            height=row["height"],
            codec=row["codec"],
            result_index=row.get("result_index") or 0,
        )


@dataclass(frozen=True, kw_only=True)
class Delivery:
    id: str
    provider: str
    source: str
    job_id: str | None
    task_id: str | None
    provider_status: str | None
    outcome: DeliveryOutcome
    reason: str | None
    client_addr: str | None
    body_size: int
    received_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> Self:
        return cls(
            id=row["id"],
            provider=row["provider"],
            source=row["source"],
            job_id=row["job_id"],
            task_id=row["task_id"],
            provider_status=row["provider_status"],
            outcome=DeliveryOutcome(row["outcome"]),
            reason=row["reason"],
            client_addr=row["client_addr"],
            body_size=row["body_size"],
            received_at=clock.from_db(row["received_at"]),
        )


@dataclass(frozen=True, kw_only=True)
class ArchiveTask:
    job_id: str
    #: Which result of the job's task this archives (0 for the first, or only, one) ...
    result_index: int = 0
    #: ... of how many, what kind of file it is and its key's extension (fixed at enqueue).
    result_count: int = 1
    media_kind: str = "video"
    extension: str = "mp4"
    state: str
    source_url: str
    attempts: int
    not_before: datetime
    deadline_at: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_error: str | None
    confirm_first: bool = False
    upload_id: str | None = None
    part_size: int | None = None
    source_validator: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> Self:
        return cls(
            job_id=row["job_id"],
            result_index=row["result_index"],
            result_count=row["result_count"],
            media_kind=row["media_kind"],
            extension=row["extension"],
            state=row["state"],
            source_url=row["source_url"],
            attempts=row["attempts"],
            not_before=clock.from_db(row["not_before"]),
            deadline_at=clock.from_db(row["deadline_at"]),
            lease_owner=row["lease_owner"],
            lease_expires_at=_when(row["lease_expires_at"]),
            last_error=row["last_error"],
            confirm_first=bool(row["confirm_first"]),
            upload_id=row["upload_id"],
            part_size=row["part_size"],
            source_validator=row["source_validator"],
        )


@dataclass(frozen=True, kw_only=True)
class Event:
    seq: int
    job_id: str
    type: str
    data: dict[str, Any]
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> Self:
        return cls(
            seq=row["seq"],
            job_id=row["job_id"],
            type=row["type"],
            data=json.loads(row["data"]),
            created_at=clock.from_db(row["created_at"]),
        )
