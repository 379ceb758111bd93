"""`receiver doctor`'s pure parts: the settings checks, the judges of the probes' facts, the
probe token, and the report."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from receiver.config import Secret, Settings
from receiver.doctor import Finding, Report, Status
from receiver.doctor import settings_checks as checks
from receiver.doctor.judges import (
    judge_bucket,
    judge_database,
    judge_forwarding,
    judge_lifecycle,
    judge_providers,
    judge_round_trip,
)
from receiver.doctor.probes import (
    BucketFacts,
    DatabaseFacts,
    ProviderFacts,
    RoundTripFacts,
    masked_url,
    probe_token,
)
from receiver.errors import TokenError, TokenExpired
from receiver.tokens import CallbackSigner

GOOD = secrets.token_urlsafe(32)
URL = "https://r.example.com/callbacks/evolink/<probe token>"


def settings(**env: str) -> Settings:
    return Settings.from_env(env)


# ── the settings ──


@pytest.mark.parametrize(
    ("text", "weak"),
    [
        # secrets.token_urlsafe(32) and (18), fixed so that every test worker collects alike.
        ("p0Jm1fyoBvV8V1zVwbEiLaPQ3f9uQ6q3Y9-YbH4k0wI", False),
        ("Yx3N7-cQ1rT9bW2vKzA8mLqE", False),
        ("a" * 40, True),
        ("abababababababababababab", True),
    ],
)
def test_guessable_secrets_are_told_from_random_ones(text: str, weak: bool) -> None:
    assert (checks.estimated_bits(text) < checks.WEAK_BITS) is weak


def test_signing_keys() -> None:
    assert checks.check_secret_keys(settings()).status == Status.FAIL
    weak = checks.check_secret_keys(settings(RECEIVER_SECRET_KEYS=f"{GOOD},{'x' * 20}"))
    assert weak.status == Status.FAIL
    assert "key 2" in weak.message
    assert "x" * 20 not in weak.message
    placeholder = checks.check_secret_keys(settings(RECEIVER_SECRET_KEYS="CHANGE_ME_0123456789abc"))
    assert placeholder.status == Status.FAIL
    assert "placeholder" in placeholder.message
    rotated = checks.check_secret_keys(settings(RECEIVER_SECRET_KEYS=f"{GOOD},{GOOD}x"))
    assert rotated.status == Status.OK
    assert "2 keys" in rotated.message


def test_admin_token() -> None:
    assert checks.check_admin_token(settings()).status == Status.WARN
    weak = checks.check_admin_token(settings(RECEIVER_ADMIN_TOKEN="a" * 30))
    assert weak.status == Status.FAIL
    assert weak.fix
    assert "token_urlsafe" in weak.fix
    assert checks.check_admin_token(settings(RECEIVER_ADMIN_TOKEN=GOOD)).status == Status.OK


def test_public_url() -> None:
    assert checks.check_public_url(settings()).status == Status.FAIL
    http = checks.check_public_url(
        settings(RECEIVER_PUBLIC_URL="http://127.0.0.1:8000", RECEIVER_INSECURE="1")
    )
    assert http.status == Status.WARN
    https = checks.check_public_url(settings(RECEIVER_PUBLIC_URL="https://r.example.com"))
    assert https == Finding.ok("public_url", "https://r.example.com")


def test_notifications() -> None:
    secret = "whsec_" + "a" * 40
    assert checks.check_notifications(settings()).status == Status.OK
    alone = checks.check_notifications(settings(RECEIVER_NOTIFY_SECRET=secret))
    assert alone.status == Status.WARN
    assert "RECEIVER_NOTIFY_URLS" in alone.message
    both = settings(RECEIVER_NOTIFY_SECRET=secret, RECEIVER_NOTIFY_URLS="https://h.example.com")
    assert checks.check_notifications(both).status == Status.OK


@pytest.mark.parametrize(
    ("env", "status", "words"),
    [
        ({"RECEIVER_TRUSTED_PROXIES": "0.0.0.0/0"}, Status.FAIL, "anyone"),
        ({"RECEIVER_TRUSTED_PROXIES": "127.0.0.1,::/0"}, Status.FAIL, "::/0"),
        ({"RECEIVER_TRUSTED_PROXIES": "8.0.0.0/8"}, Status.WARN, "public"),
        ({"RECEIVER_PUBLIC_URL": "https://r.example.com"}, Status.WARN, "proxy in front"),
        (
            {
                "RECEIVER_PUBLIC_URL": "https://r.example.com",
                "RECEIVER_TRUSTED_PROXIES": "127.0.0.1",
            },
            Status.OK,
            "127.0.0.1",
        ),
        ({}, Status.OK, "no reverse proxy"),
    ],
)
def test_trusted_proxies(env: dict[str, str], status: Status, words: str) -> None:
    finding = checks.check_trusted_proxies(settings(**env))
    assert finding.status == status
    assert words in finding.message


# ── the probe token ──


def test_the_probe_token_is_expired_for_a_receiver_with_our_keys_and_foreign_to_others() -> None:
    keys = (Secret(GOOD), Secret(GOOD + "old"))
    token = probe_token(keys)
    ours = CallbackSigner(keys, max_age=72 * 3600)
    with pytest.raises(TokenExpired):
        ours.verify(token, provider="evolink")
    # After a rotation (the probe's key now second), still ours.
    with pytest.raises(TokenExpired):
        CallbackSigner((Secret("a-newer-key-0123456789"), *keys), max_age=60).verify(
            token, provider="evolink"
        )
    other = CallbackSigner((Secret(secrets.token_urlsafe(32)),), max_age=72 * 3600)
    with pytest.raises(TokenError) as caught:
        other.verify(token, provider="evolink")
    assert not isinstance(caught.value, TokenExpired)


# ── the judges ──


@pytest.mark.parametrize(
    ("facts", "status", "words"),
    [
        (RoundTripFacts(url=URL, failure="ConnectError: refused"), Status.FAIL, "failed"),
        (
            RoundTripFacts(url=URL, failure="ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED]"),
            Status.FAIL,
            "failed",
        ),
        (
            RoundTripFacts(
                url=URL, status_code=403, error="expired_token", delivery_id="d", recorded=True
            ),
            Status.OK,
            "this database",
        ),
        (
            RoundTripFacts(url=URL, status_code=403, error="expired_token"),
            Status.OK,
            "not compared",
        ),
        (
            RoundTripFacts(
                url=URL, status_code=403, error="expired_token", delivery_id="d", recorded=False
            ),
            Status.FAIL,
            "another database",
        ),
        (RoundTripFacts(url=URL, status_code=403, error="bad_token"), Status.FAIL, "does not hold"),
        (RoundTripFacts(url=URL, status_code=308, location="https://x/"), Status.FAIL, "redirect"),
        (RoundTripFacts(url=URL, status_code=502, excerpt="Bad Gateway"), Status.FAIL, "is not"),
        (
            RoundTripFacts(url=URL, status_code=404, excerpt="<html>"),
            Status.FAIL,
            "without a receiver",
        ),
    ],
)
def test_judge_round_trip(facts: RoundTripFacts, status: Status, words: str) -> None:
    finding = judge_round_trip(facts)
    assert finding.status == status
    assert words in finding.message
    assert (finding.fix is None) == (status == Status.OK)
    if facts.failure and "CERTIFICATE" in facts.failure:
        assert finding.fix
        assert "certificate" in finding.fix


def test_judge_forwarding() -> None:
    proxied = settings(
        RECEIVER_PUBLIC_URL="https://r.example.com", RECEIVER_TRUSTED_PROXIES="127.0.0.1"
    )
    unproxied = settings(RECEIVER_PUBLIC_URL="https://r.example.com")

    def facts(address: str) -> RoundTripFacts:
        return RoundTripFacts(url=URL, error="expired_token", recorded=True, client_addr=address)

    assert judge_forwarding(facts("203.0.113.7"), proxied) == Finding.ok(
        "forwarded_for", "the probe was logged as coming from 203.0.113.7"
    )
    no_header = judge_forwarding(facts("127.0.0.1"), proxied)
    assert no_header is not None
    assert no_header.status == Status.WARN
    assert "X-Forwarded-For" in no_header.message
    untrusted = judge_forwarding(facts("127.0.0.1"), unproxied)
    assert untrusted is not None
    assert untrusted.fix == "if 127.0.0.1 is your proxy, set RECEIVER_TRUSTED_PROXIES=127.0.0.1"
    assert judge_forwarding(RoundTripFacts(url=URL), proxied) is None


def _rule(**fields: Any) -> dict[str, Any]:
    return {"ID": "r", "Status": "Enabled", **fields}


@pytest.mark.parametrize(
    ("rules", "status"),
    [
        (
            (
                _rule(
                    Filter={"Prefix": ""}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}
                ),
            ),
            Status.OK,
        ),
        ((_rule(Prefix="", AbortIncompleteMultipartUpload={"DaysAfterInitiation": 2}),), Status.OK),
        (
            (
                _rule(
                    Filter={"Prefix": "videos/"},
                    AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1},
                ),
            ),
            Status.OK,
        ),
        (
            (
                _rule(
                    Filter={"Prefix": "other/"},
                    AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1},
                ),
            ),
            Status.WARN,
        ),
        (
            (
                _rule(
                    Filter={"Tag": {"Key": "a", "Value": "b"}},
                    AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1},
                ),
            ),
            Status.WARN,
        ),
        (
            (
                {
                    **_rule(Filter={}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}),
                    "Status": "Disabled",
                },
            ),
            Status.WARN,
        ),
        ((_rule(Filter={}, Expiration={"Days": 30}),), Status.WARN),
        ((), Status.WARN),
    ],
)
def test_judge_lifecycle(rules: tuple[dict[str, Any], ...], status: Status) -> None:
    finding = judge_lifecycle(BucketFacts(bucket="b", rules=rules), settings())
    assert finding is not None
    assert finding.status == status


def test_judge_lifecycle_unreadable_or_bucket_unreachable() -> None:
    denied = judge_lifecycle(BucketFacts(bucket="b", lifecycle_code="AccessDenied"), settings())
    assert denied is not None
    assert denied.status == Status.WARN
    assert "AccessDenied" in denied.message
    assert judge_lifecycle(BucketFacts(bucket="b", problem="down"), settings()) is None


def test_judge_bucket_names_what_to_fix() -> None:
    credentials = judge_bucket(
        BucketFacts(
            bucket="b", problem="S3 store failed: (403) Forbidden (check AWS_ACCESS_KEY_ID ...)"
        ),
        settings(),
    )
    assert credentials.status == Status.FAIL
    assert credentials.fix
    assert "AWS_SECRET_ACCESS_KEY" in credentials.fix
    assert "RECEIVER_S3_ENDPOINT_URL" in credentials.fix
    missing = judge_bucket(
        BucketFacts(bucket="b", problem="... (404) ... NoSuchBucket"), settings()
    )
    assert missing.fix
    assert "create the bucket" in missing.fix
    assert judge_bucket(BucketFacts(bucket="b"), settings()).status == Status.OK


def test_judge_database() -> None:
    assert judge_database(DatabaseFacts(where="sqlite:///x")).status == Status.OK
    pending = judge_database(DatabaseFacts(where="sqlite:///x", pending=("0013_more",)))
    assert pending.status == Status.FAIL
    assert pending.fix
    assert "receiver migrate" in pending.fix
    assert (
        judge_database(DatabaseFacts(where="x", problem="there is no database")).status
        == Status.FAIL
    )
    assert masked_url("postgresql://u:hunter2@db:5432/r") == "postgresql://u:***@db:5432/r"


def test_judge_providers() -> None:
    findings = judge_providers(
        [
            ProviderFacts(name="evolink", configured=True, outcome="refused", detail="401"),
            ProviderFacts(name="kling", configured=False),
        ]
    )
    assert [(f.check, f.status) for f in findings] == [
        ("provider:evolink", Status.FAIL),
        ("provider:kling", Status.OK),
    ]
    assert findings[0].fix
    assert "EVOLINK_API_KEY" in findings[0].fix
    none = judge_providers([ProviderFacts(name="evolink", configured=False)])
    assert none[-1].check == "providers"
    assert none[-1].status == Status.WARN


# ── the report ──


def test_the_report_says_whether_it_is_healthy() -> None:
    report = Report.of(
        [Finding.ok("a", "fine"), Finding.warn("b", "meh", "do x"), Finding.ok("c", "\x1b[31mred")]
    )
    assert report.healthy()
    assert not report.healthy(strict=True)
    text = report.as_text()
    assert text.splitlines()[-1] == "healthy: 0 failed, 1 warning(s), 2 ok"
    assert "fix: do x" in text
    assert "\x1b" not in text
    document = json.loads(json.dumps(report.as_json()))
    assert document["healthy"] is True
    assert document["checks"][1] == {
        "check": "b",
        "status": "warn",
        "message": "meh",
        "fix": "do x",
    }
    failed = Report.of([Finding.fail("a", "broken", "fix it")])
    assert not failed.healthy()
    assert failed.as_text().splitlines()[-1].startswith("NOT healthy: 1 failed")
