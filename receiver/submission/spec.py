"""What a person asks for, before it takes the provider's shape.

A :class:`JobSpec` comes from a command line, a row of a batch file or a JSON body: a prompt
and its shots, a first frame given as a URL *or a local file*, and the usual options.
:func:`prepare` checks it by every rule without touching the network (the shots, the image,
the request rules of the provider's model, which the provider owns) and prices it;
:func:`submit_prepared` checks what can refuse the job (settings, credentials, the budget),
uploads the local image, if any, and submits it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from receiver import clock, jobs
from receiver.context import Context
from receiver.errors import ValidationError
from receiver.providers.base import JobRequest
from receiver.providers.evolink_catalogue import CATALOGUE, Entry
from receiver.providers.evolink_models import by_catalogue
from receiver.providers.shots import Shot, check_shots, compose_prompt
from receiver.store.records import Job
from receiver.store.staged_inputs import StagedInputs
from receiver.submission import cost, idempotency
from receiver.submission.budget import BudgetUnpriced, judge, spent_today
from receiver.submission.idempotency import IdempotencyKey
from receiver.submission.images import (
    PENDING_IMAGE_URL,
    ImageFacts,
    check_image,
    check_reachable_store,
    frame_aspect,
    stage_image,
    staged_key,
)
from receiver.submission.pacing import Pacer

__all__ = [
    "JobSpec",
    "PreparedJob",
    "prepare",
    "submit_once",
    "submit_prepared",
]


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    prompt: str = ""
    shots: tuple[Shot, ...] = ()
    #: A URL the provider can fetch, or the path of a local jpg/png file.
    image: str | None = None
    #: None: the shots' total when there are shots, else the model's default (5 seconds).
    duration: int | None = None
    #: None: the model's default (16:9) for text-to-video; an image job takes its frame's.
    aspect_ratio: str | None = None
    #: None: the model's default (720p for the Kling models).
    quality: str | None = None
    model: str | None = None
    negative_prompt: str | None = None
    sound: str | None = None
    #: More fields of the request body, under the provider's names (``--param KEY=VALUE``):
    #: for EvoLink's catalogue models and unknown ones.
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    #: Send a model the provider's table does not know, unchecked and unpriced.
    allow_unknown_model: bool = False


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
    provider = ctx.provider(provider_name)
    if provider.name == "evolink" and by_catalogue(spec.model):
        return _prepare_by_catalogue(ctx, spec, base_dir=base_dir, images=images)
    if spec.params or spec.allow_unknown_model:
        what = "--param" if spec.params else "--allow-unknown-model"
        raise ValidationError(
            "params" if spec.params else "model",
            f"{what} applies to EvoLink's catalogue models; "
            f"{spec.model or 'the default model'} on {provider.name} takes the named options",
        )
    # The limits and defaults are the model's, which its provider knows.
    model = provider.model_spec(spec.model, image=spec.image is not None)
    duration = spec.duration
    if duration is None:
        duration = sum(shot.seconds for shot in spec.shots) or model.default_duration
    check_shots(spec.shots, duration, max_shots=model.max_shots)
    prompt = compose_prompt(spec.prompt, spec.shots)
    if not prompt:
        raise ValidationError("prompt", "must not be empty (give a prompt, or shots)")
    if spec.shots and len(prompt) > model.prompt_max_chars:
        raise ValidationError(
            "prompt",
            f"with its {len(spec.shots)} shots written in, the prompt is {len(prompt)} "
            f"characters; the provider's limit is {model.prompt_max_chars} (shorten the prompt "
            "or the shots)",
        )
    image_url, image = _first_frame(ctx, spec.image, base_dir=base_dir, images=images)
    aspect_ratio = spec.aspect_ratio or model.default_aspect_ratio
    if image_url is not None:
        if spec.aspect_ratio is not None:
            _check_frame_aspect(spec.aspect_ratio, image)
        # Never sent with a first frame (the provider takes the frame's), so never checked
        # by the provider's list either: the job records the frame's own (jobs.py).
        aspect_ratio = model.default_aspect_ratio
    request = provider.validate(
        JobRequest(
            prompt=prompt,
            model=spec.model,
            duration=duration,
            aspect_ratio=aspect_ratio,
            quality=spec.quality or model.default_quality,
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


def _first_frame(
    ctx: Context,
    given: str | None,
    *,
    base_dir: Path | None,
    images: MutableMapping[Path, ImageFacts] | None,
) -> tuple[str | None, ImageFacts | None]:
    """The image's URL as the request will name it until it is staged, and the local
    file's facts (None for a URL)."""
    if given is None:
        return None, None
    if not given.strip():
        # Quietly making a text-to-video job of it would not be what was asked.
        raise ValidationError("image", "is empty: give a URL or a file path, or leave it out")
    if is_url(given):
        return given, None
    check_reachable_store(ctx.settings.s3_endpoint_url, insecure=ctx.settings.insecure)
    try:
        path = Path(given).expanduser()
    except RuntimeError:  # "~someone/frame.png" for a user this machine does not know
        raise ValidationError("image", f"no home directory for {given!r}") from None
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    image = images.get(path) if images is not None else None
    if image is None:
        image = check_image(path)
        if images is not None:
            images[path] = image
    return PENDING_IMAGE_URL, image


