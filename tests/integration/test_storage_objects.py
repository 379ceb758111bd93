"""ObjectStore's own delete and listing, and a presigned part against botocore's upload_part.

Against real SeaweedFS (credentials enforced).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from receiver.config import Settings
from receiver.devtools.seaweed import SeaweedFS
from receiver.storage import ObjectStore
from tests.conftest import make_env, s3_env

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path, seaweedfs: SeaweedFS) -> ObjectStore:
    store = ObjectStore(Settings.from_env(make_env(tmp_path, **s3_env(seaweedfs))))
    store.ensure_bucket()
    return store


def _put(store: ObjectStore, key: str, data: bytes) -> None:
    upload_id = store.start_upload(key, content_type="video/mp4")
    part = store.upload_part(key, upload_id, 1, data)
    store.complete_upload(key, upload_id, [part])


def test_objects_are_listed_under_their_prefix_and_deleted(store: ObjectStore) -> None:
    for name, size in (("a", 3), ("b", 5)):
        _put(store, f"listing/{name}.mp4", b"x" * size)
    _put(store, "elsewhere/c.mp4", b"y")
    pages = list(store.list_pages("listing/"))
    listed = sorted((item.key, item.size) for page in pages for item in page)
    assert listed == [("listing/a.mp4", 3), ("listing/b.mp4", 5)]
    assert all(item.last_modified.tzinfo is not None for page in pages for item in page)

    store.delete("listing/a.mp4")
    store.delete("listing/a.mp4")  # already gone: still fine
    assert store.head("listing/a.mp4") is None
    assert [item.key for page in store.list_pages("listing/") for item in page] == ["listing/b.mp4"]


def test_a_presigned_part_is_stored_as_botocores_upload_part_stores_it(
    store: ObjectStore,
) -> None:
    """The tuned path (a presigned PUT on botocore's HTTP session) against the plain one (the
    client's upload_part): the same bytes make the same part (ETag) and the same object."""
    data = random.Random(4).randbytes(6 * MiB + 17)
    etags = []
    for key, tuned in (("plain/part.mp4", False), ("tuned/part.mp4", True)):
        upload_id = store.start_upload(key, content_type="video/mp4")
        if tuned:
            part = store.upload_part(key, upload_id, 1, bytearray(data))
            etag = part.etag
        else:
            answer = store._client.upload_part(
                Bucket=store.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=data
            )
            etag = answer["ETag"]
        etags.append(etag)
        assert store.uploaded_parts(key, upload_id) == {1: etag}
        store.abort_upload(key, upload_id)
    assert etags[0] == etags[1]
