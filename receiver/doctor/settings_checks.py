"""Checks of the settings alone: pure functions of :class:`~receiver.config.Settings`.

``Settings.from_env`` already refuses what is invalid; these judge what is valid yet wrong
for a deployment (an http public URL, a token of one repeated character, a proxy list that
trusts everyone).
"""

from __future__ import annotations

import ipaddress
import math
from collections import Counter

from receiver.config import Secret, Settings
from receiver.doctor.findings import Finding

__all__ = [
    "SETTINGS_CHECKS",
    "check_admin_token",
    "check_insecure",
    "check_notifications",
    "check_public_url",
    "check_secret_keys",
    "check_trusted_proxies",
    "estimated_bits",
]

#: Below this estimate a secret is weak. A random `secrets.token_urlsafe(32)` scores about
#: 200, `token_urlsafe(18)` (24 characters) about 110; "aaaa…" scores 0.
WEAK_BITS = 64
_MAKE_ONE = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
#: The placeholders of infra/env.example, in their usual spellings.
_PLACEHOLDERS = ("change_me", "changeme", "change-me")


def estimated_bits(text: str) -> float:
    """A rough upper bound of a string's randomness: its length times the Shannon entropy
    of its own characters. It catches repetition and tiny alphabets, not a dictionary word
    (hence the placeholder check beside it)."""
    if not text:
        return 0.0
    counts = Counter(text)
    per_char = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return abs(per_char * len(text))  # abs: a single repeated character gives -0.0


def _weakness(secret: Secret) -> str | None:
    value = secret.reveal()
    lowered = value.lower()
    for placeholder in _PLACEHOLDERS:
        if placeholder in lowered:
            return f"contains {placeholder!r}, a placeholder"
    bits = estimated_bits(value)
    if bits < WEAK_BITS:
        return f"looks guessable (about {bits:.0f} bits; random ones have over {WEAK_BITS})"
    return None


def check_public_url(settings: Settings) -> Finding:
    name = "public_url"
    url = settings.public_url
    if url is None:
        return Finding.fail(
            name,
            "RECEIVER_PUBLIC_URL is not set: no job can be submitted",
            "set RECEIVER_PUBLIC_URL=https://<your domain> (docs/deploy.md, step 5)",
        )
    if not url.startswith("https://"):
        return Finding.warn(
            name,
            f"{url} is http (allowed only by RECEIVER_INSECURE=1): providers call https "
            "callbacks only",
            "in production, put an https proxy in front (docs/deploy.md) and use its URL",
        )
    return Finding.ok(name, url)


def check_secret_keys(settings: Settings) -> Finding:
    name = "secret_keys"
    keys = settings.secret_keys
    if not keys:
        return Finding.fail(
            name,
            "RECEIVER_SECRET_KEYS is not set: callback URLs can be neither signed nor verified",
            f"set RECEIVER_SECRET_KEYS to a new key: {_MAKE_ONE}",
        )
    for number, key in enumerate(keys, 1):
        weakness = _weakness(key)
        if weakness:
            return Finding.fail(
                name,
                f"key {number} of RECEIVER_SECRET_KEYS {weakness}: whoever guesses it can "
                "forge callbacks",
                f"put a new key first and keep the old one until RECEIVER_TOKEN_MAX_AGE has "
                f"passed (docs/configuration.md#rotating-the-signing-key): {_MAKE_ONE}",
            )
    if len(keys) > 1:
        return Finding.ok(
            name,
            f"{len(keys)} keys: the first signs, the others verify callbacks already in "
            "flight (drop them once RECEIVER_TOKEN_MAX_AGE has passed)",
        )
    return Finding.ok(name, "one key, not guessable")


def check_admin_token(settings: Settings) -> Finding:
    name = "admin_token"
    token = settings.admin_token
    if token is None:
        return Finding.warn(
            name,
            "RECEIVER_ADMIN_TOKEN is not set: the API under /v1 and the gallery answer 401",
            f"set RECEIVER_ADMIN_TOKEN to use them: {_MAKE_ONE}",
        )
    weakness = _weakness(token)
    if weakness:
        return Finding.fail(
            name,
            f"RECEIVER_ADMIN_TOKEN {weakness}: it opens the API and the gallery",
            f"replace it (this signs every gallery session out): {_MAKE_ONE}",
        )
    return Finding.ok(name, "set, not guessable")


def check_notifications(settings: Settings) -> Finding:
    name = "notifications"
    urls, secret = settings.notify_urls, settings.notify_secret
    if not urls and secret is None:
        return Finding.ok(name, "off (RECEIVER_NOTIFY_URLS is not set)")
    if not urls:
        return Finding.warn(
            name,
            "RECEIVER_NOTIFY_SECRET is set but RECEIVER_NOTIFY_URLS is not: nothing is sent",
            "set RECEIVER_NOTIFY_URLS to the endpoints, or remove RECEIVER_NOTIFY_SECRET",
        )
    plain = [url for url in urls if not url.startswith("https://")]
    if plain:
        return Finding.warn(
            name,
            f"{len(plain)} of {len(urls)} endpoint(s) over http (allowed only by "
            "RECEIVER_INSECURE=1)",
            "use https endpoints in production",
        )
    return Finding.ok(name, f"{len(urls)} endpoint(s), signed with RECEIVER_NOTIFY_SECRET")


def check_trusted_proxies(settings: Settings) -> Finding:
    name = "trusted_proxies"
    networks = [ipaddress.ip_network(item) for item in settings.trusted_proxies]
    everyone = [str(network) for network in networks if network.prefixlen == 0]
    if everyone:
        return Finding.fail(
            name,
            f"RECEIVER_TRUSTED_PROXIES holds {', '.join(everyone)}: anyone can choose the "
            "address they are logged as, and get past per-address limits",
            "list only your reverse proxies' addresses (127.0.0.1 for Caddy or nginx on this VM)",
        )
    wide = [
        str(n) for n in networks if n.is_global and n.prefixlen < (16 if n.version == 4 else 32)
    ]
    if wide:
        return Finding.warn(
            name,
            f"RECEIVER_TRUSTED_PROXIES holds the public network(s) {', '.join(wide)}",
            "list only your reverse proxies' addresses",
        )
    https = (settings.public_url or "").startswith("https://")
    if not networks and https:
        # `receiver serve` speaks plain http: an https public URL means a proxy in front.
        return Finding.warn(
            name,
            "RECEIVER_TRUSTED_PROXIES is not set, yet an https public URL means a proxy in "
            "front: every delivery is logged with the proxy's address",
            "set RECEIVER_TRUSTED_PROXIES to the proxy's address (127.0.0.1 for Caddy or "
            "nginx on this VM)",
        )
    if not networks:
        return Finding.ok(name, "none (no reverse proxy in front)")
    return Finding.ok(name, ", ".join(settings.trusted_proxies))


def check_insecure(settings: Settings) -> Finding:
    name = "insecure"
    if settings.insecure:
        return Finding.warn(
            name,
            "RECEIVER_INSECURE=1: http URLs and downloads from loopback are allowed",
            "never in production: remove RECEIVER_INSECURE",
        )
    return Finding.ok(name, "off")


SETTINGS_CHECKS = (
    check_public_url,
    check_secret_keys,
    check_admin_token,
    check_notifications,
    check_trusted_proxies,
    check_insecure,
)
