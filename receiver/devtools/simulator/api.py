"""EvoLink's API as a client sees it: create a task, query a task, errors in its format.

Requests are checked with the same ``validate_request`` the real client uses, so the
simulator refuses exactly what our reading of the documentation refuses.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from receiver.devtools.simulator.callbacks import check_callback_url
from receiver.devtools.simulator.images import check_image
from receiver.devtools.simulator.lifecycle import run_task
from receiver.devtools.simulator.state import SimulatorState
from receiver.devtools.simulator.tasks import SimTask
from receiver.errors import ValidationError
from receiver.providers.base import JobRequest
from receiver.providers.evolink_models import by_catalogue
from receiver.providers.evolink_protocol import validate_request

__all__ = ["evolink_error", "parse_create_body", "routes"]

log = structlog.get_logger()

# JobRequest speaks our names; the wire speaks EvoLink's.
_WIRE_NAMES = {"image_url": "image_start"}


def evolink_error(
    status_code: int,
    *,
    type_: str,
    code: str,
    message: str,
    param: str | None = None,
    fallback_suggestion: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error answer in EvoLink's ``{"error": {...}}`` format."""
    error = {
        "code": code,
        "message": message,
        "type": type_,
        "param": param,
        "fallback_suggestion": fallback_suggestion,
    }
    return JSONResponse({"error": error}, status_code=status_code, headers=headers)


def parse_create_body(data: Mapping[str, Any]) -> tuple[JobRequest, str | None]:
    """The validated request and the callback URL of a create body (a decoded JSON object).

    Raises :class:`ValidationError` naming the wire field at fault.
    """

    def text(name: str) -> str | None:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            raise ValidationError(name, "must be a string")
        return value

    model = text("model")
    if by_catalogue(model):
        # A model of the catalogue: checked by its entry, on the body's own fields.
        fields = {k: v for k, v in data.items() if k not in {"model", "callback_url"}}
        catalogued = JobRequest(prompt=text("prompt") or "", model=model, params=fields)
        return validate_request(catalogued), text("callback_url")
    prompt = text("prompt")
    if prompt is None:
        raise ValidationError("prompt", "is required")
    duration = data.get("duration", 5)
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise ValidationError("duration", "must be an integer number of seconds")
    request = JobRequest(
        prompt=prompt,
        model=model,
        duration=duration,
        aspect_ratio=text("aspect_ratio") or "16:9",
        quality=text("quality") or "720p",
        image_url=text("image_start"),
        negative_prompt=text("negative_prompt"),
        sound=text("sound"),
    )
    callback_url = text("callback_url")
    try:
        return validate_request(request), callback_url
    except ValidationError as exc:
        raise ValidationError(_WIRE_NAMES.get(exc.field, exc.field), _problem(exc)) from exc


def _problem(exc: ValidationError) -> str:
    return exc.message.removeprefix(f"{exc.field}: ")


def routes(state: SimulatorState) -> list[BaseRoute]:
    """``POST /v1/{videos,images,audios}/generations`` and ``GET /v1/tasks/{task_id}``."""

    def unauthorized(request: Request) -> Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip()
        expected = state.config.api_key
        if (
            scheme.lower() == "bearer"
            and key
            and (expected is None or hmac.compare_digest(key.encode(), expected.encode()))
        ):
            return None
        return evolink_error(
            401,
            type_="authentication_error",
            code="invalid_api_key",
            message="Missing or invalid API key",
            fallback_suggestion="send 'Authorization: Bearer <your EvoLink API key>'",
        )

    async def create(request: Request) -> Response:
        refusal = unauthorized(request)
        if refusal is not None:
            return refusal
        if state.take_rate_limit():
            log.info("simulator.rate_limited")
            return evolink_error(
                429,
                type_="rate_limit_error",
                code="rate_limit_exceeded",
                message="Too many requests (simulated)",
                fallback_suggestion="retry after 1 second",
                headers={"Retry-After": "1"},
            )
        try:
            data = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _invalid(None, f"The body is not valid JSON: {exc}")
        if not isinstance(data, dict):
            return _invalid(None, "The body must be a JSON object")
        config = state.config
        try:
            job, callback_url = parse_create_body(data)
            if callback_url is not None:
                check_callback_url(callback_url, config)
            if config.fetch_images and job.image_url is not None:
                await check_image(job.image_url)
        except ValidationError as exc:
            return _invalid(exc.field, exc.message)
        task = SimTask.create(
            job, callback_url=callback_url, config=config, base_url=str(request.base_url)
        )
        state.tasks[task.task_id] = task
        state.background.spawn(run_task(task), name=f"simulator {task.task_id}")
        log.info(
            "simulator.task_created",
            task_id=task.task_id,
            model=task.model,
            outcome=task.outcome,
            callback=callback_url is not None,
        )
        return JSONResponse(task.as_object())

    async def get_task(request: Request) -> Response:
        refusal = unauthorized(request)
        if refusal is not None:
            return refusal
        task = state.tasks.get(request.path_params["task_id"])
        if task is None:
            return evolink_error(
                404,
                type_="not_found_error",
                code="task_not_found",
                message="Task not found or expired",
                param="task_id",
            )
        return JSONResponse(task.as_object())

    return [
        Route("/v1/videos/generations", create, methods=["POST"]),
        Route("/v1/images/generations", create, methods=["POST"]),
        Route("/v1/audios/generations", create, methods=["POST"]),
        Route("/v1/tasks/{task_id}", get_task, methods=["GET"]),
    ]


def _invalid(param: str | None, message: str) -> JSONResponse:
    return evolink_error(
        400, type_="invalid_request_error", code="invalid_parameter", message=message, param=param
    )
