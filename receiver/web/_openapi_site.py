"""The paths of the OpenAPI description outside ``/v1``: the probes, the gallery and the
callback route (:mod:`receiver.web.openapi` assembles them with the API's)."""

from __future__ import annotations

from typing import Any

from receiver.providers import PROVIDER_NAMES
from receiver.web._openapi_build import (
    PUBLIC,
    REDIRECT,
    error,
    form,
    html,
    json_answer,
    path,
    ref,
)

__all__ = ["SITE_PATHS"]

_PROBES: dict[str, Any] = {
    "/healthz": {
        "get": {
            "summary": "Alive: the process answers (says nothing of its dependencies)",
            "security": PUBLIC,
            "responses": {
                "200": json_answer(
                    "Alive",
                    {
                        "type": "object",
                        "required": ["status"],
                        "properties": {"status": {"const": "ok"}},
                    },
                )
            },
        }
    },
    "/readyz": {
        "get": {
            "summary": "Ready: the database and the bucket answer (cached for a second)",
            "security": PUBLIC,
            "responses": {
                "200": json_answer("Ready", ref("Readiness")),
                "503": json_answer("Not ready: the failing check says why", ref("Readiness")),
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "security": PUBLIC,
            "responses": {
                "200": {
                    "description": "The Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This description",
            "security": PUBLIC,
            "responses": {"200": json_answer("The OpenAPI document", {"type": "object"})},
        }
    },
}

_GALLERY: dict[str, Any] = {
    "/": {
        "get": {
            "summary": "The web gallery, or its sign-in form without a session",
            "security": PUBLIC,
            "responses": {"200": html("The page")},
        }
    },
    "/login": {
        "post": {
            "summary": "Sign in to the gallery with the admin token (opens a session cookie)",
            "security": PUBLIC,
            "requestBody": form("token"),
            "responses": {
                "303": {**REDIRECT, "description": "Signed in: the cookie is set"},
                "400": html("The form's length is not a number"),
                "401": html("That is not the admin token"),
                "413": {
                    "description": "The form is over 4 KiB (HTML), or over the body limit (JSON)",
                    "content": {
                        "text/html": {"schema": {"type": "string"}},
                        "application/json": {"schema": ref("Error")},
                    },
                },
                "429": html(
                    "Too many wrong tokens from this address",
                    headers={"Retry-After": {"schema": {"type": "integer"}}},
                ),
            },
        }
    },
    "/logout": {
        "post": {
            "summary": "Sign out of the gallery (the session is deleted on the server)",
            "security": PUBLIC,
            "requestBody": form("csrf"),
            "responses": {
                "303": {**REDIRECT, "description": "Signed out: the cookie is cleared"},
                "400": html("The form's length is not a number"),
                "403": error("Signed in, but without the session's CSRF token"),
                "413": {
                    "description": "The form is over 4 KiB (HTML), or over the body limit (JSON)",
                    "content": {
                        "text/html": {"schema": {"type": "string"}},
                        "application/json": {"schema": ref("Error")},
                    },
                },
            },
        }
    },
    "/favicon.ico": {
        "get": {
            "summary": "The gallery's icon, where browsers look for it",
            "security": PUBLIC,
            "responses": {
                "200": {"description": "The icon", "content": {"image/vnd.microsoft.icon": {}}}
            },
        }
    },
    "/static/{path}": {
        "get": {
            "summary": "The gallery's files (CSS, JavaScript, icon)",
            "security": PUBLIC,
            "parameters": [path("path")],
            "responses": {
                "200": {
                    "description": "The file",
                    "content": {
                        "text/css": {},
                        "text/javascript": {},
                        "text/html": {},
                        "image/vnd.microsoft.icon": {},
                    },
                },
                "404": error("No such file"),
            },
        }
    },
}

_CALLBACKS: dict[str, Any] = {
    "/callbacks/{provider}/{token}": {
        "post": {
            "summary": "Where a provider reports a task (docs/intake.md)",
            "description": "The signed token in the path is the authentication. Every request is "
            "recorded as a delivery (junk within RECEIVER_REJECTED_LOG_RATE); 2xx "
            "only once the delivery and all it implies are committed.",
            "security": PUBLIC,
            "parameters": [path("provider", {"enum": list(PROVIDER_NAMES)}), path("token")],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": json_answer(
                    "Taken: accepted, or a duplicate, stale or unknown status",
                    ref("CallbackAnswer"),
                ),
                **{
                    status: json_answer(description, ref("CallbackRefusal"))
                    for status, description in (
                        ("400", "malformed: not a task object, or the client left mid-body"),
                        ("403", "bad_token / expired_token"),
                        ("404", "unknown_job, or no such callback route"),
                        ("408", "timeout: the body did not arrive within RECEIVER_REQUEST_TIMEOUT"),
                        ("409", "task_mismatch: the body is another task's"),
                        ("413", "too_large: over RECEIVER_MAX_BODY_BYTES"),
                        ("415", "wrong_content_type: not JSON"),
                        ("429", "adoption through unbound URLs is over its limit"),
                    )
                },
            },
        }
    },
}

SITE_PATHS: dict[str, Any] = {**_CALLBACKS, **_PROBES, **_GALLERY}
