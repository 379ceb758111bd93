"""What a check finds: ok, warn or fail, one line, and for anything but ok the fix."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from receiver.terminal import terminal_safe

__all__ = ["Finding", "Report", "Status"]

_NAME_WIDTH = 16


class Status(enum.StrEnum):
    OK = "ok"
    #: Works, but not as it should in production; healthy unless ``--strict``.
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, kw_only=True)
class Finding:
    check: str
    status: Status
    message: str
    fix: str | None = None

    @classmethod
    def ok(cls, check: str, message: str) -> Finding:
        return cls(check=check, status=Status.OK, message=message)

    @classmethod
    def warn(cls, check: str, message: str, fix: str) -> Finding:
        return cls(check=check, status=Status.WARN, message=message, fix=fix)

    @classmethod
    def fail(cls, check: str, message: str, fix: str) -> Finding:
        return cls(check=check, status=Status.FAIL, message=message, fix=fix)


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> Report:
        return cls(tuple(findings))

    def count(self, status: Status) -> int:
        return sum(1 for finding in self.findings if finding.status == status)

    def healthy(self, *, strict: bool = False) -> bool:
        bad = {Status.FAIL, Status.WARN} if strict else {Status.FAIL}
        return not any(finding.status in bad for finding in self.findings)

    def as_json(self, *, strict: bool = False) -> dict[str, Any]:
        return {
            "healthy": self.healthy(strict=strict),
            "checks": [
                {
                    "check": finding.check,
                    "status": str(finding.status),
                    "message": finding.message,
                    "fix": finding.fix,
                }
                for finding in self.findings
            ],
        }

    def as_text(self, *, strict: bool = False) -> str:
        """One line per check (two with a fix), then the verdict."""
        lines = []
        for finding in self.findings:
            label = "ok" if finding.status == Status.OK else str(finding.status).upper()
            lines.append(
                f"{label:<5} {finding.check:<{_NAME_WIDTH}} {terminal_safe(finding.message)}"
            )
            if finding.fix:
                lines.append(f"{'':<5} {'':<{_NAME_WIDTH}} fix: {terminal_safe(finding.fix)}")
        failed, warned = self.count(Status.FAIL), self.count(Status.WARN)
        tally = f"{failed} failed, {warned} warning(s), {self.count(Status.OK)} ok"
        verdict = "healthy" if self.healthy(strict=strict) else "NOT healthy"
        lines.append(f"{verdict}: {tally}")
        return "\n".join(lines)
