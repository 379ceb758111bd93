"""Each provider's models as data: the tables, the lookup, and who reads them."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver import providers
from receiver.config import Settings
from receiver.context import Context
from receiver.errors import ValidationError
from receiver.providers import evolink_models, kling_models
from receiver.providers.models import Durations, ModelSpec, PerSecondPrice
from receiver.providers.shots import Shot
from receiver.submission import cost
from receiver.submission.spec import JobSpec, prepare
from tests.conftest import make_env

PROVIDERS_DIR = Path(providers.__file__).parent


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    context = Context(Settings.from_env(make_env(tmp_path)))
    yield context
    context.close()


def test_durations_are_ranges_or_sets() -> None:
    assert Durations.between(3, 15).describe() == "between 3 and 15 seconds"
    assert Durations.of(5, 10).describe() == "5 or 10 seconds"
    assert Durations.of(8).describe() == "8 seconds"
    assert 7 in Durations.between(3, 15)
    assert 7 not in Durations.of(5, 10)
    with pytest.raises(ValueError, match="increasing"):
        Durations.of(10, 5)


def test_a_model_whose_default_it_does_not_allow_is_refused() -> None:
    spec = evolink_models.MODELS[evolink_models.DEFAULT_TEXT_MODEL]
    with pytest.raises(ValueError, match="default quality"):
        dataclasses.replace(spec, default_quality="4k")


def test_per_second_prices_round_in_decimal() -> None:
    price = evolink_models.PRICES["kling-v3-turbo-text-to-video"]
    assert price.credits(duration=7, quality="720p") == 50.4
    assert price.credits(duration=1, quality="1080p") == 27.0  # billed as 3 s
    assert PerSecondPrice(credits_per_second=2.5).credits(duration=4, quality="4k") == 10.0


def test_kling_v3_stands_in_with_evolinks_price_for_both_inputs() -> None:
    # One Kling model serves text and first frame; its stand-in holds only while EvoLink
    # prices its two kling-v3 models alike.
    text = evolink_models.MODELS["kling-v3-text-to-video"].price
    image = evolink_models.MODELS["kling-v3-image-to-video"].price
    assert text == image
    assert kling_models.MODELS["kling-v3"].price == text
    assert [name for name, m in kling_models.MODELS.items() if m.price is not None] == ["kling-v3"]


@pytest.mark.parametrize(
    ("provider", "model", "image", "expected"),
    [
        ("evolink", None, False, "kling-v3-turbo-text-to-video"),
        ("evolink", None, True, "kling-v3-turbo-image-to-video"),
        ("evolink", "kling-v3-text-to-video", False, "kling-v3-text-to-video"),
        ("kling", None, True, "kling-v3"),
        ("kling", "kling-v3-image-to-video", True, "kling-v3"),
        ("kling", "kling-v2-6", False, "kling-v2-6"),
    ],
)
def test_each_provider_names_its_models_rules(
    ctx: Context, provider: str, model: str | None, image: bool, expected: str
) -> None:
    spec = ctx.provider(provider).model_spec(model, image=image)
    assert spec.name == expected
    assert providers.models_of(provider)[expected] is spec


@pytest.mark.parametrize("provider", providers.PROVIDER_NAMES)
def test_an_unknown_model_is_refused_by_its_provider(ctx: Context, provider: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ctx.provider(provider).model_spec("sora-9", image=False)
    assert caught.value.field == "model"


def test_an_unknown_provider_has_no_models_and_no_prices() -> None:
    assert providers.models_of("nobody") == {}


class _Strict:
    """A provider whose one model is stricter than any real one."""

    def __init__(self, inner: providers.Provider) -> None:
        self._inner = inner
        self.name = inner.name

    def model_spec(self, model: str | None, *, image: bool) -> ModelSpec:
        spec = self._inner.model_spec(model, image=image)
        return dataclasses.replace(
            spec, prompt_max_chars=40, max_shots=2, default_duration=spec.durations.high
        )

    def validate(self, request: providers.JobRequest) -> providers.JobRequest:
        return self._inner.validate(request)


def test_the_submission_reads_the_chosen_models_limits(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = _Strict(ctx.provider("evolink"))
    monkeypatch.setattr(ctx, "provider", lambda _name: strict)
    assert prepare(ctx, JobSpec(prompt="a fox")).request.duration == 15
    with pytest.raises(ValidationError, match="at most 2 shots, got 3"):
        prepare(ctx, JobSpec(prompt="a fox", shots=(Shot(1, "a"), Shot(1, "b"), Shot(1, "c"))))
    with pytest.raises(ValidationError, match="the provider's limit is 40"):
        prepare(ctx, JobSpec(prompt="a fox", shots=(Shot(2, "w" * 40),)))


def test_estimates_read_the_models_price_and_refuse_unvalidated_requests() -> None:
    request = providers.JobRequest(prompt="a", model="kling-v3", duration=10, quality="1080p")
    assert cost.estimate_credits("kling", request) == 90.0
    assert cost.estimate_credits("nobody", request) is None
    with pytest.raises(ValueError, match="validated first"):
        cost.estimate_credits("evolink", providers.JobRequest(prompt="a"))


def _imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("path", sorted(PROVIDERS_DIR.glob("*.py")), ids=lambda path: path.name)
def test_providers_import_nothing_above_them(path: Path) -> None:
    # The boundary: providers know the wire and their own rules, never the submission,
    # the store, the archive or the web app (the cycle through submission.shots is gone).
    allowed = ("receiver.providers", "receiver.errors", "receiver.config")
    inner = [
        name
        for name in _imported_modules(path)
        if name.startswith("receiver") and not name.startswith(allowed)
    ]
    assert inner == []
