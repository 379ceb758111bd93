"""What the probes' facts mean: pure functions from facts (and settings) to findings."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from receiver.config import Settings
from receiver.doctor.findings import Finding
from receiver.doctor.probes import BucketFacts, DatabaseFacts, ProviderFacts, RoundTripFacts

__all__ = [
    "judge_bucket",
    "judge_database",
    "judge_forwarding",
    "judge_lifecycle",
    "judge_providers",
    "judge_round_trip",
]

_LIFECYCLE_DOC = "docs/deploy.md#lifecycle-rule-abort-incomplete-multipart-uploads"
_AUTH_ERRORS = ("AWS_ACCESS_KEY_ID", "SignatureDoesNotMatch", "InvalidAccessKeyId", "403")


def judge_database(facts: DatabaseFacts) -> Finding:
    name = "database"
    if facts.problem is not None:
        return Finding.fail(
            name,
            f"{facts.where}: {facts.problem}",
            "point RECEIVER_DATABASE_URL at the deployment's database (docs/deploy.md, step 3), "
            "then run `receiver migrate`",
        )
    if facts.pending:
        return Finding.fail(
            name,
            f"{facts.where}: {len(facts.pending)} migration(s) not applied "
            f"({', '.join(facts.pending)})",
            "run `receiver migrate` (the services apply them too when they start)",
        )
    return Finding.ok(name, f"{facts.where}: reachable, every migration applied")


def judge_bucket(facts: BucketFacts, settings: Settings) -> Finding:
    name = "bucket"
    problem = facts.problem
    if problem is None:
        return Finding.ok(name, f"{facts.bucket}: reachable with these credentials")
    if any(marker in problem for marker in _AUTH_ERRORS):
        fix = (
            "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, and that RECEIVER_S3_ENDPOINT_URL "
            f"({settings.s3_endpoint_url or 'AWS'}) is the store they belong to"
        )
    elif "NoSuchBucket" in problem or "(404)" in problem:
        fix = (
            f"create the bucket {facts.bucket} (docs/deploy.md, step 4), or fix RECEIVER_S3_BUCKET"
        )
    else:
        fix = (
            "check that RECEIVER_S3_ENDPOINT_URL "
            f"({settings.s3_endpoint_url or 'AWS'}) is reachable from here, and AWS_REGION"
        )
    return Finding.fail(name, problem, fix)


def _covers(rule: dict[str, Any], prefix: str) -> bool:
    """Whether ``rule`` applies to every object under ``prefix`` (no tag or size filter)."""
    found = rule.get("Filter")
    rule_filter: dict[str, Any] = found if isinstance(found, dict) else {}
    if "And" in rule_filter or "Tag" in rule_filter or "ObjectSizeGreaterThan" in rule_filter:
        return False
    rule_prefix = rule_filter.get("Prefix", rule.get("Prefix", "")) or ""
    return prefix.startswith(str(rule_prefix))


def judge_lifecycle(facts: BucketFacts, settings: Settings) -> Finding | None:
    """None when the bucket itself could not be reached (judge_bucket said so)."""
    name = "lifecycle"
    if facts.problem is not None:
        return None
    if facts.rules is None:
        return Finding.warn(
            name,
            f"the lifecycle rules of {facts.bucket} could not be read ({facts.lifecycle_code})",
            "check with an administrator's keys that a rule aborts incomplete multipart "
            f"uploads: aws s3api get-bucket-lifecycle-configuration --bucket {facts.bucket} "
            f"({_LIFECYCLE_DOC})",
        )
    for rule in facts.rules:
        abort = rule.get("AbortIncompleteMultipartUpload")
        if rule.get("Status") == "Enabled" and abort and _covers(rule, settings.s3_prefix):
            days = abort.get("DaysAfterInitiation") if isinstance(abort, dict) else None
            return Finding.ok(name, f"incomplete multipart uploads are aborted after {days} day(s)")
    return Finding.warn(
        name,
        f"no enabled rule of {facts.bucket} aborts incomplete multipart uploads under "
        f"{settings.s3_prefix!r}: parts left by a killed worker cost storage for ever",
        f"add the rule with an administrator's keys ({_LIFECYCLE_DOC})",
    )


def judge_providers(facts: Sequence[ProviderFacts]) -> list[Finding]:
    findings = []
    for fact in facts:
        name = f"provider:{fact.name}"
        if not fact.configured:
            findings.append(Finding.ok(name, "no key: jobs cannot be submitted to it"))
        elif fact.outcome == "accepted":
            findings.append(Finding.ok(name, "the key is accepted"))
        elif fact.outcome == "refused":
            findings.append(
                Finding.fail(
                    name,
                    f"the key is refused: {fact.detail}",
                    f"set a valid key ({_key_variables(fact.name)}), from the provider's console",
                )
            )
        elif fact.outcome == "out_of_credits":
            findings.append(
                Finding.warn(
                    name,
                    f"the key is accepted, but: {fact.detail}",
                    "top up the account before submitting",
                )
            )
        else:
            findings.append(
                Finding.fail(
                    name,
                    f"the API could not be reached: {fact.detail}",
                    f"check outbound https to its base URL ({fact.name.upper()}_BASE_URL)",
                )
            )
    if facts and not any(fact.configured for fact in facts):
        findings.append(
            Finding.warn(
                "providers",
                "no provider key is set: callbacks are received, no job can be submitted",
                "set EVOLINK_API_KEY (or KLING_ACCESS_KEY and KLING_SECRET_KEY)",
            )
        )
    return findings


def _key_variables(provider: str) -> str:
    return "KLING_ACCESS_KEY, KLING_SECRET_KEY" if provider == "kling" else "EVOLINK_API_KEY"


_REACH_FIX = (
    "make RECEIVER_PUBLIC_URL lead to this receiver's /callbacks/ route: DNS, firewall "
    "(443), the proxy and its upstream (docs/deploy.md)"
)


def judge_round_trip(facts: RoundTripFacts) -> Finding:
    """Whether the public URL leads to a receiver with our keys, writing to our database."""
    name = "round_trip"
    where = f"POST {facts.url}"
    if facts.failure is not None:
        fix = _REACH_FIX
        if "CERTIFICATE" in facts.failure.upper():
            fix = "the URL's TLS certificate is not valid for it: see the proxy's log (Caddy)"
        return Finding.fail(name, f"{where} failed: {facts.failure}", fix)
    status = facts.status_code
    if facts.error == "expired_token":
        return _ours(facts, where)
    if facts.error == "bad_token":
        return Finding.fail(
            name,
            f"{where} reached a receiver that does not hold RECEIVER_SECRET_KEYS: callbacks "
            "to it are refused",
            "point RECEIVER_PUBLIC_URL at this deployment, or restart the receiver after "
            "changing RECEIVER_SECRET_KEYS",
        )
    if status is not None and 300 <= status < 400:
        return Finding.fail(
            name,
            f"{where} was answered {status}, a redirect to {facts.location}",
            "set RECEIVER_PUBLIC_URL to where it redirects: callbacks are POSTs, which "
            "redirects do not carry",
        )
    if status in {502, 503, 504}:
        return Finding.fail(
            name,
            f"{where} was answered {status}: the proxy is there, the receiver behind it is not",
            "start `receiver serve` (systemctl status receiver) and check the proxy's upstream",
        )
    return Finding.fail(
        name,
        f"{where} was answered {status} without a receiver's verdict: {facts.excerpt!r}",
        _REACH_FIX,
    )


def _ours(facts: RoundTripFacts, where: str) -> Finding:
    """Only a receiver holding our keys tells our probe is expired: is it writing to ours?"""
    if facts.recorded is False:
        return Finding.fail(
            "round_trip",
            f"{where} reached a receiver holding our signing keys, but it writes to another "
            "database (the delivery it wrote down is not in RECEIVER_DATABASE_URL)",
            "point the proxy's upstream at this deployment's receiver, or "
            "RECEIVER_DATABASE_URL at the database it uses",
        )
    compared = (
        "and writing to this database"
        if facts.recorded
        else "(its database not compared: it wrote nothing down, over its junk budget)"
    )
    return Finding.ok(
        "round_trip", f"{where} reached a receiver holding our signing keys {compared}"
    )


def judge_forwarding(facts: RoundTripFacts, settings: Settings) -> Finding | None:
    """What the receiver wrote down as the probe's client address, when it wrote one."""
    name = "forwarded_for"
    address = facts.client_addr
    if not facts.recorded or not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    trusted = [ipaddress.ip_network(item) for item in settings.trusted_proxies]
    if any(ip in network for network in trusted):
        return Finding.warn(
            name,
            f"the probe was logged as coming from {address}, a trusted proxy: the proxy does "
            "not pass X-Forwarded-For",
            "make the proxy set X-Forwarded-For (infra/Caddyfile and infra/nginx.conf do)",
        )
    host = settings.public_url and _host_address(settings.public_url)
    if not trusted and not (host and host.is_loopback) and (ip.is_loopback or ip.is_private):
        return Finding.warn(
            name,
            f"the probe was logged as coming from {address}: probably the proxy in front, "
            "which every client then appears to be",
            f"if {address} is your proxy, set RECEIVER_TRUSTED_PROXIES={address}",
        )
    return Finding.ok(name, f"the probe was logged as coming from {address}")


def _host_address(url: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    from urllib.parse import urlsplit

    try:
        return ipaddress.ip_address(urlsplit(url).hostname or "")
    except ValueError:
        return None
