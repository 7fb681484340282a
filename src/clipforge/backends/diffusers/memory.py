"""A memory plan per job: will the final VAE decode fit the device, and if not, what does.

The decode comes after all the denoising, so running out of memory there loses the whole job.
Before a job starts, its decode peak is estimated from the VAE's shapes (channels at full
resolution, compression ratios, dtype) and the clip's (frames, height, width), and compared
with the device's free memory (`torch.cuda.mem_get_info`, or CLIPFORGE_DEVICE_MEMORY_GB):

- `plain`: the decode fits as it is;
- `tiled`: spatial tiling (and, for LTX's VAE, frame-wise temporal tiling) makes it fit;
- `offload`: even tiled it does not fit next to the denoising weights, so the transformers
  move to the host for the decode (they come back for the next job);
- `refuse`: nothing fits; the job fails before any denoising, naming the sizes.

The estimate counts the tensors the decode creates (what the CUDA caching allocator must hold),
calibrated against the live tensor bytes measured during real CPU decodes
(tests/backends/test_diffusers_memory.py); kernels' own workspaces are the `HEADROOM`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Literal

import torch

log = logging.getLogger(__name__)

Decode = Literal["plain", "tiled", "offload", "refuse"]
HEADROOM = 0.85
"""Share of the free memory a plan may use: the rest is for kernel workspaces, fragmentation."""
CHUNK_FIXED, CHUNK_PER_BLOCK = 4.5, 2.0
"""Full-resolution activations live while one chunk decodes, in units of (channels x chunk
frames x height x width): fitted to the live tensor bytes of real CPU decodes."""
WAN_TILE, WAN_STRIDE = 256, 192
"""diffusers' AutoencoderKLWan tiling defaults (pixels)."""
LTX_TILE, LTX_STRIDE, LTX_TILE_FRAMES = 512, 448, 16
"""diffusers' AutoencoderKLLTXVideo tiling defaults (pixels, frames)."""
HUNYUAN_WORKING = 5.625
"""HunyuanVideo 1.5's decoder: activations live at once, in the same units, whatever its
blocks per level (measured on CPU decodes with 1, 2 and 3: the channel-shuffling upsamplers,
not the res blocks, set the peak)."""
HUNYUAN_TILE, HUNYUAN_STRIDE = 256, 192
"""diffusers' AutoencoderKLHunyuanVideo15 tiling defaults (pixels; overlap 0.25; every frame
of a tile decodes together: no temporal tiling)."""
POSTPROCESS_COPIES = 2
"""Copies of the decoded clip the pipeline's video processor makes (scale, clamp)."""


@dataclass(frozen=True)
class VaeShape:
    """What decides a VAE's decode memory."""

    kind: Literal["wan", "ltx", "hunyuan"]
    channels: float
    """Decoder channels per output pixel at full resolution (LTX, Wan 2.2: the patch level's
    channels over the patch area)."""
    blocks: int
    """Res blocks at the top level."""
    chunk_frames: int
    """Frames decoded together (Wan: one latent frame = temporal ratio frames; LTX: all)."""
    dtype_bytes: int
    spatial: int = 8
    """Spatial compression (pixels per latent side)."""

    @classmethod
    def of(cls, vae: Any) -> VaeShape | None:
        """The shape of a diffusers Wan, LTX or HunyuanVideo 1.5 VAE; None for another (no
        plan: plain)."""
        config, name = vae.config, type(vae).__name__
        size = torch.finfo(vae.dtype).bits // 8
        if name == "AutoencoderKLWan":
            top = (config.get("decoder_base_dim") or config.base_dim) * config.dim_mult[0]
            patch = config.get("patch_size") or 1
            channels = top / (patch * patch)
            spatial = int(getattr(vae, "spatial_compression_ratio", 8))
            return cls("wan", channels, config.num_res_blocks + 1, 4, size, spatial)
        if name in ("AutoencoderKLLTXVideo", "AutoencoderKLLTX2Video"):  # the same decoder plan
            patch = config.patch_size * config.patch_size
            top = config.decoder_block_out_channels[0]
            blocks = config.decoder_layers_per_block[0]
            return cls("ltx", top / patch, blocks, 0, size, config.patch_size * 8)
        if name == "AutoencoderKLHunyuanVideo15":  # all frames at once, 128 channels on top
            top, blocks = config.block_out_channels[0], config.layers_per_block + 1
            return cls("hunyuan", top, blocks, 0, size, config.spatial_compression_ratio)
        return None


