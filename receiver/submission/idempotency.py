"""Idempotent submissions: one key, one job, whoever asks how often.

A key names a submission. The first request with a key makes the job; the same key with the
same request again returns that job (nothing sent, nothing charged); the same key with a
different request is refused (:class:`IdempotencyConflict`). "The same request" is the
request as checked: its :func:`fingerprint` covers the provider, the model, the prompt with
its shots, the duration, quality, aspect ratio, sound, negative prompt and the first frame
(its URL, or a local file's SHA-256), so ``receiver submit --idempotency-key K`` and
``POST /v1/jobs`` with ``Idempotency-Key: K`` meet on the same job.

Keys are stored scoped (``submit:<key>`` for a key a client chose, ``batch:<sha256>`` for a
row of a batch file, see :func:`batch_keys`), so a batch can never collide with a client's
key. The binding step is :func:`claim`, inside the transaction that records the job: the
table's primary key lets exactly one of two racing submissions through.

A key stays bound to its job, even after ``receiver delete``, except when the provider
refused the job outright (it answered, and created nothing): then :func:`release` frees the
key, so the corrected request may use it again. After a timeout or a 5xx the key stays with
the failed job: the provider may have created the task, and a second one would be paid twice.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receiver import clock
from receiver.errors import (
    ConfigError,
    ProviderError,
    ProviderUnavailable,
    ReceiverError,
    ValidationError,
)
from receiver.store.database import Connection
from receiver.store.idempotency_keys import IdempotencyKeys
from receiver.submission.images import PENDING_IMAGE_URL

if TYPE_CHECKING:
    from receiver.submission.spec import PreparedJob

__all__ = [
    "MAX_KEY_CHARS",
    "Claim",
    "IdempotencyConflict",
    "IdempotencyKey",
    "batch_keys",
    "claim",
    "client_key",
    "definitely_not_created",
    "fingerprint",
    "lookup",
    "release",
]

MAX_KEY_CHARS = 255


class IdempotencyConflict(ReceiverError):
    """This idempotency key was used for a different request."""

    def __init__(self, *, key: str, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(
            f"idempotency key {key!r} was used for a different request (job {job_id}); "
            "a new request needs a new key"
        )


@dataclass(frozen=True, kw_only=True)
class IdempotencyKey:
    """A scoped key, and the fingerprint of the request it is given with."""

    key: str
    fingerprint: str
    #: The key as the client wrote it (for messages); the scoped ``key`` is what is stored.
    shown: str


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A key already bound: its job, and that job's status (None once it was deleted)."""

    job_id: str
    fingerprint: str
    job_status: str | None
    deleted_at: str | None


def fingerprint(prepared: PreparedJob) -> str:
    """The SHA-256 of a checked request: equal for requests that would make the same video."""
    request = prepared.request
    image = f"sha256:{prepared.image.sha256}" if prepared.image else request.image_url
    canonical = {
        "provider": prepared.provider,
        "model": request.model,
        "prompt": request.prompt,
        "duration": request.duration,
        "quality": request.quality,
        # The provider ignores the aspect ratio of an image job: the frame decides.
        "aspect_ratio": None if image else request.aspect_ratio,
        "image": image,
        "negative_prompt": request.negative_prompt,
        "sound": request.sound,
        # A catalogue model's body fields: two requests differing only there are two videos.
        # A local image is named by its content, as above, wherever the body names it.
        "params": _named_by_content(request.params, image) if request.params else None,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _named_by_content(params: Mapping[str, Any], image: str | None) -> dict[str, Any]:
    """``params`` with the not-yet-staged image's placeholder URL replaced by ``image``."""

    def named(value: Any) -> Any:
        if value == PENDING_IMAGE_URL:
            return image
        if isinstance(value, list):
            return [named(item) for item in value]
        if isinstance(value, Mapping):
            return {key: named(item) for key, item in value.items()}
        return value

    return {key: named(value) for key, value in params.items()}


def client_key(
    text: str, prepared: PreparedJob, *, field: str = "idempotency_key"
) -> IdempotencyKey:
    """A key a client chose (``--idempotency-key``, the ``Idempotency-Key`` header)."""
    key = text.strip()
    if not key:
        raise ValidationError(field, "is empty: give a unique string, e.g. a UUID")
    if len(key) > MAX_KEY_CHARS:
        raise ValidationError(field, f"is {len(key)} characters long; at most {MAX_KEY_CHARS}")
    if not key.isascii() or not key.isprintable():
        raise ValidationError(field, "must be printable ASCII (letters, digits, - _ . : …)")
    return IdempotencyKey(key=f"submit:{key}", fingerprint=fingerprint(prepared), shown=key)


def batch_keys(identity: str, prepared: Sequence[PreparedJob]) -> list[IdempotencyKey]:
    """The keys of a batch's ready rows, in file order.

    A row's key is the SHA-256 of the batch's ``identity`` (the file's absolute path, or the
    ``--idempotency-key`` given with ``--from``), the row's request :func:`fingerprint`,
    and how many rows before it in the file ask for the very same request. So re-running
    the file finds every row's job again, even with rows inserted or moved; an edited row
    is a new request, and a new job; two identical rows are two jobs.
    """
    seen: Counter[str] = Counter()
    keys = []
    for job in prepared:
        digest_ = fingerprint(job)
        seen[digest_] += 1
        material = json.dumps([identity, digest_, seen[digest_]], separators=(",", ":"))
        digest = hashlib.sha256(material.encode()).hexdigest()
        keys.append(IdempotencyKey(key=f"batch:{digest}", fingerprint=digest_, shown=digest[:12]))
    return keys


def lookup(conn: Connection, key: IdempotencyKey) -> Claim | None:
    """The job ``key`` is bound to; raises :class:`IdempotencyConflict` when it was bound
    for another request."""
    binding = IdempotencyKeys(conn).get(key.key)
    if binding is None:
        return None
    deleted_at = binding.job_deleted_at
    found = Claim(
        job_id=binding.job_id,
        fingerprint=binding.fingerprint,
        job_status=binding.job_status,
        deleted_at=clock.to_db(deleted_at) if deleted_at is not None else None,
    )
    if found.fingerprint != key.fingerprint:
        raise IdempotencyConflict(key=key.shown, job_id=found.job_id)
    return found


def claim(conn: Connection, key: IdempotencyKey, job_id: str) -> Claim | None:
    """Bind ``key`` to the new job ``job_id``, inside the transaction that records it.

    None when the key is now ``job_id``'s; otherwise the job it was already bound to
    (a racing twin committed first). Raises :class:`IdempotencyConflict` as :func:`lookup`.
    """
    bound = IdempotencyKeys(conn).claim(
        key.key, fingerprint=key.fingerprint, job_id=job_id, now=clock.now()
    )
    if bound:
        return None
    found = lookup(conn, key)
    assert found is not None  # the row that stopped the insert is committed and stays
    return found


def release(conn: Connection, key: IdempotencyKey, job_id: str) -> None:
    IdempotencyKeys(conn).release(key.key, job_id=job_id)


def definitely_not_created(exc: BaseException) -> bool:
    """Whether a failed create certainly made no task: the provider answered with a refusal
    (4xx), or we never sent it. A timeout, a dropped connection or a 5xx leave it open."""
    if isinstance(exc, ValidationError | ConfigError):
        return True
    if isinstance(exc, ProviderUnavailable):
        return False
    if isinstance(exc, ProviderError):
        return exc.status_code is not None and 400 <= exc.status_code < 500
    return False
