"""The OpenAPI description of the HTTP API, served at ``/openapi.json`` and kept in ``docs/``.

It describes every route the app serves, the callback route, the gallery and the probes
included, with every status each one answers. Tests hold it to that: the app's routes are
walked and compared with its paths (``tests/integration/test_api_contract.py``), and
Schemathesis sends each operation requests made from it and checks the answers against it
(``tests/integration/test_openapi_conformance.py``).

``python -m receiver.web.openapi > docs/openapi.json`` writes the copy in the repository; a
test checks that it matches, so the published description cannot drift from this one.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from receiver import __version__
from receiver.lifecycle import JobStatus
from receiver.submission.idempotency import MAX_KEY_CHARS
from receiver.web._openapi_build import (
    DURATION,
    LIMIT,
    RESPONSES,
    common,
    error,
    json_answer,
    path,
    query,
    ref,
)
from receiver.web._openapi_schemas import SCHEMAS
from receiver.web._openapi_site import SITE_PATHS

__all__ = ["DOCUMENT", "openapi_routes"]

_DESCRIPTION = f"""\
Submit AI video jobs and get their stored videos without polling.

Every route under /v1 needs `Authorization: Bearer $RECEIVER_ADMIN_TOKEN` (or the gallery's
session cookie, with `X-CSRF-Token` on a change). Every error is JSON,
`{{"error": "<code>", "message": "…"}}` (a bad parameter also names its `field`): an unknown
path answers 404 `not_found`, a method a path does not take 405 `method_not_allowed` with
`Allow`, a body over {LIMIT} (or RECEIVER_MAX_BODY_BYTES if larger) 413 `too_large`, an
unexpected failure 500 `internal_error` (its details only in the server's log). Routes that
take query parameters refuse unknown ones, repeated ones, empty ones and bad values with
400 (leave a parameter out rather than empty). Every GET also answers HEAD. The gallery's
sign-in form (`/login`) answers its refusals as the HTML page a browser shows."""


_401, _403, _413 = common("Unauthorized"), common("Forbidden"), common("TooLarge")
_400, _404 = common("BadRequest"), common("JobNotFound")
_JOB_ID = path("job_id")

_JOBS: dict[str, Any] = {
    "/v1/jobs": {
        "post": {
            "summary": "Submit a job",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "description": "Submit at most once: the same key and request again answer "
                    "200 with the job the first made (nothing sent or charged)",
                    "schema": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": MAX_KEY_CHARS,
                        "pattern": "^[ -~]*[!-~][ -~]*$",
                    },
                }
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref("JobRequest")}},
            },
            "responses": {
                "200": json_answer(
                    "dry_run: what the job would cost, nothing submitted (Estimate); or, with "
                    "an Idempotency-Key already used for this request, the job it made",
                    {"oneOf": [ref("Estimate"), ref("JobDetails")]},
                    headers={
                        "Idempotent-Replayed": {
                            "description": "true: the job of an earlier request with this key",
                            "schema": {"const": "true"},
                        }
                    },
                ),
                "201": json_answer("The job, submitted", ref("JobDetails")),
                "400": common("BadRequest"),
                "401": _401,
                "402": error(
                    "The provider account is out of credits (provider_quota), or the "
                    "job does not fit in today's budget (budget_exceeded, "
                    "RECEIVER_MAX_CREDITS_PER_DAY), or it has no price the budget "
                    "could count (budget_unpriced)"
                ),
                "403": _403,
                "409": error(
                    "idempotency_conflict: the key was used for a different request; "
                    "idempotency_key_job_deleted: the job it made was deleted"
                ),
                "413": _413,
                "429": error("The provider is rate limiting (see Retry-After)"),
                "502": error("The provider refused or failed"),
                "503": error("The server lacks a setting (e.g. the provider's key)"),
            },
        },
        "get": {
            "summary": "List jobs, newest first, a page at a time",
            "parameters": [
                query("status", {"enum": list(JobStatus)}, "Only jobs in this status"),
                query("model", {"type": "string", "minLength": 1}, "Only jobs of this model"),
                query(
                    "since",
                    {"type": "string", "pattern": DURATION},
                    "Only jobs created within this duration (30s, 15m, 24h, 7d; at most 36500d)",
                ),
                query(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                    "Jobs per page",
                ),
                query(
                    "cursor",
                    {"type": "string", "pattern": "^job_[0-9a-z]{26}$"},
                    "next_cursor of the previous page",
                ),
            ],
            "responses": {
                "200": json_answer("A page of jobs", ref("JobPage")),
                "400": _400,
                "401": _401,
            },
        },
    },
    "/v1/jobs/{job_id}": {
        "get": {
            "summary": "One job with its asset, events and deliveries (receiver show --json)",
            "parameters": [_JOB_ID],
            "responses": {
                "200": json_answer("The job", ref("JobDetails")),
                "401": _401,
                "404": _404,
            },
        }
    },
    "/v1/jobs/{job_id}/video": {
        "get": {
            "summary": "Redirect to a presigned URL of the stored video (or result ?index=N)",
            "parameters": [
                _JOB_ID,
                {
                    "name": "index",
                    "in": "query",
                    "required": False,
                    "description": "Which result of the task (0, the first, by default)",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 63, "default": 0},
                },
            ],
            "responses": {
                "302": {
                    "description": "The presigned URL, valid RECEIVER_PRESIGN_EXPIRY",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": _400,
                "401": _401,
                "404": _404,
                "409": json_answer("Nothing stored yet (`status` is the job's)", ref("NotStored")),
            },
        }
    },
    "/v1/jobs/{job_id}/retry": {
        "post": {
            "summary": "Queue a failed or expired archive again (receiver retry)",
            "parameters": [_JOB_ID],
            "responses": {
                "200": json_answer(
                    "Queued",
                    {
                        "type": "object",
                        "required": ["queued"],
                        "properties": {"queued": {"const": True}},
                    },
                ),
                "401": _401,
                "403": _403,
                "404": _404,
                "409": error("nothing_to_retry: the archive is not failed or expired"),
            },
        }
    },
    "/v1/costs": {
        "get": {
            "summary": "Credits spent, by model or by UTC day, and today's budget",
            "parameters": [
                query(
                    "since",
                    {
                        "type": "string",
                        "default": "30d",
                        "pattern": DURATION,
                    },
                    "Jobs created within this duration",
                ),
                query("by", {"enum": ["model", "day"], "default": "model"}, "How to group"),
            ],
            "responses": {"200": json_answer("Spending", ref("Costs")), "400": _400, "401": _401},
        }
    },
}

_EVENTS: dict[str, Any] = {
    "/v1/events": {
        "get": {
            "summary": "Live event stream (Server-Sent Events), resumable with Last-Event-ID",
            "parameters": [
                query(
                    "job",
                    {"type": "string", "minLength": 1},
                    "Only this job's events (404 if there is no such job)",
                ),
                query(
                    "after",
                    {"type": "integer", "minimum": 0},
                    "Events after this sequence number (as Last-Event-ID)",
                ),
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                    "description": "The last event seen; wins over `after`",
                },
            ],
            "responses": {
                "200": {
                    "description": "text/event-stream of job events (docs/api.md)",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "400": _400,
                "401": _401,
                "404": _404,
            },
        }
    },
}

_DELIVERIES: dict[str, Any] = {
    "/v1/deliveries/{delivery_id}/replay": {
        "post": {
            "summary": "Replay one stored delivery through the intake",
            "parameters": [path("delivery_id")],
            "responses": {
                "200": json_answer("The verdict", ref("ReplayResult")),
                "401": _401,
                "403": _403,
                "404": error("No such delivery"),
            },
        }
    },
    "/v1/deliveries/replay": {
        "post": {
            "summary": "Replay every failed delivery matching a filter",
            "requestBody": {"content": {"application/json": {"schema": ref("ReplayFilter")}}},
            "responses": {
                "200": json_answer(
                    "What was (or, with dry_run, would be) replayed",
                    {"oneOf": [ref("ReplayDryRun"), ref("ReplaySummary")]},
                ),
                "400": _400,
                "401": _401,
                "403": _403,
                "413": _413,
            },
        }
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "receiver", "version": __version__, "description": _DESCRIPTION},
    "security": [{"admin": []}, {"session": []}],
    "paths": {**_JOBS, **_EVENTS, **_DELIVERIES, **SITE_PATHS},
    "components": {
        "securitySchemes": {
            "admin": {"type": "http", "scheme": "bearer", "description": "RECEIVER_ADMIN_TOKEN"},
            "session": {"type": "apiKey", "in": "cookie", "name": "receiver_session",
                        "description": "The gallery's session (POST /login); a change also "
                                       "needs X-CSRF-Token"},
        },
        "responses": RESPONSES,
        "schemas": SCHEMAS,
    },
}  # fmt: skip


async def openapi(_request: Request) -> JSONResponse:
    return JSONResponse(DOCUMENT)


def openapi_routes() -> list[Route]:
    return [Route("/openapi.json", openapi, methods=["GET"])]


if __name__ == "__main__":  # pragma: no cover - the docs copy is written with this
    print(json.dumps(DOCUMENT, indent=2))
