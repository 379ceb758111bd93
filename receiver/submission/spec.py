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

from receiver import jobs
from receiver.context import Context
from receiver.errors import ValidationError
from receiver.providers.base import JobRequest
from receiver.providers.evolink_protocol import PROMPT_MAX_CHARS
from receiver.store.records import Job
from receiver.submission import cost
from receiver.submission.budget import BudgetUnpriced, judge, spent_today
from receiver.submission.images import (
    ImageFacts,
    check_image,
    check_reachable_store,
    stage_image,
)
from receiver.submission.pacing import Pacer
from receiver.submission.shots import Shot, check_shots, compose_prompt

__all__ = ["DEFAULT_DURATION", "JobSpec", "PreparedJob", "prepare", "submit_prepared"]

DEFAULT_DURATION = 5
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
    aspect_ratio: str = "16:9"
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
    provider = ctx.provider(provider_name)
    request = provider.validate(
        JobRequest(
            prompt=prompt,
            model=spec.model,
            duration=duration,
            aspect_ratio=spec.aspect_ratio,
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


def submit_prepared(ctx: Context, prepared: PreparedJob, *, pacer: Pacer | None = None) -> Job:
    """Upload the local first frame (if any), then submit the job."""
    _refuse_early(ctx, prepared)
    request, staged = prepared.request, None
    if prepared.image is not None:
        staged = stage_image(
            ctx.store,
            prepared.image,
            prefix=ctx.settings.s3_input_prefix,
            expires_in=int(ctx.settings.image_url_expiry),
        )
        request = dataclasses.replace(request, image_url=staged.url)
    return jobs.submit_job(ctx, request, provider_name=prepared.provider, image=staged, pacer=pacer)


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
