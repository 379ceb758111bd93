from __future__ import annotations

from receiver.web.proxies import client_address

TRUSTED = ("127.0.0.1/32", "10.0.0.0/8")


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"


def test_untrusted_peer_cannot_claim_another_address() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", TRUSTED) == "203.0.113.9"


def test_trusted_proxy_chain_is_read_from_the_right() -> None:
    # client-written junk, the real client, then two of our proxies
    header = "6.6.6.6, 198.51.100.7, 10.1.2.3"
    assert client_address("127.0.0.1", header, TRUSTED) == "198.51.100.7"


def test_all_hops_trusted_gives_the_leftmost() -> None:
    assert client_address("127.0.0.1", "10.0.0.2, 10.0.0.1", TRUSTED) == "10.0.0.2"


def test_garbage_header_falls_back_to_the_peer() -> None:
    assert client_address("127.0.0.1", "not-an-ip", TRUSTED) == "127.0.0.1"
    assert client_address("127.0.0.1", "", TRUSTED) == "127.0.0.1"
    assert client_address(None, "1.2.3.4", TRUSTED) is None
