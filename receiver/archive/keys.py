"""Where each result of a job is stored: object keys that show which results belong together.

A job with one result keeps the key it always had, ``<prefix><yyyy>/<mm>/<dd>/<job id>.<ext>``
(:func:`receiver.storage.asset_key`, with the result's extension); a job with several puts
them side by side under the job's name, ``<prefix><yyyy>/<mm>/<dd>/<job id>/<index>.<ext>``,
``<index>`` counted from 0 as the API's ``result_index`` is. The key depends only on what the
intake fixed when it queued the result (its index, the job's count, the extension), so every
attempt at a result aims at the same object and no second copy can appear under another name.
"""

from __future__ import annotations

from datetime import datetime

from receiver.storage import asset_key

__all__ = ["result_key"]


def result_key(
    prefix: str, job_id: str, created_at: datetime, *, index: int, count: int, extension: str
) -> str:
    """The object key of result ``index`` (of ``count``) of job ``job_id``."""
    if count <= 1 and index == 0:
        return asset_key(prefix, job_id, created_at).removesuffix(".mp4") + f".{extension}"
    return f"{prefix}{created_at:%Y/%m/%d}/{job_id}/{index}.{extension}"
