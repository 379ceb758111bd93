"""Every reach into a dependency's private API, fenced in this one package.

A private name (``starlette._utils``, an attribute set on an httpx transport, a subclass
hooking uvicorn's protocol internals, a copy of botocore's retry tables) is one a release
may change without notice. Each is used here and nowhere else: one module per dependency,
named ``<dependency>_internals``, whose ``REACHES`` lists every private name it relies on,
the versions it was checked against and why it is worth the risk.

When a dependency is upgraded, ``tests/unit/test_compat.py`` fails for every reach whose
checked range the installed version has left: read the dependency's change, check that the
name still exists and behaves as relied on (the same test file exercises each), then widen
``checked``. ``tests/unit/test_private_api_fence.py`` fails when a module outside this
package imports a dependency's private name.

What is on the callback path is re-exported as the dependency's own object (or a subclass
used directly), never wrapped: the fence costs no call per request.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Reach"]


@dataclass(frozen=True, kw_only=True)
class Reach:
    """One private name of a dependency that receiver relies on."""

    #: The private name as it is spelled in the dependency (``starlette._utils.get_route_path``).
    name: str
    #: The versions it was checked against, as a requirement (``starlette>=1.10.0,<1.11``);
    #: ``python`` names the interpreter.
    checked: str
    #: What relies on it, and why the public API does not do.
    why: str
