"""Building blocks of the OpenAPI description (:mod:`receiver.web.openapi`).

Small constructors for the answers, parameters and bodies the paths repeat, and the answers
shared by many operations (``components/responses``).
"""

from __future__ import annotations

from typing import Any

from receiver.web.body_limit import API_BODY_BYTES

__all__ = [
    "DURATION",
    "LIMIT",
    "PUBLIC",
    "REDIRECT",
    "RESPONSES",
    "common",
    "error",
    "form",
    "html",
    "json_answer",
    "path",
    "query",
    "ref",
]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_answer(description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
        **extra,
    }


def error(description: str) -> dict[str, Any]:
    return json_answer(description, ref("Error"))


def html(description: str, **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"text/html": {"schema": {"type": "string"}}},
        **extra,
    }


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def path(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def form(*names: str) -> dict[str, Any]:
    properties = {name: {"type": "string"} for name in names}
    return {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": properties}
            }
        }
    }


#: The body limit of the API's routes, as people write it (receiver.web.body_limit).
LIMIT = f"{API_BODY_BYTES / 1e6:.0f} MB"

RESPONSES: dict[str, dict[str, Any]] = {
    "BadRequest": error("A bad parameter or body (`field` names it)"),
    "Unauthorized": error("Missing or wrong admin token, or RECEIVER_ADMIN_TOKEN not set"),
    "Forbidden": error("Signed in with the gallery's cookie, but without its X-CSRF-Token"),
    "JobNotFound": error("No such job"),
    "TooLarge": error(f"The body is over {LIMIT} (or RECEIVER_MAX_BODY_BYTES if larger)"),
}


def common(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


#: What receiver.config.parse_duration reads: 30s, 15m, 24h, 7d.
DURATION = r"^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*$"
PUBLIC: list[dict[str, Any]] = []  # `security: []`: no token needed
REDIRECT = {
    "description": "Go to the gallery",
    "headers": {"Location": {"schema": {"type": "string"}}},
}
