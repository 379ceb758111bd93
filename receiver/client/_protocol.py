"""The API's protocol without I/O: settings, requests to make, answers to read.

Both shells (:mod:`._sync`, :mod:`._async`) build every request here and read every answer
here, so the two cannot disagree on a path, a header or an error. Nothing in this module
touches the network: a request is a :class:`Call`, an answer is an ``httpx.Response`` that
was already read.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from receiver.client._exceptions import (
    APIError,
    BadRequest,
    BudgetExceeded,
    ConfigurationError,
    Conflict,
    InvalidArgument,
    NotFound,
    PaymentRequired,
    ProtocolError,
    RateLimited,
    ServerError,
    Unauthorized,
    Unreachable,
)
from receiver.client._models import Job

__all__ = [
    "Call",
    "ClientSettings",
    "Shot",
    "check",
    "parse",
    "submit_call",
    "video_call",
]

T = TypeVar("T")

DEFAULT_API_URL = "http://127.0.0.1:8000"
#: The provider's "10 MB", read the stricter (decimal) way; the server checks the rest.
MAX_IMAGE_BYTES = 10 * 1000 * 1000
#: The largest page the API serves.
PAGE_SIZE = 200
_IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}

#: A shot of a multi-shot video: ``"2:the fox wakes"``, ``(2, "the fox wakes")`` or
#: ``{"seconds": 2, "text": "the fox wakes"}``.
Shot = str | tuple[int, str] | Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class ClientSettings:
    """Where the API is and how to get in; from arguments, else the CLI's variables."""

    base_url: str
    token: str
    timeout: float
    #: How long a broken event stream is retried before the wait gives up (None: forever).
    reconnect_limit: float | None

    @classmethod
    def resolve(
        cls,
        base_url: str | None,
        token: str | None,
        *,
        timeout: float,
        reconnect_limit: float | None,
    ) -> ClientSettings:
        # The same two variables as the CLI, read here rather than through
        # receiver.config.Settings: an application that imports the client must not need
        # (or pass the checks of) the server's settings.
        url = base_url or os.environ.get("RECEIVER_API_URL", "").strip() or DEFAULT_API_URL
        parsed = httpx.URL(url)
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise ConfigurationError("RECEIVER_API_URL", "expected an http(s) URL")
        secret = token if token is not None else os.environ.get("RECEIVER_ADMIN_TOKEN", "").strip()
        if not secret:
            raise ConfigurationError(
                "RECEIVER_ADMIN_TOKEN", "is not set: every /v1 route of the API needs it"
            )
        return cls(
            base_url=url.rstrip("/"),
            token=secret,
            timeout=timeout,
            reconnect_limit=reconnect_limit,
        )

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "User-Agent": "receiver-client"}


@dataclass(frozen=True, kw_only=True)
class Call:
    """One request to the API, before any I/O."""

    method: str
    path: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


def job_id(job: str | Job) -> str:
    """The id of a job given as an id or as a :class:`Job`."""
    found = job.id if isinstance(job, Job) else job
    if not isinstance(found, str) or not found:
        raise InvalidArgument(f"not a job id: {found!r}")
    return found


def job_path(job: str, suffix: str = "") -> str:
    return f"/v1/jobs/{quote(job_id(job), safe='')}{suffix}"


