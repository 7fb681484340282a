"""Speed and memory options applied to tiny real pipelines on the CPU."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("diffusers")

import torch
from huggingface_hub import constants as hub_constants

from clipforge.backends.diffusers_backend import DiffusersBackend
from clipforge.backends.diffusers_loading import load_pipeline, resolve_weights
from clipforge.backends.diffusers_options import SpeedOptions, apply_options
from clipforge.backends.diffusers_parallel import (
    context_parallel_config,
    enable_context_parallel,
    parallel_degrees,
)
from clipforge.errors import JobCancelled, ModelUnavailable
from clipforge.schemas import GenerationRequest
from clipforge.settings import Settings

CPU = torch.device("cpu")


def _pipeline(path: Path) -> Any:
    return load_pipeline(resolve_weights(str(path)), torch.float32)


def test_options_come_from_settings_and_bad_values_name_the_setting() -> None:
    options = SpeedOptions.from_settings(Settings(vae_tiling=True, step_cache="first_block"))
    assert options.vae_tiling and options.step_cache == "first_block"
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_OFFLOAD='gpu'"):
        SpeedOptions.from_settings(Settings(offload="gpu"))
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_STEP_CACHE"):
        SpeedOptions.from_settings(Settings(step_cache="teacache"))


def test_vae_tiling_and_slicing_are_set(tiny_wan_path: Path) -> None:
    pipeline = _pipeline(tiny_wan_path)
    assert not pipeline.vae.use_tiling
    notes = apply_options(pipeline, SpeedOptions(vae_tiling=True, vae_slicing=True), CPU)
    assert pipeline.vae.use_tiling and pipeline.vae.use_slicing
    assert notes == ["vae_tiling", "vae_slicing"]


def test_gpu_only_options_are_skipped_on_the_cpu_with_a_reason(tiny_ltx_path: Path) -> None:
    pipeline = _pipeline(tiny_ltx_path)
    notes = apply_options(pipeline, SpeedOptions(offload="group", compile=True), CPU)
    assert any(n.startswith("offload=group skipped") for n in notes)
    assert any(n.startswith("compile skipped") for n in notes)
    assert pipeline.transformer.device == CPU
    assert not hasattr(pipeline.transformer, "_orig_mod")  # not compiled


@pytest.mark.parametrize("kind", ["first_block", "taylorseer"])
def test_a_step_cache_is_enabled_and_frames_stay_reproducible(
    kind: str, tiny_wan_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    backend = DiffusersBackend.from_settings(
        tiny_settings(tiny_wan_path, step_cache=kind, num_inference_steps=4)
    )
    assert backend.pipeline.transformer.is_cache_enabled
    request = GenerationRequest(model="m", prompt="a red ball", seed=3)

    def cancel_at_2(step: int, total: int) -> None:
        if step == 2:
            raise JobCancelled("cancelled")

    first = np.stack(list(backend.generate(request, lambda s, t: None).frames))
    with pytest.raises(JobCancelled):  # a run cancelled mid-video does not leak into the next
        backend.generate(request, cancel_at_2)
    again = np.stack(list(backend.generate(request, lambda s, t: None).frames))
    assert np.array_equal(first, again)


def test_a_cache_that_cannot_apply_is_refused(tiny_ltx_path: Path) -> None:
    pipeline = _pipeline(tiny_ltx_path)  # one transformer block: nothing after the first
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_STEP_CACHE=first_block"):
        apply_options(pipeline, SpeedOptions(step_cache="first_block"), CPU)


@pytest.mark.skipif(importlib.util.find_spec("cache_dit") is not None, reason="installed")
def test_cache_dit_asked_for_but_not_installed(tiny_wan_path: Path) -> None:
    pipeline = _pipeline(tiny_wan_path)
    with pytest.raises(ModelUnavailable, match="pip install cache-dit"):
        apply_options(pipeline, SpeedOptions(step_cache="cache_dit"), CPU)


def test_attention_backends(tiny_wan_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline = _pipeline(tiny_wan_path)
    assert "attention backend native" in apply_options(
        pipeline, SpeedOptions(attention_backend="native"), CPU
    )
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_ATTENTION_BACKEND='no-such'"):
        apply_options(pipeline, SpeedOptions(attention_backend="no-such"), CPU)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE"):
        apply_options(pipeline, SpeedOptions(attention_backend="flash_hub"), CPU)


def test_context_parallel_config_building() -> None:
    assert parallel_degrees("ulysses", 4, 12) == {"ulysses_degree": 4}
    assert parallel_degrees("ring", 3, 12) == {"ring_degree": 3}
    with pytest.raises(ModelUnavailable, match="12 attention heads over 8 GPUs"):
        parallel_degrees("ulysses", 8, 12)
    with pytest.raises(ModelUnavailable, match="torchrun"):
        parallel_degrees("ring", 1, 12)
    config = context_parallel_config("ulysses", 2, 40)  # Wan 14B: 40 heads
    assert (config.ulysses_degree, config.ring_degree) == (2, 1)


def test_context_parallel_outside_torchrun_is_refused(tiny_wan_path: Path) -> None:
    pipeline = _pipeline(tiny_wan_path)
    with pytest.raises(ModelUnavailable, match="torchrun"):
        enable_context_parallel(pipeline.transformer, "ulysses", CPU)
