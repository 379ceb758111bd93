"""Every check, in the order a person fixes things: settings, database, bucket, providers,
then the round trip through the public URL."""

from __future__ import annotations

from collections.abc import Callable

from receiver.config import Settings
from receiver.doctor import judges, probes
from receiver.doctor.findings import Finding, Report
from receiver.doctor.settings_checks import SETTINGS_CHECKS
from receiver.providers import PROVIDER_NAMES
from receiver.store.database import Database

__all__ = ["run_doctor"]


def run_doctor(settings: Settings) -> Report:
    findings = [check(settings) for check in SETTINGS_CHECKS]
    db, problem = probes.connect(settings.database_url)
    try:
        findings.append(
            _guarded(
                "database",
                lambda: judges.judge_database(
                    probes.probe_database(db, settings.database_url, problem)
                ),
            )
        )
        findings += _bucket(settings)
        findings += _guarded_list(
            "providers",
            lambda: judges.judge_providers(
                [probes.probe_provider(settings, name) for name in PROVIDER_NAMES]
            ),
        )
        findings += _round_trip(settings, db)
    finally:
        if db is not None:
            db.close()
    return Report.of(findings)


def _bucket(settings: Settings) -> list[Finding]:
    def judged() -> list[Finding]:
        facts = probes.probe_bucket(settings)
        lifecycle = judges.judge_lifecycle(facts, settings)
        return [judges.judge_bucket(facts, settings), *([lifecycle] if lifecycle else [])]

    return _guarded_list("bucket", judged)


def _round_trip(settings: Settings, db: Database | None) -> list[Finding]:
    if settings.public_url is None or not settings.secret_keys:
        return [
            Finding.warn(
                "round_trip",
                "not tried: it needs RECEIVER_PUBLIC_URL and RECEIVER_SECRET_KEYS",
                "set both (see the failures above)",
            )
        ]

    def judged() -> list[Finding]:
        facts = probes.probe_round_trip(settings, db)
        forwarding = judges.judge_forwarding(facts, settings)
        return [judges.judge_round_trip(facts), *([forwarding] if forwarding else [])]

    return _guarded_list("round_trip", judged)


def _guarded(check: str, run: Callable[[], Finding]) -> Finding:
    return _guarded_list(check, lambda: [run()])[0]


def _guarded_list(check: str, run: Callable[[], list[Finding]]) -> list[Finding]:
    """A check that breaks in a way nobody foresaw fails alone, and says how."""
    try:
        return run()
    except Exception as exc:  # reported as the check's failure, whatever it is
        message = getattr(exc, "message", None) or str(exc)
        return [
            Finding.fail(
                check,
                f"the check itself failed: {type(exc).__name__}: {message}",
                "fix what the message says, or report it with `receiver doctor --json`",
            )
        ]
