"""LTX-Video 0.9.7/0.9.8 dev and distilled: the two-stage recipe with the latent upsampler
when its weights are present (in the weights' folder or beside it, named like its hub
repository), one pass otherwise; dev and distilled folders told apart by name."""

from __future__ import annotations

import logging
import shutil
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from huggingface_hub import constants as hub_constants
from rich.console import Console

from clipforge.backends.base import ImageInput
from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.catalog import capabilities_for
from clipforge.backends.diffusers.entries import CATALOGUE
from clipforge.backends.diffusers.loading import resolve_weights
from clipforge.backends.diffusers.sampling import SCHEDULER_LOGGER
from clipforge.backends.diffusers.tiny import build_tiny_pipeline, build_tiny_upsampler
from clipforge.backends.diffusers.two_stage import stage_one_size
from clipforge.cli.output import models_table
from clipforge.client import Model
from clipforge.errors import JobCancelled, ModelUnavailable
from clipforge.schemas import GenerationRequest
from clipforge.worker.plan import draft_steps
from tests.conftest import make_tiny_settings

DISTILLED = "ltx-video-0.9.7-distilled"
STAGE = CATALOGUE[DISTILLED].rules.two_stage
REQUEST = GenerationRequest(model="m", prompt="a red ball rolls", seed=5)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("two-stage")
    beside = root / "beside"
    build_tiny_upsampler(beside / "ltxv-spatial-upscaler-0.9.7")
    return {
        "inside": build_tiny_pipeline(DISTILLED, root / "distilled-upsampler", upsampler=True),
        "beside": build_tiny_pipeline(DISTILLED, beside / "distilled-13b"),
        "none": build_tiny_pipeline(DISTILLED, root / "distilled-alone"),
    }


def _backend(folder: Path) -> DiffusersBackend:
    return DiffusersBackend.from_settings(make_tiny_settings(folder))


def _watch(backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"sizes": [], "upsample": [], "decode": []}
    pipeline = backend.pipeline
    real_prepare, real_decode = pipeline.prepare_latents, pipeline.vae.decode

    def prepare(*args: Any, **kwargs: Any) -> Any:
        seen["sizes"].append((kwargs["width"], kwargs["height"]))
        return real_prepare(*args, **kwargs)

    def decode(*args: Any, **kwargs: Any) -> Any:
        seen["decode"].append(1)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(pipeline, "prepare_latents", prepare)
    monkeypatch.setattr(pipeline.vae, "decode", decode)
    if backend.two_stage is not None:
        upsampler = backend.two_stage.upsample.latent_upsampler
        upsampler.register_forward_hook(lambda m, i, o: seen["upsample"].append(o.shape))
    return seen


