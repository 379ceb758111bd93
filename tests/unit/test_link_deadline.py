"""When a video link dies: 24 h after generation, unless the URL states its own expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from receiver.deadlines import link_deadline, url_expiry

GENERATED = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expires"),
    [
        (  # S3 SigV4
            "https://b.s3.amazonaws.com/v.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Date=20261125T100000Z&X-Amz-Expires=43200&X-Amz-Signature=ab",
            datetime(2026, 11, 25, 22, 0, 0, tzinfo=UTC),
        ),
        (  # GCS V4
            "https://storage.googleapis.com/b/v.mp4?X-Goog-Date=20261125T100000Z"
            "&X-Goog-Expires=3600&X-Goog-Signature=ab",
            datetime(2026, 11, 25, 11, 0, 0, tzinfo=UTC),
        ),
        (  # SigV2 / CloudFront / OSS v1: an epoch
            f"https://cdn.example.com/v.mp4?Expires={int(GENERATED.timestamp()) + 7200}",
            datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC),
        ),
        (  # Azure SAS
            "https://a.blob.core.windows.net/c/v.mp4?sv=2022-11-02&se=2026-11-25T18:30:00Z&sig=x",
            datetime(2026, 11, 25, 18, 30, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_presigned_urls_own_expiry_is_the_deadline(url: str, expires: datetime) -> None:
    assert url_expiry(url) == expires
    assert link_deadline(url, GENERATED) == expires


@pytest.mark.parametrize(
    "url",
    [
        "https://files.evolink.ai/v/abc.mp4",
        "https://cdn.example.com/v.mp4?X-Amz-Date=garbage&X-Amz-Expires=60",
        "https://cdn.example.com/v.mp4?Expires=not-a-number",
        "https://cdn.example.com/v.mp4?Expires=99999999999999999999",
    ],
)
def test_without_a_readable_expiry_the_link_lives_24_hours(url: str) -> None:
    assert link_deadline(url, GENERATED) == GENERATED + timedelta(hours=24)


@pytest.mark.parametrize("later", [timedelta(hours=25), timedelta(days=7)])
def test_a_url_never_lives_longer_than_the_provider_documents(later: timedelta) -> None:
    # A week-long X-Amz-Expires (or a forged one) would let a slow source hold a worker
    # for days: the documented 24 h is the longest a link is believed to live.
    url = (
        "https://b.s3.amazonaws.com/v.mp4?X-Amz-Date=20261125T100000Z"
        f"&X-Amz-Expires={int(later.total_seconds())}&X-Amz-Signature=ab"
    )
    assert url_expiry(url) == GENERATED + later
    assert link_deadline(url, GENERATED) == GENERATED + timedelta(hours=24)


def test_an_implausible_expiry_is_not_believed() -> None:
    far = int((GENERATED + timedelta(days=365)).timestamp())
    assert link_deadline(f"https://c.example.com/v.mp4?Expires={far}", GENERATED) == (
        GENERATED + timedelta(hours=24)
    )


@given(url=st.text(alphabet="ab=&?#%/:.XY0129", max_size=40).map(lambda s: "https://h/" + s))
def test_the_query_is_read_as_the_plain_parse_reads_it(url: str) -> None:
    from urllib.parse import parse_qsl, urlsplit

    from receiver.deadlines import _query

    try:
        plain = {key.lower(): value for key, value in parse_qsl(urlsplit(url).query)}
    except ValueError:
        plain = {}
    assert _query(url) == plain
