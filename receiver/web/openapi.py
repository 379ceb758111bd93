"""The OpenAPI description of the HTTP API, served at ``/openapi.json`` and kept in ``docs/``.

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

__all__ = ["DOCUMENT", "openapi_routes"]

_ERROR = {"$ref": "#/components/schemas/Error"}


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": schema or _ERROR}}
    return {"description": description, "content": content}


_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
_UNAUTHORIZED = _answer("Missing or wrong admin token, or RECEIVER_ADMIN_TOKEN not set")
_JOB = {"$ref": "#/components/schemas/Job"}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "receiver", "version": __version__,
             "description": "Submit AI video jobs and get their stored videos without polling."},
    "security": [{"admin": []}],
    "paths": {
        "/v1/jobs": {
            "post": {
                "summary": "Submit a job",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/JobRequest"}}}},
                "responses": {
                    "200": _answer("dry_run: what the job would cost; nothing submitted",
                                   {"$ref": "#/components/schemas/Estimate"}),
                    "201": _answer("The job, submitted", _JOB),
                    "400": _answer("The request breaks the provider's rules"),
                    "401": _UNAUTHORIZED,
                    "402": _answer("The provider account is out of credits (provider_quota), "
                                   "or the job does not fit in today's budget "
                                   "(budget_exceeded, RECEIVER_MAX_CREDITS_PER_DAY), or it "
                                   "has no price the budget could count (budget_unpriced)"),
                    "429": _answer("The provider is rate limiting (see Retry-After)"),
                    "502": _answer("The provider refused or failed"),
                    "503": _answer("The server lacks a setting"),
                },
            },
            "get": {
                "summary": "List jobs, newest first",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"type": "string"}},
                    {"name": "model", "in": "query", "schema": {"type": "string"}},
                    {"name": "since", "in": "query", "schema": {"type": "string"},
                     "description": "A duration such as 24h"},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"},
                     "description": "next_cursor of the previous page"},
                ],
                "responses": {
                    "200": _answer("A page of jobs", {"type": "object", "properties": {
                        "jobs": {"type": "array", "items": _JOB},
                        "next_cursor": {"type": ["string", "null"]},
                        "last_event_seq": {"type": "integer", "description":
                            "Follow /v1/events from here to miss nothing after this page"}}}),
                    "400": _answer("A bad filter"),
                    "401": _UNAUTHORIZED,
                },
            },
        },
        "/v1/jobs/{job_id}": {"get": {
            "summary": "One job with its asset, events and deliveries",
            "parameters": [_JOB_ID],
            "responses": {"200": _answer("The job", _JOB), "401": _UNAUTHORIZED,
                          "404": _answer("No such job")},
        }},
        "/v1/jobs/{job_id}/video": {"get": {
            "summary": "Redirect to a presigned URL of the stored video",
            "parameters": [_JOB_ID],
            "responses": {"302": {"description": "Location: the presigned URL"},
                          "401": _UNAUTHORIZED, "404": _answer("No such job"),
                          "409": _answer("Nothing stored yet")},
        }},
        "/v1/events": {"get": {
            "summary": "Live event stream (Server-Sent Events), resumable with Last-Event-ID",
            "parameters": [
                {"name": "job", "in": "query", "schema": {"type": "string"}},
                {"name": "after", "in": "query", "schema": {"type": "integer"}},
                {"name": "Last-Event-ID", "in": "header", "schema": {"type": "integer"}},
            ],
            "responses": {"200": {"description": "text/event-stream of job events",
                                  "content": {"text/event-stream": {}}},
                          "401": _UNAUTHORIZED},
        }},
        "/v1/costs": {"get": {
            "summary": "Credits spent, by model or by UTC day, and today's budget",
            "parameters": [
                {"name": "since", "in": "query", "schema": {"type": "string", "default": "30d"}},
                {"name": "by", "in": "query", "schema": {"enum": ["model", "day"]}},
            ],
            "responses": {"200": _answer("Spending", {"type": "object", "properties": {
                "by": {"type": "string"},
                "groups": {"type": "array", "items": {"type": "object", "properties": {
                    "jobs": {"type": "integer"},
                    "credits": {"type": ["number", "null"], "description":
                        "Credits of the priced jobs; null when none has a price"},
                    "estimated_jobs": {"type": "integer", "description":
                        "Jobs whose cost is still our estimate"},
                    "unpriced_jobs": {"type": "integer", "description":
                        "Jobs with no price at all (not in credits)"}}}},
                "total_credits": {"type": "number"},
                "unpriced_jobs": {"type": "integer"},
                "budget": {"$ref": "#/components/schemas/Budget"}}}),
                          "400": _answer("A bad filter"), "401": _UNAUTHORIZED},
        }},
        "/v1/deliveries/{delivery_id}/replay": {"post": {
            "summary": "Replay one stored delivery through the intake",
            "parameters": [{"name": "delivery_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": _answer("The verdict", {"type": "object"}),
                          "401": _UNAUTHORIZED, "404": _answer("No such delivery")},
        }},
        "/v1/deliveries/replay": {"post": {
            "summary": "Replay every failed delivery matching a filter",
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "since": {"type": "string"}, "job_id": {"type": "string"},
                    "dry_run": {"type": "boolean"}}}}}},
            "responses": {"200": _answer("A summary", {"type": "object"}),
                          "400": _answer("A bad filter"), "401": _UNAUTHORIZED},
        }},
    },
    "components": {
        "securitySchemes": {"admin": {"type": "http", "scheme": "bearer",
                                      "description": "RECEIVER_ADMIN_TOKEN"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"},
                "field": {"type": "string"}}},
            "JobRequest": {"type": "object", "description": "A prompt, shots, or both",
                           "properties": {
                "prompt": {"type": "string", "maxLength": 2500},
                "shots": {"type": "array", "maxItems": 6, "description":
                          "Multi-shot: seconds adding up to duration (which defaults to them)",
                          "items": {"oneOf": [
                              {"type": "string", "description": "SECONDS:TEXT"},
                              {"type": "object", "properties": {
                                  "seconds": {"type": "integer", "minimum": 1},
                                  "text": {"type": "string"}}}]}},
                "dry_run": {"type": "boolean", "description":
                            "Check and price the job; submit nothing"},
                "model": {"type": "string"},
                "duration": {"type": "integer", "minimum": 3, "maximum": 15},
                "aspect_ratio": {"enum": ["16:9", "9:16", "1:1"]},
                "quality": {"enum": ["720p", "1080p"]},
                "image_url": {"type": "string", "format": "uri"},
                "negative_prompt": {"type": "string"},
                "sound": {"enum": ["on", "off"]},
                "provider": {"enum": ["evolink", "kling"], "default": "evolink"}}},
            "Budget": {"type": ["object", "null"], "properties": {
                "limit": {"type": "number"}, "spent_today": {"type": "number"},
                "remaining": {"type": "number"}}},
            "Estimate": {"type": "object", "properties": {
                "dry_run": {"const": True}, "provider": {"type": "string"},
                "model": {"type": "string"}, "prompt": {"type": "string"},
                "duration": {"type": "integer"}, "quality": {"type": "string"},
                "credits": {"type": ["number", "null"]},
                "budget": {"$ref": "#/components/schemas/Budget"},
                "within_budget": {"type": "boolean"}}},
            "Job": {"type": "object", "properties": {
                "id": {"type": "string"}, "status": {"type": "string"},
                "task_id": {"type": ["string", "null"]}, "model": {"type": "string"},
                "prompt": {"type": "string"}, "params": {"type": "object"},
                "asset": {"type": ["object", "null"], "properties": {
                    "uri": {"type": "string"}, "key": {"type": "string"},
                    "size_bytes": {"type": "integer"}, "sha256": {"type": "string"},
                    "duration_seconds": {"type": ["number", "null"]},
                    "width": {"type": ["integer", "null"]}, "height": {"type": ["integer", "null"]},
                    "codec": {"type": ["string", "null"]}}},
                "events": {"type": "array"}, "deliveries": {"type": "array"}}},
        },
    },
}  # fmt: skip


async def openapi(_request: Request) -> JSONResponse:
    return JSONResponse(DOCUMENT)


def openapi_routes() -> list[Route]:
    return [Route("/openapi.json", openapi, methods=["GET"])]


if __name__ == "__main__":  # pragma: no cover - the docs copy is written with this
    print(json.dumps(DOCUMENT, indent=2))
