"""The two S3 calls the lifecycle of stored assets needs and ObjectStore does not offer yet:
delete an object, list a prefix. They belong in :mod:`receiver.storage` (to be moved there);
they use its client and its error wrapping, so they behave like its own methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from receiver.storage import ObjectStore

__all__ = ["Listed", "delete_object", "list_objects"]


@dataclass(frozen=True, kw_only=True)
class Listed:
    key: str
    size: int
    last_modified: datetime


def delete_object(store: ObjectStore, key: str) -> None:
    """Delete ``key``; deleting an object that is already gone succeeds (S3 answers 204)."""
    store._call(f"deleting {key}", store._client.delete_object, Bucket=store.bucket, Key=key)


def list_objects(store: ObjectStore, prefix: str) -> Iterator[list[Listed]]:
    """The objects under ``prefix``, a page (at most 1,000) at a time."""
    token: str | None = None
    while True:
        options = {"ContinuationToken": token} if token else {}
        page = store._call(
            f"listing {prefix}",
            store._client.list_objects_v2,
            Bucket=store.bucket,
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
