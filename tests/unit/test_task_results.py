"""Every result of a task: read from the task object, typed, keyed, given a lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receiver import media
from receiver.archive.keys import result_key
from receiver.deadlines import LINK_LIFETIME, link_deadline, link_lifetime_for
from receiver.providers import evolink_protocol, kling_protocol, protocol_common
from receiver.providers.base import MediaKind, TaskResult

_T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _task(**fields: object) -> dict[str, object]:
    return {"id": "task-unified-1-abc", "status": "completed", **fields}


def test_every_url_of_results_is_a_result_of_the_tasks_kind() -> None:
    snapshot = evolink_protocol.parse_task(
        _task(
            object="image.generation.task",
            results=["https://cdn/1.png", "https://cdn/2.png", "https://cdn/1.png", "ftp://x"],
        )
    )
    assert snapshot.results == (
        TaskResult(url="https://cdn/1.png", kind="image"),
        TaskResult(url="https://cdn/2.png", kind="image"),
    )
    assert snapshot.video_urls == ("https://cdn/1.png", "https://cdn/2.png")
    assert snapshot.result_data is None


def test_songs_in_result_data_are_results_and_the_rest_is_kept() -> None:
    snapshot = evolink_protocol.parse_task(
        _task(
            type="audio",
            result_data={
                "songs": [
                    {"result_id": "r1", "title": "One", "audio_url": "https://cdn/a.mp3"},
                    {"result_id": "r2", "title": "Two", "audio_url": "https://cdn/b.mp3"},
                ]
            },
        )
    )
    assert snapshot.results == (
        TaskResult(url="https://cdn/a.mp3", kind="audio"),
        TaskResult(url="https://cdn/b.mp3", kind="audio"),
    )
    assert snapshot.result_data == {
        "songs": [{"result_id": "r1", "title": "One"}, {"result_id": "r2", "title": "Two"}]
    }


@pytest.mark.parametrize(
    ("result_data", "kept"),
    [
        ({"element_id": 831}, {"element_id": 831}),
        ({"persona_id": "p-1"}, {"persona_id": "p-1"}),
        ([{"z_index": 1, "name": "sky"}], {"items": [{"z_index": 1, "name": "sky"}]}),
        ("v-1", {"value": "v-1"}),
        ({}, None),
    ],
)
def test_a_task_with_no_file_keeps_its_result_data(result_data: object, kept: object) -> None:
    snapshot = evolink_protocol.parse_task(_task(result_data=result_data))
    assert snapshot.results == ()
    assert snapshot.result_data == kept


def test_a_kling_task_still_yields_its_videos() -> None:
    snapshot = kling_protocol.parse_task(
        {
            "task_id": "k1",
            "task_status": "succeed",
            "task_result": {"videos": [{"url": "https://k/1.mp4"}, {"url": "https://k/2.mp4"}]},
        }
    )
    assert [(r.url, r.kind) for r in snapshot.results] == [
        ("https://k/1.mp4", "video"),
        ("https://k/2.mp4", "video"),
    ]


@pytest.mark.parametrize(
    ("head", "content_type"),
    [
        (b"\x00\x00\x00\x18ftypisom\x00\x00", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00", "video/quicktime"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", "image/jpeg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"OggS\x00\x02\x00\x00\x00\x00\x00\x00", "audio/ogg"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        (b"\xff\xfb\x90\x64\x00\x00\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
    ],
)
def test_a_file_is_known_by_its_first_bytes(head: bytes, content_type: str) -> None:
    found = media.sniff(head)
    assert found is not None
    assert found.content_type == content_type
    assert media.refusal(found.kind, head) is None


def test_a_file_of_another_kind_or_an_error_page_is_refused() -> None:
    assert media.sniff(b"<html>not a file</html>") is None
    assert media.refusal("video", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d") == (
        "the download is not an MP4 file (no 'ftyp' box at the start)"
    )
    assert media.refusal("image", b"<html>nope</html>") == (
        "the download is not a PNG, JPEG or WebP image"
    )
    assert media.refusal("audio", b"{}") == "the download is not an MP3, WAV or OGG file"


@pytest.mark.parametrize(
    ("url", "stated", "kind", "extension"),
    [
        ("https://cdn/v", None, "video", "mp4"),
        ("https://cdn/x.mov?sig=1", None, "video", "mov"),
        ("https://cdn/x.JPEG", None, "image", "jpg"),
        ("https://cdn/x.webp", "image", "image", "webp"),
        ("https://cdn/x.bin", "image", "image", "png"),
        ("https://cdn/x.wav", None, "audio", "wav"),
        ("https://cdn/x.mp4", "audio", "audio", "mp3"),
    ],
)
def test_each_result_gets_its_kind_and_its_keys_extension(
    url: str, stated: MediaKind | None, kind: str, extension: str
) -> None:
    assert media.kind_for(url, stated) == kind
    assert media.extension_for(url, media.kind_for(url, stated)) == extension


def test_one_result_keeps_the_jobs_key_several_sit_under_the_jobs_name() -> None:
    one = result_key("videos/", "job_1", _T0, index=0, count=1, extension="mp4")
    assert one == "videos/2026/11/25/job_1.mp4"
    several = [
        result_key("videos/", "job_1", _T0, index=index, count=3, extension="png")
        for index in range(3)
    ]
    assert several == [f"videos/2026/11/25/job_1/{index}.png" for index in range(3)]


def test_a_links_lifetime_is_its_models() -> None:
    assert link_lifetime_for("suno-v5-beta") == timedelta(hours=72)
    assert link_lifetime_for("suno-v9-next-beta") == timedelta(hours=72)  # not in the table
    assert link_lifetime_for("mj-v8.1") == timedelta(days=30)
    assert link_lifetime_for("veo-3.1-generate-preview") == LINK_LIFETIME
    assert link_lifetime_for(None) == LINK_LIFETIME
    # The lifetime moves the deadline; a URL's earlier expiry still wins.
    assert link_deadline("https://cdn/a.mp3", _T0, timedelta(hours=72)) == _T0 + timedelta(hours=72)
    expires = int((_T0 + timedelta(hours=30)).timestamp())
    assert link_deadline(
        f"https://cdn/a.mp3?expires={expires}", _T0, timedelta(hours=72)
    ) == _T0 + timedelta(hours=30)


# ── the callback path's shortcuts, held to the plain code ──

_URL_TEXT = st.text(alphabet="abc/.?#=&%-_:XYZ09", max_size=40)


@given(
    # The URLs results have: http(s) (what task_results keeps), or none at all.
    prefix=st.sampled_from(["https://cdn.example.com", "http://h", "https://h:8443"]),
    rest=_URL_TEXT,
)
def test_the_extension_is_the_one_urlsplit_reads(prefix: str, rest: str) -> None:
    url = prefix + ("/" if not rest.startswith("/") else "") + rest
    try:
        name = urlsplit(url).path.rsplit("/", 1)[-1]
    except ValueError:
        return  # not a URL urlsplit reads: nothing to compare with
    plain = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    assert media._extension(url) == plain


_RESULT = st.one_of(
    st.sampled_from(["https://c.example/a.mp4", "https://c.example/b.png", "http://x/y"]),
    st.text(max_size=8),
    st.integers(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@given(urls=st.lists(_RESULT, max_size=8), kind=st.sampled_from([None, "video", "image"]))
def test_results_of_one_kind_are_what_task_results_makes(
    urls: list[object], kind: MediaKind | None
) -> None:
    assert protocol_common.results_of(urls, kind) == protocol_common.task_results(
        [(url, kind) for url in urls]
    )


def test_a_result_that_is_not_text_is_left_out_not_a_crash() -> None:
    task = {
        "id": "task-1",
        "status": "completed",
        "results": [{"url": "https://c.example/a.mp4"}, ["x"], "https://c.example/b.mp4"],
        "result_data": {"songs": [{"audio_url": ["nested"]}, {"audio_url": {}}]},
    }
    snapshot = evolink_protocol.parse_task(task)
    assert [result.url for result in snapshot.results] == ["https://c.example/b.mp4"]
    del task["result_data"]
    assert [r.url for r in evolink_protocol.parse_task(task).results] == ["https://c.example/b.mp4"]
