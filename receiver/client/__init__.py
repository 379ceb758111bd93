"""receiver.client: the receiver's HTTP API from Python, blocking or async.

::

    from receiver.client import Client

    with Client() as client:  # RECEIVER_API_URL, RECEIVER_ADMIN_TOKEN
        job = client.submit("a red kite over the dunes", duration=5)
        job = client.wait(job, timeout=600)
        if job.stored:
            saved = client.download(job, "videos/")

:class:`Client` and :class:`AsyncClient` share one implementation of the protocol (requests,
answers, errors, the event stream's resumption, the download's checks); they differ only
in how they wait for the network. :func:`parse_notification` verifies a notification the
receiver sent to your endpoint. Every error is a :class:`ClientError`. The whole guide is
``docs/client.md``.

This package imports httpx and the standard library only: never the server's modules.
"""

from __future__ import annotations

from receiver.client._async import AsyncClient
from receiver.client._download import DownloadedFile
from receiver.client._exceptions import (
    APIError,
    BadRequest,
    BudgetExceeded,
    ChecksumMismatch,
    ClientError,
    ConfigurationError,
    Conflict,
    DownloadError,
    InvalidArgument,
    NotFound,
    NotificationError,
    PaymentRequired,
    ProtocolError,
    RateLimited,
    ServerError,
    Unauthorized,
    Unreachable,
    WaitTimeout,
)
from receiver.client._models import (
    Asset,
    Budget,
    CostGroup,
    Costs,
    Delivery,
    Estimate,
    Event,
    Job,
    JobError,
    Notification,
    ReplayResult,
    ReplaySummary,
)
from receiver.client._notifications import parse_notification
from receiver.client._protocol import Shot
from receiver.client._sync import Client

__all__ = [
    "APIError",
    "Asset",
    "AsyncClient",
    "BadRequest",
    "Budget",
    "BudgetExceeded",
    "ChecksumMismatch",
    "Client",
    "ClientError",
    "ConfigurationError",
    "Conflict",
    "CostGroup",
    "Costs",
    "Delivery",
    "DownloadError",
    "DownloadedFile",
    "Estimate",
    "Event",
    "InvalidArgument",
    "Job",
    "JobError",
    "NotFound",
    "Notification",
    "NotificationError",
    "PaymentRequired",
    "ProtocolError",
    "RateLimited",
    "ReplayResult",
    "ReplaySummary",
    "ServerError",
    "Shot",
    "Unauthorized",
    "Unreachable",
    "WaitTimeout",
    "parse_notification",
]
