"""Confirming a completed callback with the provider's task API before downloading.

Callbacks are unsigned: the token proves the URL is ours, not that the body is the
provider's. With ``RECEIVER_CONFIRM_WITH_PROVIDER=1`` (and for jobs adopted from unbound
callback URLs) the worker asks ``GET /v1/tasks/{id}`` with our API key, and downloads from
the URL in *that* answer, never the one in the callback body.
"""

from __future__ import annotations

from receiver.errors import (
    ConfigError,
    ConfirmationError,
    ProviderError,
    ProviderNotFound,
    ProviderRateLimited,
)
from receiver.providers.base import Provider, TaskResult, TaskStatus
from receiver.store.records import Job

__all__ = ["confirmed_results", "confirmed_video_url"]


def confirmed_video_url(provider: Provider, job: Job) -> str:
    """The first result's URL of ``job``'s task as the provider itself reports it."""
    return confirmed_results(provider, job)[0].url


def confirmed_results(provider: Provider, job: Job) -> tuple[TaskResult, ...]:
    """Every result of ``job``'s task as the provider itself reports it (at least one)."""
    if job.task_id is None:
        raise ConfirmationError("the job has no provider task id to confirm", permanent=True)
    try:
        snapshot = provider.get_task(job.task_id)
    except ConfigError as exc:
        raise ConfirmationError(
            f"cannot confirm with the provider: {exc.message}", permanent=True
        ) from exc
    except ProviderRateLimited as exc:
        raise ConfirmationError(exc.message, retry_after=exc.retry_after) from exc
    except ProviderNotFound as exc:
        raise ConfirmationError(
            f"the provider does not know task {job.task_id}", permanent=True
        ) from exc
    except ProviderError as exc:
        raise ConfirmationError(exc.message) from exc
    if snapshot.task_id != job.task_id:
        raise ConfirmationError("the provider answered about another task", permanent=True)
    if snapshot.status in {TaskStatus.PENDING, TaskStatus.PROCESSING}:
        # The callback ran ahead of the task API; ask again after a backoff.
        raise ConfirmationError(f"the provider still reports the task {snapshot.raw_status}")
    if snapshot.status != TaskStatus.COMPLETED:
        raise ConfirmationError(
            f"the provider does not confirm completion: it reports {snapshot.raw_status!r}",
            permanent=True,
        )
    if not snapshot.results:
        raise ConfirmationError(
            "the provider confirms completion but lists no result", permanent=True
        )
    return snapshot.results