@pytest.mark.parametrize("where", ["inside", "beside"])
def test_with_the_upsampler_the_recipe_runs_in_two_stages(
    where: str, folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _backend(folders[where])
    assert backend.two_stage is not None and STAGE is not None
    seen = _watch(backend, monkeypatch)
    steps: list[tuple[int, int]] = []
    plan = backend.plan(REQUEST)
    clip = backend.generate(REQUEST, lambda s, t: steps.append((s, t)))
    frames = np.stack(list(clip.frames))

    small = seen["sizes"][0]
    assert seen["sizes"] == [small, (2 * small[0], 2 * small[1])]  # 2/3 size, then refined 2x
    assert (plan.width, plan.height) == (2 * small[0], 2 * small[1])
    assert frames.shape == (plan.num_frames, plan.height, plan.width, 3)
    assert len(seen["upsample"]) == 1 and seen["decode"] == [1]
    assert plan.steps == 2 + STAGE.refine_steps == 5  # CLIPFORGE_NUM_INFERENCE_STEPS=2, then 3
    assert steps == [(step, 5) for step in range(1, 6)]


def test_without_the_upsampler_it_runs_one_pass(
    folders: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "clipforge.backends.diffusers.loading"):
        backend = _backend(folders["none"])
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("two-stage: off, no latent_upsampler/" in r.getMessage() for r in warned)
    assert backend.two_stage is None
    assert backend.entry is CATALOGUE[DISTILLED]
    plan = backend.plan(REQUEST)
    assert plan.steps == 2 and min(plan.width, plan.height) == 32
    assert np.stack(list(backend.generate(REQUEST, lambda s, t: None).frames)).shape[0] == 9


def test_the_published_timesteps_are_used_unless_steps_are_set(folders: dict[str, Path]) -> None:
    settings = make_tiny_settings(folders["inside"], num_inference_steps=None)
    backend = DiffusersBackend.from_settings(settings)
    arguments = backend.call_arguments(REQUEST, backend.plan(REQUEST), lambda s, t: None)
    # LTX's yaml: 7 first-pass and 3 second-pass timesteps (no 0.03 or 0 step that moves
    # nothing); the image conditioning noised as LTX's inference.py does.
    assert arguments["timesteps"] == [1000, 993, 987, 981, 975, 909, 725]
    assert arguments["guidance_scale"] == 1.0 and "negative_prompt" not in arguments
    assert arguments["image_cond_noise_scale"] == 0.15
    assert backend.plan(REQUEST).steps == 7 + 3


def test_the_first_stage_floors_its_size_as_ltx_does() -> None:
    rules = CATALOGUE[DISTILLED].rules
    # 2/3 of the 704 tier's 1248 x 704 is 832 x 469.3: floored to 32, 832 x 448 (nearest: 480).
    assert stage_one_size((1248, 704), 704, rules) == (832, 448)
    assert stage_one_size((704, 704), 704, rules) == (448, 448)


def test_a_cancel_in_the_refine_pass_decodes_nothing(
    folders: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _backend(folders["inside"])
    seen = _watch(backend, monkeypatch)

    def cancel_in_refine(step: int, total: int) -> None:
        if step == 4:
            raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        backend.generate(REQUEST, cancel_in_refine)
    assert seen["decode"] == []


def test_first_and_last_frames_condition_both_stages(folders: dict[str, Path]) -> None:
    backend = _backend(folders["inside"])
    width, height = REQUEST.size
    rng = np.random.default_rng(0)
    first, last = (rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(2))

    def frames(images: ImageInput) -> np.ndarray:
        return np.stack(list(backend.generate(REQUEST, lambda s, t: None, images).frames))

    one, again = frames(ImageInput(first, last)), frames(ImageInput(first, last))
    other = frames(ImageInput(first, np.ascontiguousarray(last[::-1])))
    assert np.array_equal(one, again)
    assert not np.array_equal(one, other)


def test_no_timesteps_warning_per_job(folders: dict[str, Path]) -> None:
    backend = _backend(folders["none"])
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(SCHEDULER_LOGGER)
    logger.addHandler(handler)
    try:
        backend.pipeline.scheduler.set_timesteps(timesteps=[1000, 993, 725])
    finally:
        logger.removeHandler(handler)
    assert not [r for r in records if "without `sigmas`" in r.getMessage()]


# --- dev and distilled: identical configs, told apart by name -------------------------------


@pytest.mark.parametrize(
    ("name", "entry"),
    [
        ("LTX-Video-0.9.7-dev", "ltx-video-0.9.7-dev"),
        ("ltxv-13b-0.9.8-dev", "ltx-video-0.9.8-13b-dev"),
        ("LTX-Video-0.9.8-13B-distilled", "ltx-video-0.9.8-13b-distilled"),
        ("LTX-Video-0.9.7-distilled", DISTILLED),
        ("my-ltxv-13b-distilled", DISTILLED),
        ("ltx-13b", "ltx-video-0.9.7-dev"),  # unnamed: the recipe valid for both
    ],
)
def test_dev_and_distilled_folders_are_told_apart_by_name(
    name: str, entry: str, folders: dict[str, Path], tmp_path: Path
) -> None:
    """The dev folders have the distilled model's configs: 7 unguided steps on a dev model
    render noise, without an error."""
    folder = tmp_path / name
    shutil.copytree(folders["inside"], folder)
    assert resolve_weights(str(folder)).entry is CATALOGUE[entry]


def test_a_dev_folder_runs_the_guided_two_stage_recipe(
    folders: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "LTX-Video-0.9.7-dev"
    shutil.copytree(folders["inside"], folder)
    backend = DiffusersBackend.from_settings(make_tiny_settings(folder, num_inference_steps=None))
    assert backend.two_stage is not None
    seen = _watch(backend, monkeypatch)
    arguments = backend.call_arguments(REQUEST, backend.plan(REQUEST), lambda s, t: None)
    assert "timesteps" not in arguments and arguments["num_inference_steps"] == 30
    assert arguments["negative_prompt"] and arguments["guidance_rescale"] == 0.7
    steps: list[tuple[int, int]] = []
    backend.generate(REQUEST, lambda s, t: steps.append((s, t)))
    assert steps == [(step, 34) for step in range(1, 35)]  # 30 guided, then 4 of 10 refine
    assert backend.pipeline.guidance_scale == 5.0 and len(seen["sizes"]) == 2
    assert len(seen["upsample"]) == 1 and seen["decode"] == [1]


# --- no silent network: a missing upsampler is said, never fetched behind a folder's back -----


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name lookup and connection this process attempts, each refused."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_a_folder_without_its_upsampler_says_so_and_reaches_for_nothing(
    folders: dict[str, Path],
    no_network: list[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hub was tried for the upsampler at start (with an INFO line), whatever the folder."""
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    with caplog.at_level(logging.WARNING):
        backend = _backend(folders["none"])
        notes = capabilities_for(str(folders["none"])).notes
    assert backend.two_stage is None and no_network == []
    assert notes and notes[0].startswith("two-stage: off, no latent_upsampler/ in the folder")
    assert notes[0] in caplog.text  # the worker's warning and `clipforge models` agree
    table = Console(width=200, record=True)
    table.print(models_table([Model(id="m", backend="diffusers", notes=list(notes))]))
    assert "two-stage: off, no latent_upsampler/ in the folder" in table.export_text()
    assert _backend(folders["inside"]).two_stage is not None and no_network == []


def test_hf_hub_offline_reaches_for_nothing(
    no_network: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))  # empty
    assert capabilities_for(DISTILLED).notes == ()  # weights not here: nothing to say yet
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE"):
        DiffusersBackend.from_settings(make_tiny_settings(DISTILLED))
    assert no_network == []


def test_a_draft_halves_the_first_stage_and_keeps_the_refine_steps(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """0.9.7 dev: 30 first-stage steps and a refining stage; a draft renders 15 + refine (the
    refining stage's steps are not the request's to halve)."""
    dev = "ltx-video-0.9.7-dev"
    folder = build_tiny_pipeline(dev, tmp_path_factory.mktemp("dev") / "m", upsampler=True)
    backend = DiffusersBackend.from_settings(make_tiny_settings(folder, num_inference_steps=None))
    try:
        assert backend.two_stage is not None and backend.capabilities.sampling_steps
        drafted = draft_steps(backend, REQUEST.model_copy(update={"draft": True}))
        plan = backend.plan(drafted)
        assert drafted.num_inference_steps == CATALOGUE[dev].rules.steps // 2 == 15
        assert plan.refine_steps == backend.two_stage.stage.refine_steps > 0
        assert plan.steps == 15 + plan.refine_steps
    finally:
        backend.close()
