"""botocore's internals that receiver relies on (see :mod:`receiver.compat`).

The archiver sends every part of every video as a presigned ``UploadPart`` URL on botocore's
own HTTP session rather than through the client's request pipeline (1.0 -> 0.7 ms of CPU per
part, see docs/performance.md), retried as the client's standard retry mode would. botocore
documents neither its HTTP session nor its retry tables: the session is built here, as the
client builds its own, and the tables are a copy that ``tests/unit/test_compat.py`` holds to
botocore's.
"""

from __future__ import annotations

import os

import botocore.session
from botocore.awsrequest import AWSRequest
from botocore.httpsession import URLLib3Session
from botocore.utils import get_environ_proxies

from receiver.compat import Reach

__all__ = [
    "MAX_RETRY_DELAY",
    "REACHES",
    "RETRY_CODES",
    "RETRY_STATUSES",
    "AWSRequest",
    "URLLib3Session",
    "part_session",
]

REACHES = (
    Reach(
        name=(
            "botocore.retries.standard: TransientRetryableChecker._TRANSIENT_ERROR_CODES, "
            "._TRANSIENT_STATUS_CODES, ThrottledRetryableChecker._THROTTLED_ERROR_CODES, "
            "ThrottlingStatusCodeChecker._THROTTLING_STATUS_CODES, ExponentialBackoff._BASE, "
            "._MAX_BACKOFF"
        ),
        checked="botocore>=1.44.8,<1.45",
        why=(
            "copied into RETRY_CODES, RETRY_STATUSES and MAX_RETRY_DELAY: a part's retries "
            "(receiver.storage.ObjectStore.upload_part) follow the client's standard mode "
            "without going through its pipeline."
        ),
    ),
    Reach(
        name=(
            "botocore.httpsession.URLLib3Session(verify, proxies, timeout, "
            "max_pool_connections), botocore.awsrequest.AWSRequest.prepare, "
            "botocore.utils.get_environ_proxies, the session variable ca_bundle"
        ),
        checked="botocore>=1.44.8,<1.45",
        why=(
            "part_session builds the HTTP session the client sends with, as the client "
            "builds it (CA bundle, the environment's proxies, pool, timeouts); parts are "
            "sent on it as prepared AWSRequests. Undocumented, and the stubs are narrower "
            "than botocore (a bundle path, a (connect, read) timeout pair)."
        ),
    ),
)

#: What botocore's standard retry mode retries besides a connection that failed or broke:
#: transient and throttling answers (status codes, then error codes).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_CODES = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
    }
)
#: The longest wait between two tries (seconds), as the standard mode caps it.
MAX_RETRY_DELAY = 20.0


def part_session(
    endpoint_url: str, *, max_connections: int, connect_timeout: float, read_timeout: float
) -> URLLib3Session:
    """The HTTP session botocore's client sends with, set up as the client's own is."""
    return URLLib3Session(
        verify=_ca_bundle(),  # type: ignore[arg-type]
        proxies=get_environ_proxies(endpoint_url),
        timeout=(connect_timeout, read_timeout),  # type: ignore[arg-type]
        max_pool_connections=max_connections,
    )


def _ca_bundle() -> str | bool:
    """What botocore's client verifies the store's certificate with, found the same way."""
    bundle = botocore.session.get_session().get_config_variable("ca_bundle")
    return str(bundle) if bundle else os.environ.get("REQUESTS_CA_BUNDLE") or True
