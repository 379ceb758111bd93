"""Queries loader, ids and timestamps, access-log redaction, object keys."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from unittest import mock

import pytest

from receiver import clock
from receiver.storage import asset_key
from receiver.store.queries import Queries, parse_queries
from receiver.web.access_log import redact_path


def test_parse_queries_splits_named_blocks_and_drops_comments() -> None:
    queries = parse_queries("-- name: a\n-- why\nSELECT 1;\n\n-- name: b\nSELECT :x::text;\n")
    assert queries == {"a": "SELECT 1", "b": "SELECT :x::text"}


def test_duplicate_query_names_are_an_error() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;\n")


def test_dialect_only_lines_are_kept_for_their_dialect_alone() -> None:
    text = "-- name: claim\nSELECT id FROM t\nFOR UPDATE SKIP LOCKED -- postgresql only\n;\n"
    assert parse_queries(text, "postgresql") == {
        "claim": "SELECT id FROM t\nFOR UPDATE SKIP LOCKED"
    }
    assert parse_queries(text, "sqlite") == {"claim": "SELECT id FROM t"}
    with pytest.raises(ValueError, match="unknown dialect 'mysql'"):
        parse_queries("-- name: a\nSELECT 1 -- mysql only\n", "sqlite")


def test_the_claims_lock_rows_on_postgresql_only() -> None:
    for name in ("claim_archive_task", "claim_notifications", "take_outbox"):
        assert "SKIP LOCKED" in Queries("postgresql")[name]
        assert "SKIP LOCKED" not in Queries("sqlite")[name]


def test_postgresql_placeholders_leave_casts_alone() -> None:
    queries = Queries("postgresql")
    assert "%(id)s" in queries["get_job"]
    assert ":id" not in queries["get_job"]
    assert set(Queries("sqlite")) == set(queries)


def test_ids_sort_by_creation_and_are_unique() -> None:
    ids = [clock.new_id("job") for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(i.startswith("job_") and len(i) == 30 for i in ids)
    first = clock.new_id("job")
    import time

    time.sleep(0.002)
    assert clock.new_id("job") > first


def test_ids_are_the_time_and_random_bits_in_crockford_base32() -> None:
    rng = random.Random(5)
    for _ in range(2000):
        millis, noise = rng.getrandbits(48), rng.getrandbits(80)
        with (
            mock.patch("receiver.clock.time.time", return_value=millis / 1000 + 0.0004),
            mock.patch("receiver.clock.secrets.randbits", return_value=noise),
        ):
            made = clock.new_id("dlv")
        value = (millis << 80) | noise
        # The plain definition: 26 digits of 5 bits, most significant first.
        digits = "0123456789abcdefghjkmnpqrstvwxyz"
        expected = "".join(digits[(value >> (5 * i)) & 31] for i in reversed(range(26)))
        assert made == f"dlv_{expected}"


def test_timestamps_are_written_as_strftime_would_in_utc() -> None:
    rng = random.Random(6)
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    for _ in range(2000):
        moment = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.getrandbits(50))
        moment = moment.astimezone(rng.choice(zones))
        expected = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert clock.to_db(moment) == expected


def test_timestamps_round_trip_and_sort_as_text() -> None:
    early = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    late = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)
    assert clock.from_db(clock.to_db(early)) == early
    assert clock.to_db(early) < clock.to_db(late)
    with pytest.raises(ValueError, match="naive"):
        clock.to_db(datetime(2026, 1, 1))


def test_callback_tokens_are_masked_in_access_logs() -> None:
    assert redact_path("/callbacks/evolink/eyJhbGciOi.secret") == "/callbacks/evolink/[token]"
    assert redact_path("/healthz") == "/healthz"


def test_asset_key_is_dated_by_job_creation() -> None:
    created = datetime(2026, 11, 5, 23, 59, tzinfo=UTC)
    assert asset_key("videos/", "job_abc", created) == "videos/2026/11/05/job_abc.mp4"


def test_the_published_openapi_document_is_current() -> None:
    import json
    from pathlib import Path

    from receiver.web.openapi import DOCUMENT

    published = Path(__file__).parents[2] / "docs" / "openapi.json"
    assert json.loads(published.read_text()) == DOCUMENT, (
        "docs/openapi.json is stale: python -m receiver.web.openapi > docs/openapi.json"
    )
    assert set(DOCUMENT["paths"]) >= {"/v1/jobs", "/v1/jobs/{job_id}/video", "/v1/events"}
