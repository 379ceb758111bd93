"""Kling's own API as a client sees it: JWT auth, create and query per kind, Kling's errors.

It serves the real API's paths next to EvoLink's (they do not overlap), so one simulator
stands in for both providers. Requests are checked with the same ``validate_request`` the
Kling client uses; answers come in Kling's envelope ``{code, message, request_id, data}``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.devtools.simulator.callbacks import check_callback_url
from receiver.devtools.simulator.kling_tasks import KlingSimTask
from receiver.devtools.simulator.lifecycle import run_task
from receiver.devtools.simulator.state import SimulatorState
from receiver.errors import ValidationError
from receiver.providers import kling_protocol as protocol
from receiver.providers.base import JobRequest
from receiver.providers.kling_auth import TokenProblem, check_api_token

__all__ = ["kling_error", "parse_create_body", "routes"]

log = structlog.get_logger()

_QUALITIES = {mode: quality for quality, mode in protocol.MODES.items()}
# JobRequest speaks our names; the wire speaks Kling's.
_WIRE_NAMES = {"image_url": "image", "model": "model_name", "quality": "mode"}


def kling_error(code: int, message: str | None = None, **headers: str) -> JSONResponse:
    """An error answer in Kling's format, with the HTTP status Kling pairs with ``code``."""
    status, meaning = protocol.ERROR_CODES[code]
    body = {"code": code, "message": message or meaning, "request_id": str(uuid.uuid4())}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _answer(task: KlingSimTask) -> JSONResponse:
    return JSONResponse(
        {
            "code": 0,
            "message": "SUCCEED",
            "request_id": str(uuid.uuid4()),
            "data": task.as_object(),
        }
    )


def parse_create_body(
    data: Mapping[str, Any], kind: protocol.Kind
) -> tuple[JobRequest, str | None, str | None]:
    """The validated request, callback URL and external task id of a create body.

    Raises :class:`ValidationError` naming the wire field at fault.
    """

    def text(name: str) -> str | None:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise ValidationError(name, "must be a string")
        return value

    prompt = text("prompt")
    if prompt is None:
        raise ValidationError("prompt", "is required")
    duration = data.get("duration", "5")
    if isinstance(duration, str) and duration.isascii() and duration.isdigit():
        duration = int(duration)
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise ValidationError("duration", "must be a number of seconds, as a string")
    mode = text("mode") or "std"
    if mode not in _QUALITIES:
        raise ValidationError("mode", f"must be one of {', '.join(_QUALITIES)}")
    image = text("image") if kind == "image2video" else None
    if kind == "image2video" and not image:
        raise ValidationError("image", "is required for image2video")
    request = JobRequest(
        prompt=prompt,
        # Kling's own default is kling-v1; ours (kling-v3) only applies when we send.
        model=text("model_name") or "kling-v1",
        duration=duration,
        aspect_ratio=text("aspect_ratio") or "16:9",
        quality=_QUALITIES[mode],
        image_url=image,
        negative_prompt=text("negative_prompt"),
        sound=text("sound"),
    )
    external_task_id = text("external_task_id")
    try:
        return protocol.validate_request(request), text("callback_url"), external_task_id
    except ValidationError as exc:
        field = _WIRE_NAMES.get(exc.field, exc.field)
        raise ValidationError(field, exc.message.removeprefix(f"{exc.field}: ")) from exc


def routes(state: SimulatorState) -> list[BaseRoute]:
    """``POST /v1/videos/{text2video,image2video}`` and ``GET`` of one task on each."""

    def unauthorized(request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return kling_error(1001)
        try:
            check_api_token(
                token.strip(),
                access_key=state.config.kling_access_key,
                secret_key=state.config.kling_secret_key,
            )
        except TokenProblem as exc:
            return kling_error(exc.code, str(exc))
        return None

    def create_route(kind: protocol.Kind) -> Route:
        async def create(request: Request) -> Response:
            refusal = unauthorized(request)
            if refusal is not None:
                return refusal
            if state.take_rate_limit():
                log.info("simulator.rate_limited", dialect="kling")
                return kling_error(1302, "Too many requests (simulated)", **{"Retry-After": "1"})
            config = state.config
            parsed = _read_create(await request.body(), kind, state)
            if isinstance(parsed, Response):
                return parsed
            job, callback_url, external_task_id = parsed
            task = KlingSimTask.open(
                job,
                kind=kind,
                callback_url=callback_url,
                external_task_id=external_task_id,
                config=config,
                base_url=str(request.base_url),
            )
            state.tasks[task.task_id] = task
            state.background.spawn(run_task(task), name=f"simulator {task.task_id}")
            log.info(
                "simulator.task_created",
                dialect="kling",
                task_id=task.task_id,
                model=task.model,
                outcome=task.outcome,
                callback=callback_url is not None,
            )
            return _answer(task)

        return Route(f"/v1/videos/{kind}", create, methods=["POST"])

    def query_route(kind: protocol.Kind) -> Route:
        async def get_task(request: Request) -> Response:
            refusal = unauthorized(request)
            if refusal is not None:
                return refusal
            task = state.tasks.get(request.path_params["task_id"])
            # Each kind has its own route: a task is unknown on the other one.
            if not isinstance(task, KlingSimTask) or task.kind != kind:
                return kling_error(1203, "task not found")
            return _answer(task)

        return Route(f"/v1/videos/{kind}/{{task_id}}", get_task, methods=["GET"])

    return [
        *(create_route(kind) for kind in protocol.KINDS),
        *(query_route(kind) for kind in protocol.KINDS),
    ]


def _read_create(
    body: bytes, kind: protocol.Kind, state: SimulatorState
) -> tuple[JobRequest, str | None, str | None] | Response:
    """A create body's request, callback URL and external task id, or the refusal."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return kling_error(1200, f"the body is not valid JSON: {exc}")
    if not isinstance(data, dict):
        return kling_error(1200, "the body must be a JSON object")
    try:
        job, callback_url, external_task_id = parse_create_body(data, kind)
        if callback_url is not None:
            check_callback_url(callback_url, state.config)
    except ValidationError as exc:
        return kling_error(1201, exc.message)
    if external_task_id is not None and _taken(state, external_task_id):
        # Kling keeps external task ids unique per account: a repeated create is refused.
        return kling_error(1201, f"external_task_id {external_task_id!r} already exists")
    return job, callback_url, external_task_id


def _taken(state: SimulatorState, external_task_id: str) -> bool:
    return any(
        isinstance(task, KlingSimTask) and task.external_task_id == external_task_id
        for task in state.tasks.values()
    )