def decode_bytes(
    shape: VaeShape,
    frames: int,
    height: int,
    width: int,
    tiled: bool,
    materialized_attention: bool = False,
    tiles: tuple[int, int] | None = None,
) -> int:
    """Peak bytes of the tensors made while decoding a (frames, height, width) clip.

    Plain: the larger of one chunk's activations next to the output so far, and the last
    `torch.cat` (old and new output). Tiled: every decoded tile is kept, then the rows and
    the whole are joined and clamped (the tiles' summed area over the clip's is the overlap).
    Wan's VAE has an attention block at latent resolution: a full score matrix where the
    attention kernel materialises it (PyTorch's math kernel on a CPU; not the GPU's
    memory-efficient ones).
    ``tiles``: (tile, stride) in pixels, else diffusers' defaults.
    """
    out = 3 * frames * height * width * shape.dtype_bytes
    default = {
        "wan": (WAN_TILE, WAN_STRIDE),
        "ltx": (LTX_TILE, LTX_STRIDE),
        "hunyuan": (HUNYUAN_TILE, HUNYUAN_STRIDE),
    }[shape.kind]
    tile, stride = tiles or default
    chunk = shape.chunk_frames or frames
    if tiled and shape.kind == "ltx":
        chunk = min(frames, LTX_TILE_FRAMES)
    area = min(height, tile) * min(width, tile) if tiled else height * width
    unit = shape.channels * chunk * area * shape.dtype_bytes
    working = (CHUNK_FIXED + CHUNK_PER_BLOCK * shape.blocks) * unit
    if shape.kind == "hunyuan":
        working = HUNYUAN_WORKING * unit
    if materialized_attention and shape.kind == "wan":
        tokens = area // (shape.spatial * shape.spatial)
        working += 2 * tokens * tokens * shape.dtype_bytes
    if not tiled or (height <= tile and width <= tile):
        return int(max(out + working, 2 * out + unit))
    overlap = _covered(height, tile, stride) * _covered(width, tile, stride) / (height * width)
    return int(max(overlap * out + working, (overlap + 3) * out))


def _covered(size: int, tile: int, stride: int) -> int:
    """Pixels the tiles along one side cover together (overlaps counted twice)."""
    return sum(min(tile, size - start) for start in range(0, size, stride))


@dataclass(frozen=True)
class MemoryPlan:
    """What one job's decode will do, and the numbers it was decided on (GiB in the line)."""

    decode: Decode
    plain_bytes: int
    tiled_bytes: int
    free_bytes: int | None
    offloadable_bytes: int = 0

    def line(self) -> str:
        free = "unknown" if self.free_bytes is None else f"{self.free_bytes / 2**30:.1f} GiB"
        return (
            f"decode {self.decode}: plain {self.plain_bytes / 2**30:.1f} GiB, tiled "
            f"{self.tiled_bytes / 2**30:.1f} GiB, free {free}"
        )

    def as_dict(self) -> dict[str, object]:
        return {"decode": self.decode, "summary": self.line()}


def plan_memory(
    shape: VaeShape | None,
    frames: int,
    height: int,
    width: int,
    free_bytes: int | None,
    offloadable_bytes: int = 0,
) -> MemoryPlan:
    """The plan for decoding a (frames, height, width) clip with ``free_bytes`` free on the
    device (None: unbounded, a CPU) and ``offloadable_bytes`` of weights that could leave."""
    if shape is None:
        return MemoryPlan("plain", 0, 0, free_bytes)
    plain = decode_bytes(shape, frames, height, width, tiled=False)
    tiled = decode_bytes(shape, frames, height, width, tiled=True)
    extra = POSTPROCESS_COPIES * 3 * frames * height * width * shape.dtype_bytes
    plain, tiled = plain + extra, tiled + extra
    if free_bytes is None or plain <= HEADROOM * free_bytes:
        decode: Decode = "plain"
    elif tiled <= HEADROOM * free_bytes:
        decode = "tiled"
    elif tiled <= HEADROOM * (free_bytes + offloadable_bytes):
        decode = "offload"
    else:
        decode = "refuse"
    return MemoryPlan(decode, plain, tiled, free_bytes, offloadable_bytes)


