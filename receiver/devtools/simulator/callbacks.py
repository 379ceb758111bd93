"""Callbacks, the way EvoLink sends them: which URLs it accepts and how it delivers.

Delivery follows the documented policy: one POST of the task object, success on any 2xx,
otherwise at most ``len(retry_delays)`` retries (EvoLink: 3, about 1, 2 and 4 s apart),
then the callback is lost. Two faults can be injected on top: ``callback_fail_first``
counts the first attempts as failed whatever the answer (as if the response was lost on
the way back, so the receiver sees real retries of a delivery it already handled) and
``duplicate_callbacks`` sends a delivered body again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from typing import Literal
from urllib.parse import urlsplit

import httpx
import structlog

from receiver.devtools.simulator._tls import client_context
from receiver.devtools.simulator.config import SimulatorConfig
from receiver.devtools.simulator.tasks import CallbackAttempt, SimTask
from receiver.errors import ValidationError
from receiver.providers.evolink_protocol import CALLBACK_URL_MAX_CHARS

__all__ = ["check_callback_url", "deliver"]

log = structlog.get_logger()

# The ranges EvoLink documents as refused, plus their IPv6 counterparts.
_INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::1/128",
        "fc00::/7",
    )
)


def check_callback_url(url: str, config: SimulatorConfig) -> None:
    """Refuse a ``callback_url`` EvoLink would refuse; raises :class:`ValidationError`."""
    if len(url) > CALLBACK_URL_MAX_CHARS:
        raise ValidationError(
            "callback_url", f"must be at most {CALLBACK_URL_MAX_CHARS} characters long"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if host is None or parts.scheme not in {"http", "https"}:
        raise ValidationError("callback_url", "must be an absolute https URL")
    if parts.scheme != "https" and not config.allow_http_callbacks:
        raise ValidationError("callback_url", "must use HTTPS")
    if _is_internal(host) and not config.allow_private_callbacks:
        raise ValidationError("callback_url", "must not point to an internal address")


def _is_internal(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _INTERNAL_NETWORKS)


async def deliver(task: SimTask) -> None:
    """Send ``task``'s object as it is now to its callback URL, retrying as EvoLink does."""
    assert task.callback_url is not None, "only tasks with a callback URL are delivered"
    config = task.config
    # Every attempt carries the very same bytes: EvoLink's retries add no delivery id.
    body = json.dumps(task.as_object()).encode()
    status = task.status
    task.callback_state = "delivering"
    async with httpx.AsyncClient(
        verify=client_context(config.ca_bundle), headers={"Content-Type": "application/json"}
    ) as client:
        delivered = await _post(client, task, body, status, "first")
        for delay in config.retry_delays:
            if delivered:
                break
            await asyncio.sleep(delay)
            delivered = await _post(client, task, body, status, "retry")
        if not delivered:
            task.callback_state = "gave_up"
            log.warning(
                "simulator.callback_gave_up",
                task_id=task.task_id,
                attempts=len(task.callback_attempts),
            )
            return
        for _ in range(config.duplicate_callbacks):
            await _post(client, task, body, status, "duplicate")
    task.callback_state = "delivered"


async def _post(
    client: httpx.AsyncClient,
    task: SimTask,
    body: bytes,
    status: str,
    kind: Literal["first", "retry", "duplicate"],
) -> bool:
    """One attempt, recorded; whether it counts as delivered."""
    assert task.callback_url is not None
    number = len(task.callback_attempts) + 1
    status_code: int | None = None
    error: str | None = None
    at = time.time()
    try:
        async with asyncio.timeout(task.config.callback_timeout):
            response = await client.post(task.callback_url, content=body)
        status_code = response.status_code
    except TimeoutError:
        error = f"no answer within {task.config.callback_timeout} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    delivered = status_code is not None and 200 <= status_code < 300
    if delivered and number <= task.config.callback_fail_first:
        delivered = False
        error = "counted as failed (callback_fail_first)"
    task.callback_attempts.append(
        CallbackAttempt(
            attempt=number,
            kind=kind,
            status=status,
            at=at,
            status_code=status_code,
            error=error,
            delivered=delivered,
        )
    )
    log.info(
        "simulator.callback_attempt",
        task_id=task.task_id,
        attempt=number,
        kind=kind,
        status=status,
        status_code=status_code,
        error=error,
        delivered=delivered,
    )
    return delivered
