"""Every error the app answers, in one shape: ``{"error": "<code>", "message": "…"}``.

Handlers answer their own refusals with :func:`error_response`. What Starlette refuses by
itself (no route at a path: 404; a method the path does not take: 405 with ``Allow``; a body
over the limit: 413, see :mod:`receiver.web.body_limit`) and any exception nobody expected
(500, whose details go to the server's log, never to the client) get the same shape here, in
one place: the app's ``exception_handlers`` (:data:`EXCEPTION_HANDLERS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ExceptionHandler

from receiver.compat.starlette_internals import get_route_path

__all__ = ["EXCEPTION_HANDLERS", "error_response"]

#: The error code of a status Starlette refuses with by itself.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}
#: Methods the static files mount answers (Starlette's StaticFiles).
_MOUNT_METHODS = frozenset({"GET", "HEAD"})


def error_response(
    status: int, error: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status, headers=headers)


def _allowed_methods(request: Request) -> str | None:
    """Every method some route takes at the request's path (Starlette's own ``Allow`` names
    only the first route that matched, and ``/v1/jobs`` is two routes)."""
    path = get_route_path(request.scope)
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
        elif isinstance(route, Mount) and route.path_regex.match(path):
            methods |= _MOUNT_METHODS
    return ", ".join(sorted(methods)) or None


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        return await _server_error(request, exc)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status in {204, 304}:  # no body allowed: Starlette's own answer
        return Response(status_code=status, headers=headers)
    message = exc.detail
    if status == 404:
        message = "nothing is served at this path (the API is described at /openapi.json)"
    elif status == 405:
        allow = _allowed_methods(request) or headers.get("Allow", "")
        headers["Allow"] = allow
        message = f"{request.method} is not allowed here; this path takes {allow}"
    code = _CODES.get(status) or _phrase(status).lower().replace(" ", "_")
    return error_response(status, code, message, headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


async def _server_error(_request: Request, _exc: Exception) -> Response:
    # The traceback goes to the server's log (Starlette re-raises after this answer); the
    # client learns only that it was not its fault.
    return error_response(
        500, "internal_error", "the server failed to answer this request; its log says why"
    )


EXCEPTION_HANDLERS: Mapping[type[Exception], ExceptionHandler] = {
    HTTPException: _http_error,
    Exception: _server_error,
}
