"""Starlette's private helpers that receiver relies on (see :mod:`receiver.compat`)."""

from __future__ import annotations

from starlette._utils import get_route_path

from receiver.compat import Reach

__all__ = ["REACHES", "get_route_path"]

REACHES = (
    Reach(
        name="starlette._utils.get_route_path",
        checked="starlette>=1.10.0,<1.11",
        why=(
            "the callback route (receiver.web.callbacks) and the error answers "
            "(receiver.web.error_json) read the path below root_path exactly as Starlette's "
            "router does, by calling the function the router calls; Starlette exports no "
            "public equivalent. Re-exported as is: it runs on every callback."
        ),
    ),
)
