"""DiffusersBackend against tiny Wan and LTX pipelines, loaded as users load real weights."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from clipforge.backends.base import Clip
from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.catalog import capabilities_for
from clipforge.backends.diffusers.families import LTX, WAN, detect_family, generic_family
from clipforge.backends.diffusers.inputs import (
    CAMERA_FIXED_SUFFIX,
    augment_prompt,
    native_frame_count,
)
from clipforge.backends.diffusers.loading import resolve_dtype
from clipforge.backends.diffusers.rules import ModelFamily
from clipforge.backends.registry import default_registry
from clipforge.errors import GenerationFailed, JobCancelled, ModelUnavailable
from clipforge.schemas import DURATIONS, AspectRatio, GenerationRequest, Resolution
from clipforge.settings import Settings
from clipforge.worker.plan import draft_steps
from tests.conftest import make_tiny_settings

COMBINATIONS = list(itertools.product(Resolution, AspectRatio))
FAMILIES = {"wan": WAN, "ltx": LTX}


def _request(**fields: Any) -> GenerationRequest:
    values: dict[str, Any] = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a red ball"}
    return GenerationRequest(**(values | fields))


def _ignore(step: int, total: int) -> None:
    pass


def _frames(clip: Clip) -> np.ndarray:
    return np.stack(list(clip.frames))


@pytest.fixture(scope="module", params=["wan", "ltx"])
def backend(
    request: pytest.FixtureRequest, tiny_settings: Callable[..., Settings]
) -> Iterator[DiffusersBackend]:
    path = request.getfixturevalue(f"tiny_{request.param}_path")
    backend = DiffusersBackend.from_settings(tiny_settings(path))
    yield backend
    backend.close()


def _variant(backend: DiffusersBackend, **overrides: Any) -> DiffusersBackend:
    """The same warm pipeline under other settings."""
    settings = backend.settings.model_copy(update=overrides)
    return DiffusersBackend(backend.pipeline, settings, backend.device)


# --- loading -------------------------------------------------------------------------------


def test_family_is_detected_from_the_pipeline_class(backend: DiffusersBackend) -> None:
    expected = WAN if type(backend.pipeline).__name__ == "WanPipeline" else LTX
    assert backend.family == expected
    assert backend.capabilities.fps == expected.fps
    assert backend.device == torch.device("cpu")
    assert backend.pipeline.transformer.dtype == torch.float32


def test_generic_family_agrees_with_the_table(backend: DiffusersBackend) -> None:
    generic = generic_family(backend.pipeline)
    assert generic.size_multiple == backend.family.size_multiple
    assert generic.frame_step == backend.family.frame_step


def test_a_coarser_vae_makes_the_family_rules_coarser(tiny_wan_path: Path) -> None:
    from diffusers import DiffusionPipeline

    pipeline = DiffusionPipeline.from_pretrained(tiny_wan_path, local_files_only=True)
    assert detect_family(pipeline) == WAN
    pipeline.vae_scale_factor_spatial = 16  # what Wan 2.2 TI2V-5B's VAE reports
    assert detect_family(pipeline).size_multiple == 32


def test_registry_loads_it_the_way_serve_does(
    tiny_ltx_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    backend = default_registry().create("diffusers", tiny_settings(tiny_ltx_path))
    assert isinstance(backend, DiffusersBackend)
    assert backend.family == LTX


def test_no_model_configured_names_the_setting() -> None:
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_MODEL") as caught:
        DiffusersBackend.from_settings(Settings(model=None, device="cpu"))
    assert "--model" in str(caught.value)


def test_missing_folder_names_the_path_and_the_setting(
    tmp_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    missing = tmp_path / "no-such-pipeline"
    with pytest.raises(ModelUnavailable) as caught:
        DiffusersBackend.from_settings(tiny_settings(missing))
    message = str(caught.value)
    assert str(missing) in message
    assert "CLIPFORGE_MODEL" in message and "--model" in message


def test_folder_that_is_not_a_pipeline_names_the_path(
    tmp_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    with pytest.raises(ModelUnavailable) as caught:
        DiffusersBackend.from_settings(tiny_settings(tmp_path))
    assert str(tmp_path) in str(caught.value)
    assert "CLIPFORGE_MODEL" in str(caught.value)


def test_unreachable_hub_id_is_model_unavailable(tiny_settings: Callable[..., Settings]) -> None:
    from huggingface_hub import constants

    if not constants.HF_HUB_OFFLINE:
        pytest.skip("would reach for the network")
    with pytest.raises(ModelUnavailable, match=r"clipforge-tests/no-such-model.*HF_HUB_OFFLINE"):
        DiffusersBackend.from_settings(tiny_settings("clipforge-tests/no-such-model"))


def test_dtype_setting() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_dtype("auto", cpu) == torch.float32
    assert resolve_dtype("auto", cuda) == torch.bfloat16
    assert resolve_dtype("bf16", cpu) == torch.bfloat16
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_DTYPE"):
        resolve_dtype("int3", cpu)


def test_closed_backend_refuses_to_generate(
    tiny_ltx_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    backend = DiffusersBackend.from_settings(tiny_settings(tiny_ltx_path))
    backend.close()
    with pytest.raises(ModelUnavailable, match="closed"):
        backend.generate(_request(seed=1), _ignore)


# --- plan ------------------------------------------------------------------------------------


def _check_plan(backend: DiffusersBackend, family: ModelFamily, short_side: int) -> None:
    m = family.size_multiple
    for (resolution, ratio), duration in itertools.product(COMBINATIONS, DURATIONS):
        request = _request(resolution=resolution, aspect_ratio=ratio, duration=duration)
        plan = backend.plan(request)
        width, height = request.size
        assert plan.width % m == 0 and plan.height % m == 0, (ratio, plan)
        short = min(plan.width, plan.height)
        assert short == max(m, round(short_side / m) * m)
        assert (plan.width > plan.height) == (width > height), (ratio, plan)
        assert (plan.width == plan.height) == (width == height), (ratio, plan)
        # the long side is the exact aspect ratio's, rounded to the nearest multiple, or one
        # multiple longer than the short side where rounding would have made the frame square
        long, exact = (
            max(plan.width, plan.height),
            short_side * max(width, height) / min(width, height),
        )
        assert abs(long - exact) <= m / 2 or (long == short + m and exact < long), (ratio, plan)
        assert (plan.num_frames - 1) % family.frame_step == 0
        assert plan.fps == family.fps


@pytest.mark.parametrize("name", ["wan", "ltx"])
def test_plan_at_the_family_defaults(name: str, request: pytest.FixtureRequest) -> None:
    family = FAMILIES[name]
    path = request.getfixturevalue(f"tiny_{name}_path")
    backend = DiffusersBackend.from_settings(Settings(model=str(path), device="cpu"))

    if name == "wan":
        _check_area_plan(backend)
    else:
        _check_plan(backend, family, family.short_side)
        assert backend.plan(_request(aspect_ratio="16:9")).height == family.short_side
    for duration in DURATIONS:
        plan = backend.plan(_request(duration=duration))
        assert plan.num_frames == duration * family.fps + 1  # 81/161 (Wan), 121/241 (LTX)
        assert plan.steps == 50


WAN_480P = {"16:9": (848, 464), "1:1": (624, 624), "21:9": (960, 416), "9:16": (464, 848)}
"""Wan's max_area rule at 480P's 832 x 480 pixels (upstream gives 1:1 624 x 624)."""


def _check_area_plan(backend: DiffusersBackend) -> None:
    for ratio, size in WAN_480P.items():
        plan = backend.plan(_request(resolution="480p", aspect_ratio=ratio))
        assert (plan.width, plan.height) == size, ratio
    for resolution, ratio in COMBINATIONS:
        plan = backend.plan(_request(resolution=resolution, aspect_ratio=ratio))
        trained = {480: 832 * 480, 720: 1280 * 720}[
            backend.native_tier(_request(resolution=resolution))
        ]
        assert 0.9 * trained <= plan.width * plan.height <= trained, (resolution, ratio, plan)
        width, height = _request(resolution=resolution, aspect_ratio=ratio).size
        assert plan.width / plan.height == pytest.approx(width / height, rel=0.05)


def test_plan_with_tiny_settings(backend: DiffusersBackend) -> None:
    _check_plan(backend, backend.family, 32)
    plan = backend.plan(_request(duration=10))
    assert (plan.num_frames, plan.steps) == (9, 2)


@pytest.mark.parametrize("short_side", [40, 100, 720])
def test_plan_with_other_short_sides(backend: DiffusersBackend, short_side: int) -> None:
    _check_plan(_variant(backend, native_short_side=short_side), backend.family, short_side)


@pytest.mark.parametrize(
    ("family", "duration", "cap", "expected"),
    [
        (WAN, 5, None, 81),
        (WAN, 10, 50, 49),
        (WAN, 5, 3, 5),
        (LTX, 10, None, 241),
        (LTX, 5, 100, 97),
        (LTX, 5, 9, 9),
        (LTX, 5, 1, 9),
    ],
)
def test_native_frame_count(family: ModelFamily, duration: int, cap: int, expected: int) -> None:
    assert native_frame_count(duration, family, cap) == expected


# --- generate --------------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", ["16:9", "9:21", "1:1"])
def test_generate_returns_the_planned_frames(backend: DiffusersBackend, ratio: str) -> None:
    request = _request(aspect_ratio=ratio, seed=5)
    plan = backend.plan(request)
    clip = backend.generate(request, _ignore)

    assert isinstance(clip.frames, Iterator)
    assert (clip.width, clip.height, clip.num_frames, clip.fps) == (
        plan.width,
        plan.height,
        plan.num_frames,
        plan.fps,
    )
    frames = list(clip.frames)
    assert len(frames) == plan.num_frames
    for frame in frames:
        assert frame.shape == (plan.height, plan.width, 3)
        assert frame.dtype == np.uint8
    assert np.stack(frames).std() > 1  # not a blank clip


def test_same_seed_same_frames_other_seed_other_frames(backend: DiffusersBackend) -> None:
    first = _frames(backend.generate(_request(seed=11), _ignore))
    again = _frames(backend.generate(_request(seed=11), _ignore))
    other = _frames(backend.generate(_request(seed=12), _ignore))

    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("steps", [2, 3])
def test_progress_reports_every_step(backend: DiffusersBackend, steps: int) -> None:
    stepped = _variant(backend, num_inference_steps=steps)
    calls: list[tuple[int, int]] = []

    stepped.generate(_request(seed=1), lambda step, total: calls.append((step, total)))

    assert calls == [(step, steps) for step in range(1, steps + 1)]


def _count_decodes(backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    vae = backend.pipeline.vae
    real_decode = vae.decode
    calls: list[int] = []

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(vae, "decode", counting_decode)
    return calls


def test_cancel_at_the_first_step_skips_the_decode(
    backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = _count_decodes(backend, monkeypatch)
    calls: list[tuple[int, int]] = []

    def cancel(step: int, total: int) -> None:
        calls.append((step, total))
        raise JobCancelled("cancelled by the client")

    with pytest.raises(JobCancelled, match="cancelled by the client"):
        backend.generate(_request(seed=3), cancel)

    assert calls == [(1, 2)]
    assert decodes == []
    backend.generate(_request(seed=3), _ignore)  # still warm and usable; decodes once
    assert decodes == [1]


def test_unexpected_errors_become_generation_failed(backend: DiffusersBackend) -> None:
    def broken(step: int, total: int) -> None:
        raise RuntimeError("the model exploded")

    with pytest.raises(GenerationFailed, match="the model exploded") as caught:
        backend.generate(_request(seed=3), broken)
    assert isinstance(caught.value.__cause__, RuntimeError)


def _received_prompts(backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    pipeline = backend.pipeline
    real_encode = pipeline.encode_prompt
    prompts: list[str] = []

    def recording_encode(*args: Any, **kwargs: Any) -> Any:
        prompts.append(kwargs["prompt"] if "prompt" in kwargs else args[0])
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(pipeline, "encode_prompt", recording_encode)
    return prompts


def test_camera_fixed_changes_the_prompt_the_pipeline_receives(
    backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = _received_prompts(backend, monkeypatch)

    free = _frames(backend.generate(_request(seed=9, prompt="a red ball"), _ignore))
    fixed = _frames(
        backend.generate(_request(seed=9, prompt="a red ball", camera_fixed=True), _ignore)
    )

    assert prompts == ["a red ball", augment_prompt("a red ball", True)]
    assert prompts[1].startswith("a red ball") and prompts[1].endswith(CAMERA_FIXED_SUFFIX)
    assert not np.array_equal(free, fixed)


def test_the_reading_is_what_the_pipeline_receives(
    backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`interpret` reports the prompt and negative prompt sent; the request's sampling fields
    (negative_prompt, num_inference_steps, guidance_scale) reach the pipeline."""
    pipeline = backend.pipeline
    real_encode = pipeline.encode_prompt
    sent: list[dict[str, Any]] = []

    def recording_encode(*args: Any, **kwargs: Any) -> Any:
        sent.append(kwargs)
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(pipeline, "encode_prompt", recording_encode)
    request = _request(
        seed=4,
        camera_fixed=True,
        negative_prompt="blurry, text",
        num_inference_steps=3,
        guidance_scale=4.5,
    )
    steps: list[tuple[int, int]] = []
    clip = backend.generate(request, lambda step, total: steps.append((step, total)))
    guided = _frames(clip)
    reading = backend.interpret(request)
    assert sent[-1]["prompt"] == reading.prompt == augment_prompt("a red ball", True)
    assert sent[-1]["negative_prompt"] == reading.negative_prompt == "blurry, text"
    assert sent[-1]["do_classifier_free_guidance"] is True
    assert steps[-1] == (3, 3)
    unguided = _frames(
        backend.generate(request.model_copy(update={"guidance_scale": 1.0}), _ignore)
    )
    assert sent[-1]["do_classifier_free_guidance"] is False
    assert not np.array_equal(guided, unguided)


