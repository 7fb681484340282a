"""What the service renders besides the transformer's steps, at real size with random weights:
the VAE decode of the whole clip (Wan 2.1's VAE in float32, LTX 0.9.7's in bf16, as ClipForge
loads them), LTX's latent upsampler, and the two-stage sizes ClipForge plans
(`two_stage.stage_one_size`). Used by `gpu_models.py`; `tiny` builds toy sizes for a CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

LTX097_VAE: dict[str, Any] = {
    "latent_channels": 128,
    "block_out_channels": (128, 256, 512, 1024, 2048),
    "down_block_types": ("LTXVideo095DownBlock3D",) * 4,
    "decoder_block_out_channels": (256, 512, 1024),
    "layers_per_block": (4, 6, 6, 2, 2),
    "decoder_layers_per_block": (5, 5, 5, 5),
    "spatio_temporal_scaling": (True,) * 4,
    "decoder_spatio_temporal_scaling": (True,) * 3,
    "decoder_inject_noise": (False,) * 4,
    "downsample_type": ("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
    "upsample_residual": (True,) * 3,
    "upsample_factor": (2, 2, 2),
    "timestep_conditioning": True,
    "patch_size": 4,
    "patch_size_t": 1,
    "encoder_causal": True,
    "decoder_causal": False,
    "spatial_compression_ratio": 32,
    "temporal_compression_ratio": 8,
}
"""Lightricks/LTX-Video-0.9.7-distilled vae/config.json (the released values)."""
LTX097_UPSAMPLER: dict[str, Any] = {
    "in_channels": 128,
    "mid_channels": 512,
    "num_blocks_per_stage": 4,
    "dims": 3,
    "spatial_upsample": True,
    "temporal_upsample": False,
}
"""Lightricks/ltxv-spatial-upscaler-0.9.7 latent_upsampler/config.json."""


def build_vae(family: str, tiny: bool, device: torch.device) -> tuple[Any, torch.dtype, int, int]:
    """(VAE, dtype, spatial ratio, latent channels) of the family, random weights."""
    from diffusers import AutoencoderKLLTXVideo, AutoencoderKLWan

    from clipforge.backends.diffusers.tiny import ltx

    dtype = torch.float32 if family == "wan" or device.type == "cpu" else torch.bfloat16
    with torch.device(device):
        if family == "wan":
            small = {"base_dim": 8, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1}
            return AutoencoderKLWan(**(small if tiny else {})).eval(), dtype, 8, 16
        made = ltx.ltx_vae() if tiny else AutoencoderKLLTXVideo(**LTX097_VAE)
        channels = ltx.LTX_LATENT if tiny else 128
        return made.to(dtype).eval(), dtype, 32, channels


def decode_seconds(
    family: str, size: tuple[int, int], frames: int, tiny: bool, device: torch.device
) -> tuple[float, float]:
    """(seconds, peak GiB over the weights) of one plain decode of the clip."""
    vae, dtype, spatial, channels = build_vae(family, tiny, device)
    temporal = 4 if family == "wan" else 8
    shape = (1, channels, (frames - 1) // temporal + 1, size[1] // spatial, size[0] // spatial)
    latents = torch.randn(shape, device=device, dtype=dtype)
    extra = {"temb": torch.tensor([0.05], device=device, dtype=dtype)} if family == "ltx" else {}
    return _timed(device, lambda: vae.decode(latents, return_dict=False, **extra))


def upsample_seconds(
    latent: tuple[int, ...], tiny: bool, device: torch.device, dtype: torch.dtype
) -> float:
    """One pass of LTX 0.9.7's spatial latent upsampler over the first stage's latents."""
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel

    from clipforge.backends.diffusers.tiny import ltx

    with torch.device(device):
        model = ltx.latent_upsampler() if tiny else LTXLatentUpsamplerModel(**LTX097_UPSAMPLER)
    model = model.to(dtype).eval()
    latents = torch.randn(latent, device=device, dtype=dtype)
    return _timed(device, lambda: model(latents))[0]


def two_stage_sizes(entry: str, resolution: str = "720p") -> tuple[tuple[int, int], ...]:
    """(first stage, refine) (width, height) ClipForge renders for a 16:9 request."""
    from clipforge.backends.diffusers.entries import CATALOGUE
    from clipforge.backends.diffusers.two_stage import stage_one_size
    from clipforge.schemas import AspectRatio, Resolution, frame_size

    rules = CATALOGUE[entry].rules
    size = frame_size(Resolution(resolution), AspectRatio.WIDE)
    small = stage_one_size(size, rules.short_side_for(resolution), rules)
    return small, (2 * small[0], 2 * small[1])


def _timed(device: torch.device, call: Callable[[], Any]) -> tuple[float, float]:
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    with torch.inference_mode():
        call()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = (torch.cuda.max_memory_allocated() - base) / 2**30 if cuda else 0.0
    return seconds, peak