def _prepare_by_catalogue(
    ctx: Context,
    spec: JobSpec,
    *,
    base_dir: Path | None,
    images: MutableMapping[Path, ImageFacts] | None,
) -> PreparedJob:
    """:func:`prepare` for an EvoLink model checked by its catalogue entry (or unknown, and
    allowed): the named options become the body's fields the entry has, ``params`` add
    the others, and the entry's rules judge the whole."""
    assert spec.model is not None  # by_catalogue() says so
    entry = CATALOGUE.get(spec.model)
    if spec.shots:
        raise ValidationError(
            "shots",
            f"{spec.model} takes no shots from --shot: write them in the prompt, or pass the "
            "model's own fields (e.g. --param model_params.multi_prompt=[...])",
        )
    image_url, image = _first_frame(ctx, spec.image, base_dir=base_dir, images=images)
    named: dict[str, Any] = {
        "prompt": spec.prompt.strip() or None,
        "duration": spec.duration,
        "quality": spec.quality,
        "aspect_ratio": spec.aspect_ratio,
        "negative_prompt": spec.negative_prompt,
        **_image_field(entry, spec.model, image_url),
        **_sound_field(entry, spec.model, spec.sound),
    }
    fields = {name: value for name, value in named.items() if value is not None}
    if twice := sorted(set(fields) & set(spec.params)):
        raise ValidationError(twice[0], "is given twice: as an option and with --param")
    fields.update(spec.params)
    provider = ctx.provider("evolink")
    request = provider.validate(
        JobRequest(
            prompt=spec.prompt.strip(),
            model=spec.model,
            image_url=image_url,
            negative_prompt=spec.negative_prompt,
            sound=spec.sound,
            params=fields,
            allow_unknown_model=spec.allow_unknown_model,
            **_summary(entry, fields),
        )
    )
    return PreparedJob(
        request=request,
        image=image,
        credits=cost.estimate_credits(provider.name, request),
        provider=provider.name,
    )


def _image_field(entry: Entry | None, model: str, url: str | None) -> dict[str, Any]:
    """``--image`` under the name the model takes a first image by."""
    if url is None:
        return {}
    if entry is not None and "image_start" in entry.fields:
        return {"image_start": url}
    if entry is None or "image_urls" in entry.fields:
        return {"image_urls": [url]}
    raise ValidationError("image", f"{model} takes no image")


def _sound_field(entry: Entry | None, model: str, sound: str | None) -> dict[str, Any]:
    """``--sound on|off`` as the model's ``sound`` string or ``generate_audio`` flag."""
    if sound is None:
        return {}
    if sound not in {"on", "off"}:
        raise ValidationError("sound", f"must be 'on' or 'off', got {sound!r}")
    if entry is None or "sound" in entry.fields:
        return {"sound": sound}
    if "generate_audio" in entry.fields:
        return {"generate_audio": sound == "on"}
    if sound == "off":
        return {}
    raise ValidationError("sound", f"{model} makes no sound (it has no sound field)")


def _summary(entry: Entry | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The named fields a job's record shows, read from the body (or the entry's defaults)."""
    defaults = entry.defaults if entry is not None else {}
    duration = fields.get("duration", defaults.get("duration"))
    quality = fields.get("quality", defaults.get("quality"))
    aspect_ratio = fields.get("aspect_ratio", defaults.get("aspect_ratio"))
    return {
        # 0: the model decides the length (-1, "auto", the input's length).
        "duration": duration if isinstance(duration, int) and duration > 0 else 0,
        "quality": quality if isinstance(quality, str) else "",
        "aspect_ratio": aspect_ratio if isinstance(aspect_ratio, str) else "",
    }


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
            StagedInputs(conn).touch(staged_key(prepared.image, prefix), now=clock.now())
        staged = stage_image(
            ctx.store,
            prepared.image,
            prefix=prefix,
            expires_in=int(ctx.settings.image_url_expiry),
        )
        request = _with_image_url(request, staged.url)
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


def _with_image_url(request: JobRequest, url: str) -> JobRequest:
    """The request naming the staged image ``url`` wherever it named the pending one."""

    def staged(value: Any) -> Any:
        if value == PENDING_IMAGE_URL:
            return url
        if isinstance(value, list):
            return [staged(item) for item in value]
        return value

    params = {name: staged(value) for name, value in request.params.items()}
    return dataclasses.replace(request, image_url=url, params=params)
