"""EvoLink's catalogue models through the submission path: ``prepare`` checks and prices
them by their entry, the client builds their body for their endpoint, an unknown model goes
only when allowed, and the four Kling models keep their named fields."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver.cli.models import parse_params
from receiver.config import Settings
from receiver.context import Context
from receiver.errors import ValidationError
from receiver.providers.base import JobRequest
from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import OneOf, Text
from receiver.providers.evolink_catalogue.validation import check_fields
from receiver.providers.evolink_protocol import endpoint_for, request_body, validate_request
from receiver.submission.spec import JobSpec, _with_image_url, prepare
from tests.conftest import make_env


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = Context(Settings.from_env(make_env(tmp_path)))
    yield context
    context.close()


def test_a_seedance_job_is_checked_priced_and_built_by_its_entry(ctx: Context) -> None:
    spec = JobSpec(
        prompt=" a fox in the snow ",
        model="seedance-2.0-text-to-video",
        duration=8,
        quality="1080p",
        aspect_ratio="21:9",
        sound="off",
    )
    prepared = prepare(ctx, spec)
    request = prepared.request
    assert (request.prompt, request.duration, request.quality) == ("a fox in the snow", 8, "1080p")
    # 13.5 credits/s x 8 s x 2.5 at 1080p.
    assert prepared.credits == 270.0
    assert request_body(request, callback_url="https://r.example/cb") == {
        "model": "seedance-2.0-text-to-video",
        "prompt": "a fox in the snow",
        "duration": 8,
        "quality": "1080p",
        "aspect_ratio": "21:9",
        "generate_audio": False,
        "callback_url": "https://r.example/cb",
    }
    assert endpoint_for(request) == "/v1/videos/generations"


def test_a_broken_rule_names_the_field_and_the_models_rule(ctx: Context) -> None:
    spec = JobSpec(prompt="a fox", model="seedance-2.0-text-to-video", duration=20)
    with pytest.raises(ValidationError) as refused:
        prepare(ctx, spec)
    assert refused.value.field == "duration"
    assert "seedance-2.0-text-to-video takes a whole number from 4 to 15, got 20" in str(
        refused.value
    )


def test_the_image_goes_where_the_model_takes_it(ctx: Context) -> None:
    url = "https://example.com/frame.png"
    seedance = prepare(ctx, JobSpec(prompt="a", model="seedance-2.0-image-to-video", image=url))
    assert seedance.request.params["image_urls"] == [url]
    wan = prepare(ctx, JobSpec(prompt="a", model="wan3.0-image-to-video", image=url))
    assert wan.request.params["image_start"] == url
    with pytest.raises(ValidationError, match="takes no image") as refused:
        prepare(ctx, JobSpec(prompt="a", model="wan3.0-text-to-video", image=url))
    assert refused.value.field == "image"


def test_a_staged_image_replaces_the_pending_one_in_the_body() -> None:
    request = JobRequest(
        prompt="a",
        model="seedance-2.0-image-to-video",
        image_url="https://first-frame.invalid/pending.png",
        params={"prompt": "a", "image_urls": ["https://first-frame.invalid/pending.png"]},
    )
    staged = _with_image_url(request, "https://bucket/x.png?sig=1")
    assert staged.params["image_urls"] == ["https://bucket/x.png?sig=1"]
    # The record never keeps the presigned URL in the body.
    assert staged.as_params()["params"]["image_urls"] == ["(image_url)"]


def test_params_add_the_models_other_fields_and_are_checked(ctx: Context) -> None:
    spec = JobSpec(
        prompt="a heron",
        model="veo-3.1-generate-preview",
        params={"n": 2, "seed": 7, "generate_audio": False},
    )
    assert prepare(ctx, spec).request.params["n"] == 2
    with pytest.raises(ValidationError) as refused:
        prepare(ctx, JobSpec(prompt="a", model="veo-3.1-generate-preview", params={"n": 5}))
    assert refused.value.field == "n"
    with pytest.raises(ValidationError, match="given twice"):
        prepare(
            ctx, JobSpec(prompt="a", model="sora-2-preview", duration=4, params={"duration": 8})
        )


def test_image_and_audio_models_go_to_their_endpoints(ctx: Context) -> None:
    image = prepare(ctx, JobSpec(prompt="a bowl", model="gpt-image-2", params={"n": 4}))
    assert endpoint_for(image.request) == "/v1/images/generations"
    assert image.credits is None  # the reference gives no price
    song = prepare(ctx, JobSpec(prompt="a song", model="suno-v5-beta"))
    assert endpoint_for(song.request) == "/v1/audios/generations"
    assert song.credits == 8.0


def test_an_unknown_model_is_refused_unless_allowed_and_then_unpriced(ctx: Context) -> None:
    with pytest.raises(ValidationError, match="--allow-unknown-model") as refused:
        prepare(ctx, JobSpec(prompt="a", model="seedance-9.0"))
    assert refused.value.field == "model"
    spec = JobSpec(
        prompt="a",
        model="seedance-9.0",
        allow_unknown_model=True,
        params={"n": 2, "model_params": {"x": True}},
        image="https://example.com/a.png",
    )
    prepared = prepare(ctx, spec)
    assert prepared.credits is None
    assert request_body(prepared.request, callback_url="https://c") == {
        "model": "seedance-9.0",
        "prompt": "a",
        "image_urls": ["https://example.com/a.png"],
        "n": 2,
        "model_params": {"x": True},
        "callback_url": "https://c",
    }
    assert endpoint_for(prepared.request) == "/v1/videos/generations"


def test_the_kling_models_keep_their_named_fields(ctx: Context) -> None:
    prepared = prepare(ctx, JobSpec(prompt="a fox"))
    assert prepared.request.model == "kling-v3-turbo-text-to-video"
    assert prepared.request.quality == "720p"
    assert prepared.credits == 36.0
    assert prepared.request.params == {}
    with pytest.raises(ValidationError, match="named options"):
        validate_request(
            JobRequest(prompt="a", model="kling-v3-turbo-text-to-video", params={"n": 2})
        )
    with pytest.raises(ValidationError, match="catalogue models"):
        prepare(ctx, JobSpec(prompt="a", params={"n": 2}))
    with pytest.raises(ValidationError, match="catalogue models"):
        prepare(
            ctx,
            JobSpec(prompt="a", model="kling-v9", allow_unknown_model=True),
            provider_name="kling",
        )


def test_shots_are_for_the_kling_models(ctx: Context) -> None:
    from receiver.providers.shots import Shot

    spec = JobSpec(model="seedance-2.0-text-to-video", shots=(Shot(2, "a"), Shot(3, "b")))
    with pytest.raises(ValidationError) as refused:
        prepare(ctx, spec)
    assert refused.value.field == "shots"


def test_a_lenient_rule_lets_an_unconfirmed_fact_pass() -> None:
    entry = Entry(
        model="m",
        kind="image",
        page="p",
        fields={"prompt": Text(), "size": OneOf(values=("1:1",), lenient=True)},
        unconfirmed=("the sizes are UNCONFIRMED",),
    )
    assert check_fields(entry, {"prompt": "a", "size": "3:2"}) == {"prompt": "a", "size": "3:2"}


@pytest.mark.parametrize(
    ("items", "params"),
    [
        (["n=2"], {"n": 2}),
        (["seed=07"], {"seed": "07"}),  # not JSON: kept as text
        (["style=lo-fi"], {"style": "lo-fi"}),
        (['image_urls=["https://a/b.png"]'], {"image_urls": ["https://a/b.png"]}),
        (
            ["model_params.web_search=true", "model_params.thinking_level=high"],
            {"model_params": {"web_search": True, "thinking_level": "high"}},
        ),
        (["title=a=b"], {"title": "a=b"}),
    ],
)
def test_params_are_json_or_text_with_dotted_keys_nested(
    items: list[str], params: dict[str, object]
) -> None:
    assert parse_params(items) == params


@pytest.mark.parametrize("items", [["n"], ["=2"], ["n=1", "n=2"], ["a=1", "a.b=2"]])
def test_malformed_params_are_refused(items: list[str]) -> None:
    with pytest.raises(ValidationError):
        parse_params(items)


def test_requests_differing_only_in_params_are_different_requests(
    ctx: Context, tmp_path: Path
) -> None:
    from PIL import Image

    from receiver.submission.idempotency import fingerprint

    def veo(**params: object) -> str:
        spec = JobSpec(prompt="a heron", model="veo-3.1-generate-preview", params=params)
        return fingerprint(prepare(ctx, spec))

    assert veo(n=2, seed=7) == veo(seed=7, n=2)
    assert veo(n=2, seed=7) != veo(n=2, seed=8)
    assert veo(n=2) != veo(n=1)
    # A local image is named by its content wherever the body takes it, not by the
    # placeholder that stands in for its URL until it is staged.
    frames = []
    for colour in ("red", "blue"):
        path = tmp_path / f"{colour}.png"
        Image.new("RGB", (640, 360), colour).save(path)
        frames.append(str(path))
    seedance = "seedance-2.0-image-to-video"
    red, blue = (
        fingerprint(prepare(ctx, JobSpec(prompt="a heron", model=seedance, image=frame)))
        for frame in frames
    )
    assert red != blue
