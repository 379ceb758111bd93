"""The simulator's download faults the fault suite relies on, and the count that judges it.

``complete_downloads`` is how ``tests/chaos`` proves "one stored job, one download": it must
count a body sent to the file's last byte, and never one that was cut off.
"""

from __future__ import annotations

import hashlib

import httpx
import pytest

from receiver.devtools.simulator import VideoFile
from tests.integration.test_simulator import SimFactory, start_simulator

__all__ = ["start_simulator"]  # the fixture, imported to be used here

VIDEO_BYTES = 2 * 1024 * 1024


def test_a_whole_download_counts_as_complete_and_a_ranged_rest_does_too(
    start_simulator: SimFactory,
) -> None:
    sim = start_simulator(video_bytes=VIDEO_BYTES)
    task_id = sim.create_task()
    url = sim.video_url(task_id)

    whole = sim.client.get(url)
    head = sim.client.get(url, headers={"Range": "bytes=0-99"})
    rest = sim.client.get(url, headers={"Range": "bytes=100-"})

    assert hashlib.sha256(whole.content).hexdigest() == VideoFile(task_id, VIDEO_BYTES).sha256()
    assert (head.status_code, rest.status_code) == (206, 206)
    # The head stopped short of the end; the whole file and the rest reached it.
    assert sim.stats(task_id)["complete_downloads"] == 2


def test_truncated_downloads_break_off_half_way_and_do_not_count(
    start_simulator: SimFactory,
) -> None:
    sim = start_simulator(video_bytes=VIDEO_BYTES, video_truncate_first=1)
    task_id = sim.create_task()
    url = sim.video_url(task_id)

    received = bytearray()

    def read_all() -> None:
        with sim.client.stream("GET", url) as response:
            assert response.headers["content-length"] == str(VIDEO_BYTES)
            for chunk in response.iter_bytes():
                received.extend(chunk)

    with pytest.raises(httpx.RemoteProtocolError):
        read_all()
    again = sim.client.get(url)

    assert 0 < len(received) < VIDEO_BYTES
    assert len(again.content) == VIDEO_BYTES
    stats = sim.stats(task_id)
    assert (stats["truncated_downloads"], stats["downloads"]) == (1, 2)
    assert stats["complete_downloads"] == 1


def test_a_trickling_source_still_serves_the_right_bytes(start_simulator: SimFactory) -> None:
    size = VideoFile("x", VIDEO_BYTES).size
    # Fast enough for a unit-sized test, slow enough to be sent in many small pieces.
    sim = start_simulator(video_bytes=size, video_bytes_per_second=20 * 1024 * 1024)
    task_id = sim.create_task()
    url = sim.video_url(task_id)

    pieces = 0
    digest = hashlib.sha256()
    with sim.client.stream("GET", url) as response:
        for chunk in response.iter_raw():
            pieces += 1
            digest.update(chunk)

    assert digest.hexdigest() == VideoFile(task_id, size).sha256()
    assert pieces > VIDEO_BYTES // (256 * 1024)
    assert sim.stats(task_id)["complete_downloads"] == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"video_truncate_first": -1}, "video_truncate_first must be >= 0"),
        ({"video_bytes_per_second": 0}, "video_bytes_per_second must be > 0"),
    ],
)
def test_bad_fault_settings_are_refused(
    start_simulator: SimFactory, changes: dict[str, int], message: str
) -> None:
    sim = start_simulator()
    response = sim.client.patch("/_simulator/config", json=changes)
    assert response.status_code == 400
    assert message in response.json()["error"]
