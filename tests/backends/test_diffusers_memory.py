"""The per-job memory plan: estimates checked against real CPU decodes, decisions against a
fake device size, tiled decodes against plain ones, and the plan in the job's reading."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("diffusers")

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.memory import (
    MemoryPlan,
    VaeShape,
    apply_plan,
    decode_bytes,
    plan_memory,
)
from clipforge.backends.diffusers.tiny.hunyuan import hunyuan_vae
from clipforge.backends.diffusers.tiny.ltx import LTX_LATENT, ltx_vae
from clipforge.backends.diffusers.tiny.wan import wan_vae
from clipforge.errors import GenerationFailed
from clipforge.schemas import GenerationRequest
from clipforge.settings import Settings

GIB = 2**30
WAN_21_VAE = VaeShape("wan", channels=96, blocks=3, chunk_frames=4, dtype_bytes=4, spatial=8)
"""Wan 2.1's VAE as released (base_dim 96, two res blocks per level + 1), in float32."""
TILES = (128, 96)


class LiveBytes(TorchDispatchMode):
    """The peak of live tensor bytes made inside the block (what a device allocator holds)."""

    def __init__(self) -> None:
        super().__init__()
        self.live = self.peak = 0
        self.held: set[int] = set()

    def _free(self, key: int, size: int) -> None:
        self.held.discard(key)
        self.live -= size

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for value in tree_flatten(out)[0]:
            if isinstance(value, torch.Tensor):
                storage = value.untyped_storage()
                key, size = storage.data_ptr(), storage.nbytes()
                if size and key not in self.held:
                    self.held.add(key)
                    self.live += size
                    self.peak = max(self.peak, self.live)
                    weakref.finalize(storage, self._free, key, size)
        return out


@pytest.fixture(scope="module")
def vae() -> Any:
    torch.manual_seed(0)
    return wan_vae("2.1").eval()


def _decode(vae: Any, latents: torch.Tensor, tiled: bool) -> tuple[torch.Tensor, int]:
    if tiled:
        vae.enable_tiling(TILES[0], TILES[0], TILES[1], TILES[1])
    else:
        vae.disable_tiling()
    with torch.inference_mode(), LiveBytes() as meter:
        sample = vae.decode(latents).sample
    return sample, meter.peak


@pytest.mark.parametrize(
    "latent, tiled",
    [((3, 16, 16), False), ((3, 24, 40), False), ((3, 24, 40), True)],
    ids=["tiny", "mid", "mid-tiled"],
)
def test_the_estimate_is_within_15_percent_of_a_real_decode(
    vae: Any, latent: tuple[int, int, int], tiled: bool
) -> None:
    frames, height, width = latent
    latents = torch.randn(1, 16, frames, height, width, generator=torch.Generator().manual_seed(1))
    sample, peak = _decode(vae, latents, tiled)
    shape = VaeShape.of(vae)
    assert shape is not None
    out_frames, out_h, out_w = sample.shape[2:]
    estimate = decode_bytes(shape, out_frames, out_h, out_w, tiled, True, TILES)
    assert estimate == pytest.approx(peak, rel=0.15), (estimate, peak)


