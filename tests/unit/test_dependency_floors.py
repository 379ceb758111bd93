"""No runtime dependency may be satisfied by a release with a known advisory.

``FLOORS`` is the documented floor: for every runtime dependency of pyproject.toml, the
lowest version it may resolve to, and why. pyproject.toml's lower bounds must be at least
these, and requirements.lock (what is installed) must satisfy pyproject.toml. A new
dependency needs a line here: look its advisories up (GHSA / CVE / PYSEC) first.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]

FLOORS: dict[str, tuple[str, str]] = {
    "starlette": (
        "1.3.1",
        "GHSA-86qp-5c8j-p5mr (CVE-2026-48710) 1.0.1; CVE-2026-48817, GHSA-wqp7-x3pw-xc5r "
        "(CVE-2026-48818) 1.1.0; GHSA-jp82-jpqv-5vv3 (CVE-2026-54282) 1.3.0; "
        "GHSA-82w8-qh3p-5jfq (CVE-2026-54283) 1.3.1",
    ),
    "uvicorn": ("0.30", "GHSA-33c7-2mpw-hg34, GHSA-f97h-2pfx-f59f fixed 0.11.7; none since"),
    "httptools": ("0.6.3", "bundled llhttp 9.2.1: CVE-2024-27982"),
    "uvloop": ("0.21", "bundled libuv CVE-2024-24806 fixed 0.20.0"),
    "httpx": ("0.28", "GHSA-h8pj-cxx2-jfg2 (CVE-2021-41945) fixed 0.23.0"),
    "h11": ("0.16.0", "GHSA-vqfr-h8mv-ghfj (CVE-2025-43859)"),
    "boto3": ("1.36", "none known"),
    "itsdangerous": ("2.2", "none known"),
    "structlog": ("24.1", "none known"),
    "orjson": ("3.11.6", "GHSA-hx9q-6w63-j58v (CVE-2025-67221); CVE-2024-27454 fixed 3.9.15"),
    "psycopg": ("3.2", "none known for the package"),
    "prometheus-client": ("0.20", "none known"),
    "standardwebhooks": ("1.0", "none known"),
    "tqdm": ("4.66.3", "GHSA-g7vv-2v7x-gj9p (CVE-2024-34062)"),
    "av": ("17.1.0", "wheels bundle FFmpeg 8.1.1: CVE-2026-40962"),
    "pillow": (
        "12.3.0",
        "GHSA-cfh3-3jmp-rvhc (CVE-2026-25990) 12.1.1; GHSA-whj4-6x5x-4v2j (CVE-2026-40192), "
        "CVE-2026-42308 12.2.0; PYSEC-2026-2253..2257 (CVE-2026-55379) 12.3.0",
    ),
    "pyjwt": ("2.12.0", "GHSA-752w-5fwx-jx9f (CVE-2026-32597)"),
    "shtab": ("1.7", "none known"),
}


def _runtime() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    return {canonicalize_name(r.name): r for r in requirements}


def _locked() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for text in (ROOT / "requirements.lock").read_text().splitlines():
        line = text.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _lower_bound(requirement: Requirement) -> Version | None:
    bounds = [
        Version(spec.version)
        for spec in requirement.specifier
        if spec.operator in {">=", "==", "~=", "==="}
    ]
    return max(bounds, default=None)


def test_every_runtime_dependency_has_a_documented_floor() -> None:
    assert set(_runtime()) == {canonicalize_name(name) for name in FLOORS}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_lower_bound_is_at_least_the_floor(name: str) -> None:
    requirement = _runtime()[canonicalize_name(name)]
    floor, why = FLOORS[name]
    bound = _lower_bound(requirement)
    assert bound is not None, f"{requirement} has no lower bound (floor {floor}: {why})"
    assert bound >= Version(floor), f"{requirement} admits releases below {floor}: {why}"


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_lock_satisfies_pyproject(name: str) -> None:
    requirement = _runtime()[canonicalize_name(name)]
    pinned = _locked().get(canonicalize_name(name))
    assert pinned is not None, f"{name} is not pinned in requirements.lock"
    assert requirement.specifier.contains(pinned, prereleases=True), (
        f"requirements.lock pins {name}=={pinned}, outside {requirement}"
    )
