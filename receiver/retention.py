"""How long stored assets are kept: a chore of every worker (see :mod:`receiver.runtime`).

*Videos* (``RECEIVER_VIDEO_RETENTION``, unset: kept forever): a job whose video was stored
longer ago than the retention is deleted as ``receiver delete`` would (object, rows, an audit
row by ``retention``), oldest first, :data:`BATCH` at a time.

*Staged first frames* (``RECEIVER_INPUT_RETENTION``, 7 days): a frame uploaded for the
provider is needed only until the provider fetched it, which it can only do while its
presigned URL lives (``RECEIVER_IMAGE_URL_EXPIRY``). A frame is deleted once its *last use*
(the last job submitted with it, written down before its upload; or, for a frame staged
before that was written down, the object's date) is older than the longer of the two
settings. The bucket's ``inputs/`` prefix is listed a page (1,000 objects) at a time.

A frame reused by a new job in the very moment the chore deletes it (a frame unused for a
week, used again within milliseconds of its deletion) would leave that job a URL to nothing:
the provider then refuses the task (``image_start``), the job ends ``submit_failed`` or
``failed``, and submitting it again uploads the frame again. Closing that window would mean
holding a database lock across an S3 call; it is not worth a callback's wait.

Several workers may run this at once: deleting what another just deleted is harmless (S3
deletes are idempotent, a job already deleted is skipped).
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from receiver import clock
from receiver.context import Context
from receiver.deletion import delete_job
from receiver.errors import NotFoundError, ReceiverError
from receiver.store.assets import Assets
from receiver.store.staged_inputs import StagedInputs

__all__ = ["BATCH", "expire_inputs", "expire_videos", "run_once"]

log = structlog.get_logger(__name__)

#: Jobs deleted per query; a round stops after :data:`MAX_ROUNDS` of them, the rest waits
#: for the next run, so one run never holds the chores' thread for long.
BATCH = 100
MAX_ROUNDS = 10


def run_once(ctx: Context) -> None:
    """The chore: both retentions, each on its own (one failing does not stop the other)."""
    settings = ctx.settings
    if settings.video_retention is not None:
        try:
            expire_videos(ctx, settings.video_retention)
        except ReceiverError as exc:
            log.warning("retention.videos_failed", error=exc.message)
    try:
        expire_inputs(ctx, max(settings.input_retention, settings.image_url_expiry))
    except ReceiverError as exc:
        log.warning("retention.inputs_failed", error=exc.message)


def expire_videos(ctx: Context, retention: float, *, batch: int = BATCH) -> int:
    """Delete the jobs whose video was stored more than ``retention`` seconds ago; how many."""
    before = clock.now() - timedelta(seconds=retention)
    by = f"retention (RECEIVER_VIDEO_RETENTION={_duration(retention)})"
    deleted = 0
    for _ in range(MAX_ROUNDS):
        with ctx.db.reading() as conn:
            job_ids = Assets(conn).stored_before(before, limit=batch)
        done = 0
        for job_id in job_ids:
            try:
                delete_job(ctx, job_id, by=by, reason="its video passed its retention")
            except NotFoundError:
                continue  # another worker was faster
            except ReceiverError as exc:
                log.warning("retention.video_failed", job_id=job_id, error=exc.message)
                continue
            done += 1
        deleted += done
        # A short page is the last; a page where nothing went would only come back the same.
        if len(job_ids) < batch or not done:
            break
    if deleted:
        log.info("retention.videos_deleted", jobs=deleted)
    return deleted


def expire_inputs(ctx: Context, retention: float) -> int:
    """Delete staged first frames last used more than ``retention`` seconds ago; how many."""
    before = clock.now() - timedelta(seconds=retention)
    prefix = ctx.settings.s3_input_prefix
    if not prefix or ctx.settings.s3_prefix.startswith(prefix):
        # The prefix would take the videos with the frames: never guess which is which.
        log.warning(
            "retention.inputs_skipped",
            reason="RECEIVER_S3_INPUT_PREFIX is empty or holds RECEIVER_S3_PREFIX",
        )
        return 0
    deleted = 0
    for page in ctx.store.list_pages(prefix):
        for item in page:
            if item.last_modified >= before:
                continue
            with ctx.db.reading() as conn:
                last_used = StagedInputs(conn).last_used(item.key)
            if last_used is not None and last_used >= before:
                continue  # an old upload, used again lately
            ctx.store.delete(item.key)
            with ctx.db.transaction() as conn:
                StagedInputs(conn).forget(item.key, before=before)
            deleted += 1
    if deleted:
        log.info("retention.inputs_deleted", objects=deleted, prefix=prefix)
    return deleted


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