def apply_plan(vae: Any, plan: MemoryPlan, forced_tiling: bool = False) -> None:
    """Tiling on the VAE as the plan says (always on where the operator asked for it)."""
    tiled = forced_tiling or plan.decode in ("tiled", "offload")
    if tiled and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    elif hasattr(vae, "disable_tiling"):
        vae.disable_tiling()
    if hasattr(vae, "use_framewise_decoding"):  # LTX: temporal tiling
        vae.use_framewise_decoding = tiled


def free_memory(device: torch.device, override_gb: float | None) -> int | None:
    """Bytes free on ``device`` now (``override_gb`` when set); None on a CPU."""
    if override_gb is not None:
        return int(override_gb * 2**30)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    return None


def expandable_segments() -> None:
    """Ask the CUDA caching allocator for expandable segments (less fragmentation between a
    job's phases): through the environment before CUDA starts, else set in place."""
    os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", "expandable_segments:True")
    if torch.cuda.is_initialized():
        try:
            torch.cuda.memory._set_allocator_settings("expandable_segments:True")
        except RuntimeError as exc:  # an older torch, or settings fixed at start
            log.warning("could not set expandable_segments: %s", exc)


def weight_bytes(module: torch.nn.Module) -> int:
    """Bytes the parameters of `module` hold on its device, a quantized tensor (torchao's int8
    or float8) counted by its stored parts (data and scales), not by the dtype it stands for:
    what an `offload` plan frees by parking it."""
    return sum(_stored_bytes(p) for p in module.parameters())


def _stored_bytes(tensor: torch.Tensor) -> int:
    if type(tensor) in (torch.Tensor, torch.nn.Parameter) or not hasattr(
        tensor, "__tensor_flatten__"
    ):
        return tensor.numel() * tensor.element_size()
    names, _ = tensor.__tensor_flatten__()
    return sum(_stored_bytes(getattr(tensor, name)) for name in names)


TRANSFORMERS = ("transformer", "transformer_2")
"""The pipeline components an `offload` plan parks on the host for the decode."""


class DecodeMemory:
    """A loaded pipeline's memory plans, applied around each job."""

    def __init__(
        self,
        pipeline: Any,
        device: torch.device,
        forced_tiling: bool = False,
        override_gb: float | None = None,
    ) -> None:
        self.pipeline, self.device = pipeline, device
        self.forced_tiling, self.override_gb = forced_tiling, override_gb
        self.shape = VaeShape.of(pipeline.vae) if hasattr(pipeline, "vae") else None
        self._parked: list[Any] = []

    def plan(self, frames: int, height: int, width: int) -> MemoryPlan:
        """The plan for a clip of (frames, height, width) at the device's memory now."""
        free = free_memory(self.device, self.override_gb)
        return plan_memory(self.shape, frames, height, width, free, self._offloadable())

    def _offloadable(self) -> int:
        total = 0
        for name in TRANSFORMERS:
            module = getattr(self.pipeline, name, None)
            if isinstance(module, torch.nn.Module):
                total += weight_bytes(module)
        return total

    def apply(self, plan: MemoryPlan, progress: Any) -> Any:
        """Set the VAE for ``plan``; the progress callback to use (an `offload` plan parks
        the transformers once the last step is reported)."""
        log.info("memory plan: %s", plan.line())
        apply_plan(self.pipeline.vae, plan, self.forced_tiling)
        if plan.decode != "offload":
            return progress

        def parking(step: int, total: int) -> None:
            progress(step, total)
            if step == total:
                self.park()

        return parking

    def park(self) -> None:
        for name in TRANSFORMERS:
            module = getattr(self.pipeline, name, None)
            if isinstance(module, torch.nn.Module):
                module.to("cpu")
                self._parked.append(module)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def restore(self) -> None:
        """Bring parked transformers back to the device (after the job's decode)."""
        while self._parked:
            self._parked.pop().to(self.device)
