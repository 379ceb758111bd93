"""The fetch guard: which URLs and addresses may be fetched from (no network), and the
download's rate floor."""

from __future__ import annotations

import pytest

from receiver.archive.fetch import RateFloor
from receiver.errors import FetchError, UnsafeURL
from receiver.guarded_http import FetchPolicy, allowed_addresses, check_url

STRICT = FetchPolicy()
INSECURE = FetchPolicy(allow_insecure=True)


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",  # private
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "169.254.169.254",  # link-local: the cloud metadata service
        "fe80::1",
        "fc00::1",  # unique-local
        "fd12:3456::1",
        "224.0.0.1",  # multicast
        "ff02::1",
        "0.0.0.0",  # unspecified
        "::",
        "64:ff9b::a01:203",  # NAT64 of 10.1.2.3: global by the tables, private in effect
        "::ffff:10.1.2.3",  # IPv4-mapped private
        "2002:a01:203::1",  # 6to4 of 10.1.2.3
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "fec0::1",  # site-local (deprecated, still routed inside some networks)
    ],
)
def test_addresses_that_are_not_globally_routable_are_refused_even_when_insecure(
    address: str,
) -> None:
    for policy in (STRICT, INSECURE):
        with pytest.raises(UnsafeURL, match="not a public address"):
            allowed_addresses(address, 443, policy)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_loopback_is_allowed_only_in_insecure_mode(address: str) -> None:
    with pytest.raises(UnsafeURL, match="not a public address"):
        allowed_addresses(address, 443, STRICT)
    assert allowed_addresses(address, 443, INSECURE) == [address]


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert allowed_addresses(address, 443, STRICT) == [address]


def test_only_https_outside_insecure_mode() -> None:
    with pytest.raises(UnsafeURL, match="https only"):
        check_url("http://cdn.example.com/v.mp4", STRICT)
    check_url("https://cdn.example.com/v.mp4", STRICT)
    check_url("http://cdn.example.com/v.mp4", INSECURE)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://cdn.example.com/v.mp4", "not an http"),
        ("file:///etc/passwd", "not an http"),
        ("https:///v.mp4", "not an http"),
        ("https://cdn.example.com:99999/v.mp4", "not a valid URL"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(UnsafeURL, match=message):
        check_url(url, INSECURE)


def test_the_host_allow_list_is_enforced_case_insensitively() -> None:
    policy = FetchPolicy(allowed_hosts=frozenset({"files.evolink.ai"}))
    check_url("https://FILES.evolink.ai/v.mp4", policy)
    with pytest.raises(UnsafeURL, match="RECEIVER_FETCH_ALLOWED_HOSTS"):
        check_url("https://evil.example.com/v.mp4", policy)


def test_the_rate_floor_fails_a_trickle_and_spares_a_steady_source() -> None:
    steady = RateFloor(min_rate=1000, window=10.0, now=0.0)
    for second in range(1, 60):
        steady.add(1000, float(second))  # exactly the floor, window after window
    trickle = RateFloor(min_rate=1000, window=10.0, now=0.0)
    trickle.add(1, 9.0)  # within the first window nothing is judged yet
    with pytest.raises(FetchError, match="slower than RECEIVER_FETCH_MIN_RATE"):
        trickle.add(1, 38.0)  # a byte just before each read timeout
