"""A job with several stored files, through the client: which one a call means, where each
goes, each checked and resumable; the sync and async shells alike (canned answers on an
``httpx.MockTransport``)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from receiver.client import AsyncClient, Client, DownloadError, InvalidArgument
from receiver.client._protocol import video_call

BASE = "http://receiver.test"
TOKEN = "t" * 32
FILES = [bytes([n]) * (3000 + n) for n in range(3)]


def _asset(index: int, data: bytes, job_id: str = "job_1") -> dict[str, Any]:
    return {
        "uri": f"s3://b/k/{job_id}/{index}.png",
        "result_index": index,
        "bucket": "b",
        "key": f"k/{job_id}/{index}.png",
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_type": "image/png",
        "stored_at": "2026-01-01T00:00:02Z",
    }


def _job(job_id: str, assets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": job_id,
        "status": "stored",
        "model": "gpt-image-2",
        "prompt": "p",
        "params": {},
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:01Z",
        "asset": assets[0] if assets else None,
        "assets": assets,
        "events": [
            {"seq": 1, "type": "asset.stored", "data": {}, "created_at": "2026-01-01T00:00:02Z"}
        ],
        "deliveries": [],
    }


class FakeAPI:
    """Jobs, and each result's file behind its own presigned URL (Range honoured)."""

    def __init__(self) -> None:
        self.jobs = {
            "job_1": _job("job_1", [_asset(n, data) for n, data in enumerate(FILES)]),
            "job_2": _job("job_2", [{**_asset(0, FILES[0], "job_2"), "key": "k/job_2.mp4"}]),
        }
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.url.host == "s3.test":
            index = int(path.rsplit("/", 1)[1])
            start = int(request.headers.get("range", "bytes=0-")[6:].rstrip("-"))
            data = FILES[index]
            headers = {"content-range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
            return httpx.Response(206 if start else 200, content=data[start:], headers=headers)
        if path.endswith("/video"):
            index = int(request.url.params.get("index", "0"))
            return httpx.Response(302, headers={"location": f"http://s3.test/bucket/{index}"})
        return httpx.Response(200, json=self.jobs[path.split("/")[3]])

    def fetched(self) -> list[str]:
        """The indexes asked of /video, in order ("" for none: the first file)."""
        return [
            r.url.params.get("index", "")
            for r in self.requests
            if r.url.path.endswith("/video") and r.url.host != "s3.test"
        ]


def _client(api: FakeAPI) -> Client:
    return Client(BASE, TOKEN, transport=httpx.MockTransport(api))


def test_every_file_of_a_job_goes_into_its_own_directory(tmp_path: Path) -> None:
    api = FakeAPI()
    with _client(api) as client:
        saved = client.download_all("job_1", tmp_path)
    assert [s.path for s in saved] == [tmp_path / "job_1" / f"{n}.png" for n in range(3)]
    assert [s.result_index for s in saved] == [0, 1, 2]
    assert [s.path.read_bytes() for s in saved] == FILES
    # Result 0 is asked for as it always was; the others by their index.
    assert api.fetched() == ["", "1", "2"]
    assert not list(tmp_path.rglob("*.partial"))


def test_a_job_with_one_file_is_saved_as_it_always_was(tmp_path: Path) -> None:
    api = FakeAPI()
    with _client(api) as client:
        (saved,) = client.download_all("job_2", tmp_path)
        assert saved.path == tmp_path / "job_2.mp4"
        assert client.download("job_2", tmp_path / "mine.mp4").path == tmp_path / "mine.mp4"
    assert saved.path.read_bytes() == FILES[0]
    assert api.fetched() == ["", ""]


def test_one_file_of_several_is_named_by_its_index(tmp_path: Path) -> None:
    api = FakeAPI()
    with _client(api) as client:
        into_dir = client.download("job_1", f"{tmp_path}/new/", index=2)
        assert into_dir.path == tmp_path / "new" / "job_1" / "2.png"
        at_file = client.download("job_1", tmp_path / "second.png", index=1)
        assert at_file.path.read_bytes() == FILES[1]
        with pytest.raises(DownloadError, match="3 files: pass index="):
            client.download("job_1", tmp_path)
        with pytest.raises(DownloadError, match=r"no stored result 7 \(it has 0, 1, 2\)"):
            client.download("job_1", tmp_path, index=7)
        assert client.video_url("job_1", 2) == "http://s3.test/bucket/2"
    assert api.fetched() == ["2", "1", "2"]


def test_several_files_are_refused_a_file_path_before_anything_is_fetched(
    tmp_path: Path,
) -> None:
    api = FakeAPI()
    with _client(api) as client, pytest.raises(DownloadError, match="3 files: save them in a dir"):
        client.download_all("job_1", tmp_path / "all.png")
    assert api.fetched() == []
    assert list(tmp_path.iterdir()) == []


def test_a_partial_of_one_result_is_continued(tmp_path: Path) -> None:
    api = FakeAPI()
    (tmp_path / "job_1").mkdir()
    (tmp_path / "job_1" / "1.png.partial").write_bytes(FILES[1][:1000])
    with _client(api) as client:
        saved = client.download_all("job_1", tmp_path)
    assert saved[1].fetched_bytes == len(FILES[1]) - 1000
    assert saved[1].path.read_bytes() == FILES[1]
    ranges = [r.headers.get("range") for r in api.requests if r.url.host == "s3.test"]
    assert ranges == [None, "bytes=1000-", None]


def test_a_result_index_is_a_whole_number() -> None:
    assert video_call("job_1", 0).params == {}
    assert video_call("job_1", 3).params == {"index": 3}
    for wrong in (-1, True, "1"):
        with pytest.raises(InvalidArgument, match="not a result index"):
            video_call("job_1", wrong)  # type: ignore[arg-type]


def test_the_async_client_does_the_same(tmp_path: Path) -> None:
    api = FakeAPI()

    async def run() -> tuple[list[Path], Path, str]:
        async with AsyncClient(BASE, TOKEN, transport=httpx.MockTransport(api)) as client:
            saved = await client.download_all("job_1", f"{tmp_path}/a/")
            one = await client.download("job_1", tmp_path / "b.png", index=2)
            with pytest.raises(DownloadError, match="save them in a directory"):
                await client.download_all("job_1", tmp_path / "c.png")
            return [s.path for s in saved], one.path, await client.video_url("job_1", index=1)

    paths, one, url = asyncio.run(run())
    assert paths == [tmp_path / "a" / "job_1" / f"{n}.png" for n in range(3)]
    assert [path.read_bytes() for path in paths] == FILES
    assert one.read_bytes() == FILES[2]
    assert url == "http://s3.test/bucket/1"