def video_call(job: str, index: int) -> Call:
    """``GET /v1/jobs/{id}/video``: the redirect to result ``index``'s file (0: the first)."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidArgument(f"not a result index: {index!r}")
    # Result 0 is asked for as it always was, without a query.
    params: dict[str, str | int] = {"index": index} if index else {}
    return Call(method="GET", path=job_path(job, "/video"), params=params)


def submit_call(
    prompt: str,
    *,
    shots: Iterable[Shot],
    image: str | os.PathLike[str] | None,
    duration: int | None,
    aspect_ratio: str | None,
    quality: str | None,
    model: str | None,
    negative_prompt: str | None,
    sound: bool | str | None,
    provider: str | None,
    dry_run: bool,
    idempotency_key: str | None,
) -> Call:
    """``POST /v1/jobs``: the options of ``receiver submit``, as the API names them."""
    body: dict[str, Any] = {"prompt": prompt}
    shot_list = [_shot(shot) for shot in shots]
    if shot_list:
        body["shots"] = shot_list
    if image is not None:
        body["image_url"] = image_url(image)
    optional = {
        "duration": duration,
        "aspect_ratio": aspect_ratio,
        "quality": quality,
        "model": model,
        "negative_prompt": negative_prompt,
        "provider": provider,
    }
    body.update({name: value for name, value in optional.items() if value is not None})
    if sound is not None:
        body["sound"] = ("on" if sound else "off") if isinstance(sound, bool) else sound
    if dry_run:
        body["dry_run"] = True
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return Call(method="POST", path="/v1/jobs", json=body, headers=headers)


def _shot(shot: Shot) -> str | dict[str, Any]:
    if isinstance(shot, str):
        return shot
    if isinstance(shot, tuple):
        seconds, text = shot
        return {"seconds": seconds, "text": text}
    return dict(shot)


def image_url(image: str | os.PathLike[str]) -> str:
    """A URL as it is; a local file as a ``data:`` URL of its bytes (the API stages it).

    Only what the client can know is checked here (the file exists, is a PNG or a JPEG, and
    is not over the provider's limit); the server checks the rest by the provider's rules.
    """
    if isinstance(image, str) and image.lower().startswith(("http://", "https://")):
        return image
    path = Path(image).expanduser()
    try:
        with path.open("rb") as source:
            data = source.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise InvalidArgument(f"image: cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidArgument(f"image: {str(path)!r} is over 10 MB")
    kind = next((kind for magic, kind in _IMAGE_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise InvalidArgument(f"image: {str(path)!r} is neither a JPEG nor a PNG")
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def list_call(
    *, status: str | None, model: str | None, since: str | None, cursor: str | None, limit: int
) -> Call:
    params: dict[str, str | int] = {"limit": limit}
    for name, value in (("status", status), ("model", model), ("since", since), ("cursor", cursor)):
        if value is not None:
            params[name] = value
    return Call(method="GET", path="/v1/jobs", params=params)


def check_call() -> Call:
    return list_call(status=None, model=None, since=None, cursor=None, limit=1)


def read_page(document: Any) -> tuple[list[Job], str | None]:
    """A page of ``GET /v1/jobs``: its jobs and the cursor of the next page (None: last)."""
    jobs = [Job.from_json(job) for job in document["jobs"]]
    cursor = document.get("next_cursor")
    return jobs, str(cursor) if cursor else None


def read_last_seq(document: Any) -> int:
    return int(document.get("last_event_seq") or 0)


def costs_call(*, since: str, by: str) -> Call:
    return Call(method="GET", path="/v1/costs", params={"since": since, "by": by})


def replay_call(delivery_id: str) -> Call:
    if not delivery_id:
        raise InvalidArgument("a delivery id is required")
    return Call(method="POST", path=f"/v1/deliveries/{quote(delivery_id, safe='')}/replay")


def replay_failed_call(*, since: str | None, job: str | None, dry_run: bool) -> Call:
    body: dict[str, Any] = {"dry_run": dry_run}
    if since is not None:
        body["since"] = since
    if job is not None:
        body["job_id"] = job
    return Call(method="POST", path="/v1/deliveries/replay", json=body)


def _message(response: httpx.Response) -> tuple[str | None, str, dict[str, Any]]:
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        text = response.text.strip()[:200]
        return None, text or response.reason_phrase, {}
    return document.get("error"), str(document.get("message") or document.get("error")), document


def check(
    response: httpx.Response, *, ok: Iterable[int] = (200,), missing: str | None = None
) -> httpx.Response:
    """The response when its status is one of ``ok``; else the error it stands for.

    ``missing`` is the message of a 404 (``no job 'job_…'``), which names what the caller
    asked for whatever the server said.
    """
    status = response.status_code
    if status in set(ok):
        return response
    code, message, document = _message(response)
    url = str(response.request.url.copy_with(query=None)) if response.request else ""
    if status == 401:
        raise Unauthorized(
            f"the receiver at {url} refused the admin token (401): {message}",
            status_code=status,
            code=code,
            url=url,
        )
    if status == 400:
        raise BadRequest(message, code=code, url=url, field=document.get("field"))
    if status == 402:
        kind = BudgetExceeded if code in {"budget_exceeded", "budget_unpriced"} else PaymentRequired
        raise kind(message, status_code=status, code=code, url=url)
    if status == 404:
        raise NotFound(missing or message, status_code=status, code=code, url=url)
    if status == 409:
        raise Conflict(message, status_code=status, code=code, url=url)
    if status == 429:
        raise RateLimited(message, code=code, url=url, retry_after=_retry_after(response))
    if status >= 500:
        raise ServerError(f"{status} from {url}: {message}", status_code=status, code=code, url=url)
    raise APIError(f"{status} from {url}: {message}", status_code=status, code=code, url=url)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def parse(reader: Callable[[Any], T], response: httpx.Response) -> T:
    """The answer's JSON read by ``reader``; anything malformed is a :class:`ProtocolError`."""
    try:
        return reader(response.json())
    except ProtocolError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ProtocolError(
            f"an answer of {response.request.method} {response.request.url.path} that the "
            f"client cannot read: {exc}"
        ) from exc


def location(response: httpx.Response) -> str:
    """Where a ``302`` of ``/v1/jobs/{id}/video`` points: the presigned URL."""
    url = str(response.headers.get("location") or "")
    if response.status_code != 302 or not url:
        raise ProtocolError(f"expected a redirect to the video, got {response.status_code}")
    return url


def unreachable(base_url: str, exc: httpx.TransportError) -> Unreachable:
    return Unreachable(f"cannot reach the receiver at {base_url}: {type(exc).__name__}: {exc}")