@pytest.mark.parametrize("latent", [(2, 4, 4), (3, 6, 10)], ids=["tiny", "mid"])
def test_the_ltx_estimate_is_within_15_percent_of_a_real_decode(
    latent: tuple[int, int, int],
) -> None:
    torch.manual_seed(0)
    vae = ltx_vae().eval()
    latents = torch.randn(1, LTX_LATENT, *latent, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode(), LiveBytes() as meter:
        sample = vae.decode(latents, temb=torch.tensor([0.05])).sample
    shape = VaeShape.of(vae)
    assert shape is not None
    estimate = decode_bytes(shape, *sample.shape[2:], tiled=False)
    assert estimate == pytest.approx(meter.peak, rel=0.15), (estimate, meter.peak)


@pytest.mark.parametrize("tiled", [False, True], ids=["plain", "tiled"])
def test_the_hunyuan_estimate_is_within_15_percent_of_a_real_decode(tiled: bool) -> None:
    """HunyuanVideo 1.5's VAE (its real channel ratios at 1/16, 16x spatial, 4x temporal; all
    frames decoded together), plain and in its default 256 px tiles."""
    torch.manual_seed(0)
    vae = hunyuan_vae().eval()
    if tiled:
        vae.enable_tiling()
    latents = torch.randn(1, 32, 3, 24, 40, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode(), LiveBytes() as meter:
        sample = vae.decode(latents).sample
    shape = VaeShape.of(vae)
    assert shape is not None and shape.kind == "hunyuan"
    estimate = decode_bytes(shape, *sample.shape[2:], tiled=tiled)
    assert estimate == pytest.approx(meter.peak, rel=0.15), (estimate, meter.peak)


def test_a_tiled_decode_matches_a_plain_one(vae: Any) -> None:
    latents = torch.randn(1, 16, 3, 24, 40, generator=torch.Generator().manual_seed(2))
    plain, _ = _decode(vae, latents, tiled=False)
    tiled, _ = _decode(vae, latents, tiled=True)
    assert plain.shape == tiled.shape
    assert (plain - tiled).abs().mean().item() < 0.02  # of a [-1, 1] range; seams blended


@pytest.mark.parametrize(
    "free_gib, offloadable_gib, decode",
    [(40, 0, "plain"), (10, 0, "tiled"), (3, 60, "offload"), (3, 0, "refuse")],
)
def test_a_wan_720p_decode_per_device_size(
    free_gib: float, offloadable_gib: float, decode: str
) -> None:
    plan = plan_memory(WAN_21_VAE, 81, 720, 1280, int(free_gib * GIB), int(offloadable_gib * GIB))
    assert plan.decode == decode, plan.line()
    assert 14 * GIB < plan.plain_bytes < 20 * GIB and 3 * GIB < plan.tiled_bytes < 6 * GIB


def test_unknown_vaes_and_cpus_decode_plainly() -> None:
    assert plan_memory(None, 81, 720, 1280, GIB).decode == "plain"
    assert plan_memory(WAN_21_VAE, 81, 720, 1280, None).decode == "plain"


def test_the_plan_sets_the_vaes_tiling(vae: Any) -> None:
    apply_plan(vae, MemoryPlan("tiled", 2, 1, 1))
    assert vae.use_tiling
    apply_plan(vae, MemoryPlan("plain", 1, 1, 2))
    assert not vae.use_tiling
    apply_plan(vae, MemoryPlan("plain", 1, 1, 2), forced_tiling=True)
    assert vae.use_tiling


def _request() -> GenerationRequest:
    return GenerationRequest(model="bytedance/seedance-1-0-lite-t2v", prompt="a red ball")


def test_the_job_reading_shows_the_plan_and_a_clip_that_cannot_fit_is_refused_first(
    tiny_wan_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    roomy = DiffusersBackend.from_settings(tiny_settings(tiny_wan_path, device_memory_gb=80))
    memory = roomy.interpret(_request()).as_dict()["memory"]
    assert isinstance(memory, dict) and memory["decode"] == "plain"
    assert "free 80.0 GiB" in str(memory["summary"])
    tight = DiffusersBackend(
        roomy.pipeline, tiny_settings(tiny_wan_path, device_memory_gb=1e-6), roomy.device
    )
    steps: list[int] = []
    with pytest.raises(GenerationFailed, match="does not fit"):
        tight.generate(_request(), lambda step, total: steps.append(step))
    assert steps == []  # refused before any denoising


@pytest.mark.parametrize("latent", [(2, 4, 4), (3, 6, 10)], ids=["tiny", "mid"])
def test_the_ltx2_estimate_is_within_15_percent_of_a_real_decode(
    latent: tuple[int, int, int],
) -> None:
    """LTX-2's video VAE is planned as LTX's (same decoder layout, no timestep)."""
    from clipforge.backends.diffusers.tiny import ltx2

    torch.manual_seed(0)
    vae = ltx2.video_vae().eval()
    latents = torch.randn(1, ltx2.LATENT, *latent, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode(), LiveBytes() as meter:
        sample = vae.decode(latents).sample
    shape = VaeShape.of(vae)
    assert shape is not None
    estimate = decode_bytes(shape, *sample.shape[2:], tiled=False)
    assert estimate == pytest.approx(meter.peak, rel=0.15), (estimate, meter.peak)
