"""What a person asks for, before it takes the provider's shape.

A :class:`JobSpec` comes from a command line, a row of a batch file or a JSON body: a prompt
and its shots, a first frame given as a URL *or a local file*, and the usual options.
:func:`prepare` checks it by every rule without touching the network (the shots, the image,
the provider's request rules) and prices it; :func:`submit_prepared` checks what can refuse
the job (settings, credentials, the budget), uploads the local image, if any, and submits it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from receiver import clock, jobs
from receiver.context import Context
from receiver.errors import ValidationError
from receiver.providers.base import JobRequest
from receiver.providers.evolink_protocol import PROMPT_MAX_CHARS
from receiver.store.records import Job
from receiver.submission import cost, idempotency
from receiver.submission.budget import BudgetUnpriced, judge, spent_today
from receiver.submission.idempotency import IdempotencyKey
from receiver.submission.images import (
    ImageFacts,
    check_image,
    check_reachable_store,
    frame_aspect,
    stage_image,
    staged_key,
)
from receiver.submission.pacing import Pacer
from receiver.submission.shots import Shot, check_shots, compose_prompt

__all__ = [
    "DEFAULT_ASPECT_RATIO",
    "DEFAULT_DURATION",
    "JobSpec",
    "PreparedJob",
    "prepare",
    "submit_once",
    "submit_prepared",
]

DEFAULT_DURATION = 5
#: A text-to-video job's aspect ratio when none is asked for; an image job's is its frame's.
DEFAULT_ASPECT_RATIO = "16:9"
#: Stands in for a local image's presigned URL while the request is checked; the image is
#: uploaded only when the job is really submitted (never for a dry run).
PENDING_IMAGE_URL = "https://first-frame.invalid/pending.png"


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    prompt: str = ""
    shots: tuple[Shot, ...] = ()
    #: A URL the provider can fetch, or the path of a local jpg/png file.
    image: str | None = None
    #: None: the shots' total when there are shots, else 5 seconds.
    duration: int | None = None
    #: None: 16:9 for text-to-video; an image job always takes its first frame's.
    aspect_ratio: str | None = None
    quality: str = "720p"
    model: str | None = None
    negative_prompt: str | None = None
    sound: str | None = None


@dataclass(frozen=True, kw_only=True)
class PreparedJob:
    """A spec that passed every check, with its price and its local image read."""

    request: JobRequest
    image: ImageFacts | None
    credits: float | None
    provider: str


def is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def prepare(
    ctx: Context,
    spec: JobSpec,
    *,
    base_dir: Path | None = None,
    provider_name: str = "evolink",
    images: MutableMapping[Path, ImageFacts] | None = None,
) -> PreparedJob:
    """Check ``spec`` by every rule and price it; raises :class:`ValidationError`.

    Relative image paths are read from ``base_dir`` (a batch file's folder). ``images``
    remembers files already checked, so a batch reads a shared first frame once.
    """
    duration = spec.duration
    if duration is None:
        duration = sum(shot.seconds for shot in spec.shots) or DEFAULT_DURATION
    check_shots(spec.shots, duration)
    prompt = compose_prompt(spec.prompt, spec.shots)
    if not prompt:
        raise ValidationError("prompt", "must not be empty (give a prompt, or shots)")
    if spec.shots and len(prompt) > PROMPT_MAX_CHARS:
        raise ValidationError(
            "prompt",
            f"with its {len(spec.shots)} shots written in, the prompt is {len(prompt)} "
            f"characters; the provider's limit is {PROMPT_MAX_CHARS} (shorten the prompt "
            "or the shots)",
        )
    image: ImageFacts | None = None
    image_url = spec.image
    if image_url is not None and not image_url.strip():
        # Quietly making a text-to-video job of it would not be what was asked.
        raise ValidationError("image", "is empty: give a URL or a file path, or leave it out")
    if image_url is not None and not is_url(image_url):
        check_reachable_store(ctx.settings.s3_endpoint_url, insecure=ctx.settings.insecure)
        try:
            path = Path(image_url).expanduser()
        except RuntimeError:  # "~someone/frame.png" for a user this machine does not know
            raise ValidationError("image", f"no home directory for {image_url!r}") from None
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        image = images.get(path) if images is not None else None
        if image is None:
            image = check_image(path)
            if images is not None:
                images[path] = image
        image_url = PENDING_IMAGE_URL
    aspect_ratio = spec.aspect_ratio or DEFAULT_ASPECT_RATIO
    if image_url is not None:
        if spec.aspect_ratio is not None:
            _check_frame_aspect(spec.aspect_ratio, image)
        # Never sent with a first frame (the provider takes the frame's), so never checked
        # by the provider's list either: the job records the frame's own (jobs.py).
        aspect_ratio = DEFAULT_ASPECT_RATIO
    provider = ctx.provider(provider_name)
    request = provider.validate(
        JobRequest(
            prompt=prompt,
            model=spec.model,
            duration=duration,
            aspect_ratio=aspect_ratio,
            quality=spec.quality,
            image_url=image_url,
            negative_prompt=spec.negative_prompt,
            sound=spec.sound,
        )
    )
    return PreparedJob(
        request=request,
        image=image,
        credits=cost.estimate_credits(provider.name, request),
        provider=provider.name,
    )


def _check_frame_aspect(asked: str, image: ImageFacts | None) -> None:
    """An aspect ratio asked for with a first frame: the provider takes the frame's and
    accepts none (EvoLink's and Kling's image-to-video pages), so only the frame's own
    passes, and only when we can see the frame."""
    if image is None:
        raise ValidationError(
            "aspect_ratio",
            f"{asked!r} cannot apply: an image job's video takes the aspect ratio of its first "
            "frame (the provider accepts none); leave aspect_ratio out",
        )
    frame = frame_aspect(image.width, image.height)
    if asked != frame:
        raise ValidationError(
            "aspect_ratio",
            f"the first frame {image.path.name} is {image.width}x{image.height} ({frame}), and "
            f"the video takes the frame's aspect ratio, not {asked!r}: leave aspect_ratio out, "
            "or give a frame of that shape",
        )


def submit_prepared(
    ctx: Context,
    prepared: PreparedJob,
    *,
    pacer: Pacer | None = None,
    key: IdempotencyKey | None = None,
) -> Job:
    """Upload the local first frame (if any), then submit the job."""
    return submit_once(ctx, prepared, pacer=pacer, key=key).job


def submit_once(
    ctx: Context,
    prepared: PreparedJob,
    *,
    pacer: Pacer | None = None,
    key: IdempotencyKey | None = None,
) -> jobs.Submitted:
    """:func:`submit_prepared`, saying whether ``key`` found an earlier request's job.

    A key already bound is answered before anything else is checked: its job is paid for,
    so neither the budget nor a missing setting may refuse to name it.
    """
    if key is not None:
        with ctx.db.reading() as conn:
            earlier = idempotency.lookup(conn, key)
        if earlier is not None:
            return jobs.replayed(ctx, earlier, key)
    _refuse_early(ctx, prepared)
    request, staged = prepared.request, None
    if prepared.image is not None:
        prefix = ctx.settings.s3_input_prefix
        # Marked as used before the upload is skipped for being there already, so that the
        # input retention (receiver/retention.py) sees the use before it deletes the frame.
        with ctx.db.transaction() as conn:
            conn.execute(
                "touch_staged_input",
                key=staged_key(prepared.image, prefix),
                now=clock.to_db(clock.now()),
            )
        staged = stage_image(
            ctx.store,
            prepared.image,
            prefix=prefix,
            expires_in=int(ctx.settings.image_url_expiry),
        )
        request = dataclasses.replace(request, image_url=staged.url)
    return jobs.submit(
        ctx, request, provider_name=prepared.provider, image=staged, pacer=pacer, key=key
    )


def _refuse_early(ctx: Context, prepared: PreparedJob) -> None:
    """What :func:`jobs.submit_job` would refuse the job for, checked before the image is
    uploaded, so a refused job leaves no object in the bucket.

    ``submit_job`` checks again: the budget's binding check is the one in its transaction.
    """
    ctx.settings.require_public_url()
    ctx.provider(prepared.provider).require_credentials()
    limit = ctx.settings.max_credits_per_day
    if limit is None:
        return
    if prepared.credits is None:
        what = f"{prepared.request.model} on {prepared.provider}"
        raise BudgetUnpriced(limit=limit, what=what)
    with ctx.db.reading() as conn:
        spent = spent_today(conn)
    judge(limit=limit, spent=spent, cost=prepared.credits)
