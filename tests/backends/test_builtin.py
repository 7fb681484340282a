"""The built-in backend, loaded from a tiny random-weight model saved in the shipped format."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from clipforge.backends.builtin.attention import TextCondition, TokenPooling
from clipforge.backends.builtin.attributes import AttributeReader
from clipforge.backends.builtin.backend import GUIDANCE, BuiltinBackend, describe
from clipforge.backends.builtin.colour_names import COLOUR_FEATURES
from clipforge.backends.builtin.model import BuiltinConfig, ClipUNet
from clipforge.backends.builtin.weights import load_model, save_weights
from clipforge.backends.geometry import native_size
from clipforge.backends.registry import default_registry
from clipforge.errors import JobCancelled, ModelUnavailable
from clipforge.schemas import FRAME_SIZES, AspectRatio, GenerationRequest, Resolution
from clipforge.settings import Settings

TINY = BuiltinConfig(frames=4, channels=(16, 32), blocks_per_level=1, cond_dim=32)


def random_tiny_model(config: BuiltinConfig = TINY) -> ClipUNet:
    """Seeded random weights; the zero-initialised output layers too, which would otherwise
    make every clip identical."""
    torch.manual_seed(0)
    model = ClipUNet(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    return model.eval()


@pytest.fixture(scope="module")
def tiny_builtin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = random_tiny_model()
    folder = tmp_path_factory.mktemp("builtin")
    save_weights(model, folder)
    return folder


@pytest.fixture(scope="module")
def backend(tiny_builtin_path: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltinBackend:
    settings = Settings(
        backend="builtin",
        model=str(tiny_builtin_path),
        device="cpu",
        num_inference_steps=3,
        data_dir=tmp_path_factory.mktemp("data"),
    )
    created = default_registry().create("builtin", settings)
    assert isinstance(created, BuiltinBackend)
    return created


def request(**fields: object) -> GenerationRequest:
    values: dict[str, object] = {
        "model": "bytedance/seedance-1-0-pro-t2v",
        "prompt": "a red circle moving to the left",
        "seed": 5,
        "resolution": "480p",
    }
    values.update(fields)
    return GenerationRequest.model_validate(values)


def frames(backend: BuiltinBackend, req: GenerationRequest) -> np.ndarray:
    clip = backend.generate(req, lambda step, total: None)
    return np.stack(list(clip.frames))


@pytest.mark.parametrize("resolution", list(Resolution))
@pytest.mark.parametrize("ratio", list(AspectRatio))
def test_native_size_keeps_the_aspect_ratio(resolution: Resolution, ratio: AspectRatio) -> None:
    width, height = FRAME_SIZES[resolution][ratio]
    config = BuiltinConfig()
    native_w, native_h = native_size(width, height, config.short_side, config.size_multiple)
    assert min(native_w, native_h) == 32 and config.size_multiple == 4
    assert native_w % 4 == 0 and native_h % 4 == 0
    assert abs(native_w / native_h - width / height) < 0.1 * width / height


def test_generate_gives_the_planned_frames(backend: BuiltinBackend) -> None:
    req = request(aspect_ratio="9:16", duration=10)
    plan = backend.plan(req)
    out = frames(backend, req)
    assert out.shape == (TINY.frames, plan.height, plan.width, 3)
    assert out.dtype == np.uint8
    # 480 x 864 at a 32 px short side; sides are multiples of the net's own (2 for two levels)
    assert TINY.size_multiple == 2 and (plan.width, plan.height) == (32, 58)
    assert plan.fps == pytest.approx((TINY.frames - 1) / 10)


def test_same_seed_same_frames_other_seed_other_frames(backend: BuiltinBackend) -> None:
    first = frames(backend, request())
    assert np.array_equal(first, frames(backend, request()))
    assert not np.array_equal(first, frames(backend, request(seed=6)))


def test_settings_guidance_scale_overrides_the_builtin_default(
    backend: BuiltinBackend, tiny_builtin_path: Path, tmp_path: Path
) -> None:
    settings = Settings(
        backend="builtin",
        model=str(tiny_builtin_path),
        device="cpu",
        num_inference_steps=3,
        guidance_scale=1.0,
        data_dir=tmp_path,
    )
    unguided = default_registry().create("builtin", settings)
    assert isinstance(unguided, BuiltinBackend)
    assert (unguided.guidance, backend.guidance) == (1.0, GUIDANCE)
    assert not np.array_equal(frames(unguided, request()), frames(backend, request()))


def test_prompt_and_camera_flag_are_conditioning(backend: BuiltinBackend) -> None:
    base = frames(backend, request())
    assert not np.array_equal(base, frames(backend, request(prompt="a blue square rising")))
    assert not np.array_equal(base, frames(backend, request(camera_fixed=True)))


def test_progress_reports_every_step_and_can_cancel(backend: BuiltinBackend) -> None:
    seen: list[tuple[int, int]] = []
    backend.generate(request(), lambda step, total: seen.append((step, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]

    def cancel(step: int, total: int) -> None:
        if step == 1:
            raise JobCancelled("stop")

    with pytest.raises(JobCancelled):
        backend.generate(request(), cancel)


def test_missing_weights_say_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"python -m training\.train"):
        load_model(tmp_path)


def test_weights_round_trip_in_half_precision(tiny_builtin_path: Path) -> None:
    model = load_model(tiny_builtin_path)
    assert model.config == TINY
    assert all(p.dtype == torch.float32 for p in model.parameters())


@pytest.mark.parametrize("position_inputs", [True, False])
def test_position_inputs_tell_the_net_where_it_is(position_inputs: bool) -> None:
    """Without them a featureless frame gives the same output at every interior pixel (a
    convolutional net is translation-equivariant); with them the output depends on where."""
    model = random_tiny_model(replace(TINY, position_inputs=position_inputs))
    with torch.no_grad():
        text = model.null_text(1)
        blank = torch.zeros(1, 3 * TINY.frames, 128, 128)
        out = model(blank, torch.tensor([0.5]), text, torch.zeros(1))
    interior = out[0, :, 56:72, 56:72]  # beyond the reach of the zero padding
    spread = (interior - interior[:, :1, :1]).abs().max().item()
    assert (spread > 1e-3) is position_inputs


def test_a_config_round_trips_and_an_unknown_field_is_refused() -> None:
    saved = TINY.to_dict()
    assert BuiltinConfig.from_dict(json.loads(json.dumps(saved))) == TINY
    with pytest.raises(TypeError):
        BuiltinConfig.from_dict({**saved, "prediction": "velocity"})


def test_attribute_reader_round_trips_through_the_shipped_format(tmp_path: Path) -> None:
    attributes = {"colour": ("red", "blue"), "motion": ("left", "right", "still")}
    model = random_tiny_model(replace(TINY, attributes=attributes))
    save_weights(model, tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.config.attributes == attributes
    assert loaded.attribute_reader is not None
    mask = torch.ones(4, 5, dtype=torch.bool)
    colours = torch.zeros(4, 5, COLOUR_FEATURES)
    colours[:, 2] = torch.cat([torch.randn(4, 3), torch.ones(4, 1)], dim=1)  # a colour name
    prompt = TextCondition(
        torch.randn(4, TINY.text_dim), torch.randn(4, 5, TINY.text_dim), mask, colours
    )
    with torch.no_grad():
        assert torch.allclose(
            loaded.attribute_reader(prompt), model.attribute_reader(prompt), atol=1e-2
        )
        fresh = ClipUNet(replace(TINY, attributes=attributes)).attribute_reader
        assert fresh is not None  # without the saved colour-name weights, it reads otherwise
        fresh.load_state_dict(
            {
                k: v
                for k, v in model.attribute_reader.state_dict().items()
                if "colour_names" not in k
            },
            strict=False,
        )
        assert not torch.allclose(fresh(prompt), model.attribute_reader(prompt), atol=1e-2)
    rows = loaded.attribute_reader.read(prompt)
    assert len(rows) == 4
    assert all(
        row["colour"] in attributes["colour"] and row["motion"] in attributes["motion"]
        for row in rows
    )


def test_reader_only_rows_see_the_prompt_through_the_reader_alone() -> None:
    model = random_tiny_model(replace(TINY, attributes={"colour": ("red", "blue")}))
    x, t, camera = torch.randn(1, 3 * TINY.frames, 16, 16), torch.tensor([0.5]), torch.zeros(1)
    tokens, mask = torch.randn(1, 4, TINY.text_dim), torch.ones(1, 4, dtype=torch.bool)
    text = TextCondition.plain(torch.randn(1, TINY.text_dim), tokens, mask)
    other_pooled = TextCondition.plain(torch.randn(1, TINY.text_dim), tokens, mask)
    with torch.no_grad():
        for only, same in ((torch.tensor([True]), True), (None, False)):
            first = model(x, t, text, camera, only)
            assert torch.allclose(first, model(x, t, other_pooled, camera, only)) == same


def token_pooling() -> torch.nn.Module:
    pooling = TokenPooling(text_dim=8, cond_dim=4, heads=2)
    with torch.no_grad():
        pooling.out.weight.normal_()  # the output layer starts at zero
    return pooling


def attribute_reader() -> torch.nn.Module:
    return AttributeReader({"colour": ("red", "blue", "green")}, text_dim=8, cond_dim=4)


@pytest.mark.parametrize("make", [token_pooling, attribute_reader])
def test_token_readers_read_real_tokens_and_ignore_padding(
    make: Callable[[], torch.nn.Module],
) -> None:
    torch.manual_seed(0)
    read = make()
    tokens = torch.randn(1, 3, 8)
    real = TextCondition.plain(torch.zeros(1, 8), tokens, torch.ones(1, 3, dtype=torch.bool))
    padded_tokens = torch.cat([tokens, torch.randn(1, 2, 8) * 10], dim=1)
    padded_mask = torch.tensor([[True, True, True, False, False]])
    padded = TextCondition.plain(torch.zeros(1, 8), padded_tokens, padded_mask)
    other = TextCondition.plain(torch.zeros(1, 8), torch.randn(1, 3, 8), real.mask)
    with torch.no_grad():
        assert torch.allclose(read(real), read(padded), atol=1e-6)
        assert not torch.allclose(read(real), read(other), atol=1e-3)


def test_generation_logs_what_the_model_read_from_the_prompt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    attributes = {"colour": ("red", "blue"), "motion": ("left", "right")}
    model = random_tiny_model(replace(TINY, attributes=attributes))
    save_weights(model, tmp_path / "weights")
    settings = Settings(
        backend="builtin",
        model=str(tmp_path / "weights"),
        device="cpu",
        num_inference_steps=2,
        data_dir=tmp_path / "data",
    )
    backend = default_registry().create("builtin", settings)
    with caplog.at_level("INFO", logger="clipforge.backends.builtin.backend"):
        reading = backend.interpret(request())
    [line] = [r.getMessage() for r in caplog.records if "reads the prompt" in r.getMessage()]
    assert re.fullmatch(
        r"builtin model reads the prompt as colour=(red|blue), motion=(left|right); "
        r"unused words: .+",
        line,
    )
    assert reading.attributes is not None and set(reading.attributes) == {"colour", "motion"}
    assert reading.prompt == describe(reading.attributes)


def test_the_shipped_model_says_what_it_read_and_which_words_it_did_not_use() -> None:
    from clipforge.backends.builtin.backend import BuiltinBackend
    from clipforge.settings import Settings

    backend = BuiltinBackend.from_settings(Settings(device="cpu"))
    reading = backend.interpret(
        request(prompt="a red circle moving to the left, with a dragon and fireworks")
    )
    assert (reading.attributes["colour"], reading.attributes["shape"]) == ("red", "circle")
    assert reading.attributes["motion"] == "left"
    assert reading.prompt.startswith("colour red, shape circle, motion left")
    assert "dragon" in reading.unused_words  # a hint by attention: not every such word
    assert not {"red", "circle", "left", "a", "the", "with"} & set(reading.unused_words)
    as_dict = reading.as_dict()
    assert as_dict["attributes"] == reading.attributes and "negative_prompt" not in as_dict
