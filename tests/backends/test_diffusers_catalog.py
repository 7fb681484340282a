"""The model catalogue: its facts, request mapping per entry, weights routing, missing weights."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("diffusers")

import diffusers
import torch
from huggingface_hub import constants as hub_constants

from clipforge.backends.diffusers_backend import DiffusersBackend
from clipforge.backends.diffusers_catalog import (
    CATALOGUE,
    ENTRIES,
    CatalogEntry,
    find_entry,
)
from clipforge.backends.diffusers_loading import load_pipeline, resolve_weights
from clipforge.errors import JobCancelled, ModelUnavailable
from clipforge.schemas import DURATIONS, AspectRatio, GenerationRequest, Resolution
from clipforge.settings import Settings

COMBINATIONS = list(itertools.product(Resolution, AspectRatio))


def _request(**fields: Any) -> GenerationRequest:
    values: dict[str, Any] = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a red ball"}
    return GenerationRequest(**(values | fields))


def test_the_catalogue_holds_the_issue_models() -> None:
    assert set(CATALOGUE) == {
        "wan2.1-t2v-1.3b",
        "wan2.1-t2v-14b",
        "wan2.2-ti2v-5b",
        "wan2.2-t2v-a14b",
        "ltx-video-0.9.5",
        "ltx-video-0.9.7-distilled",
    }
    for entry in ENTRIES:
        assert hasattr(diffusers, entry.pipeline_class), entry.pipeline_class
        wan = entry.name.startswith("wan")
        assert entry.hub_id.startswith("Wan-AI/" if wan else "Lightricks/")
        assert entry.rules.frame_step == (4 if wan else 8)
        width, height = entry.native_sizes[0]
        assert width % entry.rules.size_multiple == 0 and height % entry.rules.size_multiple == 0
        assert min(width, height) == entry.rules.short_side


@pytest.mark.parametrize(
    ("name", "fps", "frames", "steps", "guidance"),
    [
        ("wan2.1-t2v-1.3b", 16, 81, 50, 5.0),
        ("wan2.1-t2v-14b", 16, 81, 50, 5.0),
        ("wan2.2-ti2v-5b", 24, 121, 50, 5.0),
        ("wan2.2-t2v-a14b", 16, 81, 40, 4.0),
        ("ltx-video-0.9.5", 24, 121, 50, 3.0),
        ("ltx-video-0.9.7-distilled", 24, 121, 8, 1.0),
    ],
)
def test_entry_facts(name: str, fps: int, frames: int, steps: int, guidance: float) -> None:
    entry = CATALOGUE[name]
    assert (entry.rules.fps, entry.default_frames) == (fps, frames)
    assert (entry.rules.steps, entry.rules.guidance_scale) == (steps, guidance)
    assert entry.distilled == (name == "ltx-video-0.9.7-distilled")


def _backend_for(entry: CatalogEntry, request: pytest.FixtureRequest) -> DiffusersBackend:
    """The entry's rules on a tiny pipeline of its family (same VAE compression ratios)."""
    family = "wan" if entry.name.startswith("wan") else "ltx"
    path = request.getfixturevalue(f"tiny_{family}_path")
    pipeline = diffusers.DiffusionPipeline.from_pretrained(path, local_files_only=True)
    return DiffusersBackend(pipeline, Settings(device="cpu"), torch.device("cpu"), entry)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_request_maps_to_a_native_size_and_frame_count(
    name: str, request: pytest.FixtureRequest
) -> None:
    entry = CATALOGUE[name]
    backend = _backend_for(entry, request)
    m, step = entry.rules.size_multiple, entry.rules.frame_step
    for (resolution, ratio), duration in itertools.product(COMBINATIONS, DURATIONS):
        req = _request(resolution=resolution, aspect_ratio=ratio, duration=duration)
        plan = backend.plan(req)
        width, height = req.size
        assert plan.width % m == 0 and plan.height % m == 0, (name, ratio, plan)
        assert min(plan.width, plan.height) == entry.rules.short_side, (name, ratio, plan)
        assert (plan.width > plan.height) == (width > height), (name, ratio, plan)
        assert (plan.width == plan.height) == (width == height), (name, ratio, plan)
        exact = entry.rules.short_side * max(width, height) / min(width, height)
        assert abs(max(plan.width, plan.height) - exact) <= m / 2 + m, (name, ratio, plan)
        assert plan.num_frames == duration * entry.rules.fps + 1, (name, duration, plan)
        assert (plan.num_frames - 1) % step == 0
        assert (plan.fps, plan.steps) == (entry.rules.fps, entry.rules.steps)


