"""Credentials the store refuses: every failure names the variables to check.

Against real SeaweedFS with credentials enforced. Before, a wrong secret surfaced as
"An error occurred (403) when calling the HeadObject operation: Forbidden", with no word of
where the credentials come from.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest

from receiver.config import Settings
from receiver.devtools.seaweed import SeaweedFS
from receiver.errors import StorageError
from receiver.storage import ObjectStore
from tests.conftest import make_env, s3_env

pytestmark = pytest.mark.integration

NAMED = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "RECEIVER_S3_ENDPOINT_URL")


def _store(tmp_path: Path, seaweedfs: SeaweedFS, **overrides: str) -> ObjectStore:
    return ObjectStore(Settings.from_env(make_env(tmp_path, **{**s3_env(seaweedfs), **overrides})))


def test_a_wrong_secret_names_the_variables_on_every_call(
    tmp_path: Path, seaweedfs: SeaweedFS
) -> None:
    good = _store(tmp_path, seaweedfs)
    good.ensure_bucket()
    wrong = _store(tmp_path, seaweedfs, AWS_SECRET_ACCESS_KEY="wrong-" + secrets.token_hex(12))
    wrong.bucket = good.bucket
    calls: dict[str, Callable[[], object]] = {
        "head": lambda: wrong.head("videos/x.mp4"),
        "ping": wrong.ping,
        "ensure_bucket": wrong.ensure_bucket,
        "start_upload": lambda: wrong.start_upload("videos/x.mp4", content_type="video/mp4"),
    }
    for name, call in calls.items():
        with pytest.raises(StorageError) as caught:
            call()
        for variable in NAMED:
            assert variable in caught.value.message, (name, caught.value.message)
        assert wrong.bucket in caught.value.message or "x.mp4" in caught.value.message


def test_an_unknown_access_key_names_the_variables(tmp_path: Path, seaweedfs: SeaweedFS) -> None:
    store = _store(tmp_path, seaweedfs, AWS_ACCESS_KEY_ID="nobody" + secrets.token_hex(4))
    with pytest.raises(StorageError) as caught:
        store.head("videos/x.mp4")
    assert all(variable in caught.value.message for variable in NAMED)


def test_a_part_refused_for_its_credentials_names_them(
    tmp_path: Path, seaweedfs: SeaweedFS
) -> None:
    good = _store(tmp_path, seaweedfs)
    good.ensure_bucket()
    upload_id = good.start_upload("videos/part.mp4", content_type="video/mp4")
    wrong = _store(tmp_path, seaweedfs, AWS_SECRET_ACCESS_KEY="wrong-" + secrets.token_hex(12))
    wrong.bucket = good.bucket
    with pytest.raises(StorageError) as caught:
        wrong.upload_part("videos/part.mp4", upload_id, 1, b"x" * 1024)
    assert all(variable in caught.value.message for variable in NAMED)
    good.abort_upload("videos/part.mp4", upload_id)