def test_augment_prompt() -> None:
    assert augment_prompt("A cat.", False) == "A cat."
    assert augment_prompt("A cat.", True) == f"A cat. {CAMERA_FIXED_SUFFIX}"
    assert augment_prompt("A cat ", True) == f"A cat. {CAMERA_FIXED_SUFFIX}"


def test_tiny_settings_fixture(tiny_settings: Callable[..., Settings], tiny_wan_path: Path) -> None:
    settings = tiny_settings(tiny_wan_path, num_inference_steps=3)
    assert settings.model == str(tiny_wan_path)
    assert (settings.native_short_side, settings.native_max_frames) == (32, 9)
    assert settings.num_inference_steps == 3


# --- loading in place, precision, frames on the device, flow shift (issue 16) --------------


@pytest.fixture(scope="module")
def real_structure(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from clipforge.backends.diffusers.tiny import build_tiny_pipeline

    root = tmp_path_factory.mktemp("structure")
    names = ("wan2.1-t2v-14b", "wan2.1-i2v-14b-720p", "ltx-video-0.9.5")
    return {name: build_tiny_pipeline(name, root / f"m{i}") for i, name in enumerate(names)}


def test_without_offload_the_pipeline_is_loaded_in_place(
    tiny_wan_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    """device_map puts every component on the device as it loads (no host copy first)."""
    backend = DiffusersBackend.from_settings(tiny_settings(tiny_wan_path))
    assert backend.pipeline.hf_device_map == "cpu"
    from clipforge.backends.diffusers.loading import load_pipeline, resolve_weights

    for_offload = load_pipeline(resolve_weights(str(tiny_wan_path)), torch.float32, None)
    assert not getattr(for_offload, "hf_device_map", None)  # offload hooks move it later


def test_an_indexed_gpu_is_loaded_in_place_as_the_current_device() -> None:
    """diffusers takes device_map "cuda" or "cpu" only: `--device cuda:1` (every documented
    worker) loaded on the host and then moved, about 70 GB of host memory for A14B."""
    from clipforge.backends.diffusers.loading import current_device, in_place_device

    assert in_place_device(torch.device("cuda:1")) == "cuda"
    assert in_place_device(torch.device("cuda")) == "cuda"
    assert in_place_device(torch.device("cpu")) == "cpu"
    assert in_place_device(torch.device("meta")) is None
    with current_device(torch.device("cpu")):  # nothing to switch
        pass
    if torch.cuda.device_count() > 1:  # runs where there are two GPUs
        with current_device(torch.device("cuda:1")):
            assert torch.cuda.current_device() == 1


@pytest.mark.parametrize(
    ("name", "full_precision"),
    [("wan2.1-t2v-14b", True), ("wan2.1-i2v-14b-720p", True), ("ltx-video-0.9.5", False)],
)
def test_the_vae_keeps_the_precision_its_authors_use(
    name: str, full_precision: bool, real_structure: dict[str, Path]
) -> None:
    settings = Settings(model=str(real_structure[name]), device="cpu", dtype="bfloat16")
    pipeline = DiffusersBackend.from_settings(settings).pipeline
    assert pipeline.transformer.dtype == torch.bfloat16
    expected = torch.float32 if full_precision else torch.bfloat16
    assert pipeline.vae.dtype == expected
    if getattr(pipeline, "image_encoder", None) is not None:
        assert pipeline.image_encoder.dtype == expected


def test_frames_become_uint8_on_the_device_one_at_a_time(
    backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    processor = backend.pipeline.video_processor
    real = processor.postprocess_video
    outputs: list[Any] = []

    def recording(video: Any, output_type: str = "np", **kwargs: Any) -> Any:
        result = real(video, output_type=output_type, **kwargs)
        outputs.append((output_type, result))
        return result

    monkeypatch.setattr(processor, "postprocess_video", recording)
    clip = backend.generate(_request(seed=2), _ignore)
    ((output_type, decoded),) = outputs
    assert output_type == "pt" and isinstance(decoded, torch.Tensor)  # not a float32 host copy
    assert decoded.device == backend.device
    first = next(clip.frames)
    assert first.dtype == np.uint8 and first.shape == (clip.height, clip.width, 3)
    expected = (decoded[0, 0].float().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0)
    assert np.array_equal(first, expected.numpy())


def test_the_flow_shift_follows_the_native_size(real_structure: dict[str, Path]) -> None:
    """Wan 2.1 14B: 3.0 at 480p, 5.0 at 720p (the saved scheduler has 3.0)."""
    backend = DiffusersBackend.from_settings(make_tiny_settings(real_structure["wan2.1-t2v-14b"]))
    shifts = {}
    for resolution in ("480p", "720p", "1080p"):
        backend.generate(_request(seed=1, resolution=resolution), _ignore)
        shifts[resolution] = backend.pipeline.scheduler.config.flow_shift
    assert shifts == {"480p": 3.0, "720p": 5.0, "1080p": 5.0}


@pytest.mark.parametrize("name", ["wan2.1-t2v-14b", "wan2.1-i2v-14b-720p", "ltx-video-0.9.5"])
def test_a_draft_halves_the_steps_of_an_entry(real_structure: dict[str, Path], name: str) -> None:
    """The worker halves a draft's steps where the backend takes a step count: the loaded
    backend says so as the API's routing does (one decision, `catalog.capabilities_of`)."""
    folder = real_structure[name]
    backend = DiffusersBackend.from_settings(make_tiny_settings(folder, num_inference_steps=None))
    try:
        assert backend.entry is not None and backend.entry.name == name
        drafted = draft_steps(backend, _request(draft=True))
        half = backend.entry.rules.steps // 2
        assert drafted.num_inference_steps == half and backend.plan(drafted).steps == half
        assert backend.capabilities == capabilities_for(str(folder))
    finally:
        backend.close()