def test_find_entry_by_name_hub_id_or_folder_name() -> None:
    assert find_entry("wan9-t2v") is None
    assert find_entry("WAN2.1-T2V-1.3B") is CATALOGUE["wan2.1-t2v-1.3b"]
    assert find_entry("Wan2.1-T2V-14B-Diffusers") is CATALOGUE["wan2.1-t2v-14b"]
    assert find_entry("Wan-AI/Wan2.2-T2V-A14B-Diffusers") is CATALOGUE["wan2.2-t2v-a14b"]
    assert resolve_weights("ltx-video-0.9.5").source == "Lightricks/LTX-Video-0.9.5"
    assert resolve_weights("someone/other-model").entry is None


def test_missing_weights_offline_name_the_entry_the_hub_id_and_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)  # never reach for the network
    with pytest.raises(ModelUnavailable) as caught:
        load_pipeline(resolve_weights("wan2.1-t2v-1.3b"), torch.float32)
    message = str(caught.value)
    assert "'wan2.1-t2v-1.3b'" in message
    assert "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in message
    assert "HF_HUB_OFFLINE" in message and "hf download" in message


# --- the distilled LTX entry, from a folder named like its hub repository ----------------------


@pytest.fixture(scope="module")
def distilled(
    tiny_ltx_condition_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    tiny_settings: Callable[..., Settings],
) -> DiffusersBackend:
    folder = tmp_path_factory.mktemp("weights") / "LTX-Video-0.9.7-distilled"
    shutil.copytree(tiny_ltx_condition_path, folder)
    return DiffusersBackend.from_settings(tiny_settings(folder))


def test_a_folder_named_like_an_entry_gets_its_class_and_rules(distilled: DiffusersBackend) -> None:
    assert distilled.entry is CATALOGUE["ltx-video-0.9.7-distilled"]
    assert type(distilled.pipeline).__name__ == "LTXConditionPipeline"
    arguments = distilled.call_arguments(_request(seed=1), distilled.plan(_request()), print)
    assert arguments["guidance_scale"] == 1.0 and "negative_prompt" not in arguments
    assert arguments["decode_timestep"] == 0.05 and arguments["frame_rate"] == 24


def test_distilled_same_seed_same_frames(distilled: DiffusersBackend) -> None:
    def frames(seed: int) -> np.ndarray:
        return np.stack(list(distilled.generate(_request(seed=seed), lambda s, t: None).frames))

    first, again, other = frames(4), frames(4), frames(5)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_distilled_cancel_skips_the_decode(
    distilled: DiffusersBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes: list[int] = []
    real_decode = distilled.pipeline.vae.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        decodes.append(1)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(distilled.pipeline.vae, "decode", counting_decode)

    def cancel(step: int, total: int) -> None:
        raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        distilled.generate(_request(seed=2), cancel)
    assert decodes == []
    distilled.generate(_request(seed=2), lambda s, t: None)
    assert decodes == [1]


def test_guidance_override_turns_guidance_off(request: pytest.FixtureRequest) -> None:
    backend = _backend_for(CATALOGUE["wan2.2-t2v-a14b"], request)
    plan = backend.plan(_request())
    default = backend.call_arguments(_request(seed=1), plan, print)
    assert (default["guidance_scale"], default["guidance_scale_2"]) == (4.0, 3.0)
    settings = Settings(device="cpu", guidance_scale=1.0)
    off = DiffusersBackend(backend.pipeline, settings, backend.device, backend.entry)
    arguments = off.call_arguments(_request(seed=1), plan, print)
    assert (arguments["guidance_scale"], arguments["guidance_scale_2"]) == (1.0, 1.0)
