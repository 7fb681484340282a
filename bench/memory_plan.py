"""What each catalogue entry's final decode will do on an 80 GB and a 24 GB card, from the
memory plan's own numbers (`backends/diffusers/memory.py`): a Markdown table for docs/GPU.md.

    python bench/memory_plan.py
    python bench/memory_plan.py --quantize fp8

`--quantize int8|fp8` counts the transformers at one byte a parameter (CLIPFORGE_QUANTIZE;
the per-row scales are under 0.1% of it).

Weights on the device are the published parameter counts (bf16; the Wan VAE and CLIP image
encoder in float32, as ClipForge loads them), all loaded in place; the decode gets what is
left less a CUDA context. The transformers are what an `offload` plan moves to the host.
The VAE shapes are the released configs'. Two-stage LTX entries decode at the refined size
(with their upsampler; without it, one pass at the native size). The Wan estimate is
calibrated on real CPU decodes of a small Wan VAE; the LTX one on a small LTX VAE, whose top
level is far narrower than the released one: treat LTX cells as uncalibrated until the GPU
check measures them.
"""

from __future__ import annotations

import argparse
import sys

from clipforge.backends.diffusers.entries import ENTRIES
from clipforge.backends.diffusers.inputs import native_frame_count
from clipforge.backends.diffusers.memory import VaeShape, plan_memory
from clipforge.backends.diffusers.two_stage import stage_one_size
from clipforge.schemas import AspectRatio, Resolution, frame_size

GB, GIB = 10**9, 2**30
CARDS = {"80 GB": 79.6 * GIB, "24 GB": 23.6 * GIB}
CONTEXT = 1.5 * GIB
"""CUDA context, cuBLAS/cuDNN workspaces, the allocator's slack."""
STREAMED = 2 * GIB
"""What group offload keeps on the card while the VAE decodes: the VAE itself and the
prefetch buffers (leaf level, one layer ahead)."""
WAN21_VAE = VaeShape("wan", 96, 3, 4, 4, 8)
WAN22_VAE = VaeShape("wan", 256 / 4, 3, 4, 4, 16)
LTX_VAE = VaeShape("ltx", 256 / 16, 5, 0, 2, 32)
HUNYUAN_VAE = VaeShape("hunyuan", 128, 3, 0, 2, 16)
"""HunyuanVideo 1.5's VAE in bf16 (calibrated on a 1/16-wide copy with its channel ratios)."""
QWEN_25_VL_7B, BYT5_SIGLIP = 7.6e9 * 2, (0.22e9 + 0.43e9) * 2
"""HunyuanVideo 1.5's text model (Qwen2.5-VL-7B's language model), its ByT5 glyph encoder and
SigLIP so400m image encoder (image-to-video), in bf16."""
VACE_13B, VACE_14B = 2.2e9, 17.3e9
"""Wan VACE's transformers: the Wan 2.1 backbone and its control blocks (15 Wan blocks of the
1.3B, 8 of the 14B; counted from the configs)."""
T5_XXL_UMT5, T5_XXL, CLIP_H = 5.7e9 * 2, 4.8e9 * 2, 0.63e9 * 4
GEMMA3_12B = 12.2e9 * 2
"""LTX-2's text encoder (Gemma 3 12B, bf16); its video VAE has LTX's decoder layout, and the
audio VAE and vocoder are small beside it (about 1 GB together with the video VAE)."""
WEIGHTS: dict[str, tuple[float, float, VaeShape]] = {
    # name: (transformer bytes, other weights' bytes, VAE)
    "wan2.1-t2v-1.3b": (1.4e9 * 2, T5_XXL_UMT5 + 0.5e9, WAN21_VAE),
    "wan2.1-t2v-14b": (14e9 * 2, T5_XXL_UMT5 + 0.5e9, WAN21_VAE),
    "wan2.2-ti2v-5b": (5e9 * 2, T5_XXL_UMT5 + 2.8e9, WAN22_VAE),
    "wan2.2-t2v-a14b": (28e9 * 2, T5_XXL_UMT5 + 0.5e9, WAN21_VAE),
    "wan2.1-i2v-14b-480p": (16.4e9 * 2, T5_XXL_UMT5 + CLIP_H + 0.5e9, WAN21_VAE),
    "wan2.1-i2v-14b-720p": (16.4e9 * 2, T5_XXL_UMT5 + CLIP_H + 0.5e9, WAN21_VAE),
    "wan2.1-flf2v-14b-720p": (16.4e9 * 2, T5_XXL_UMT5 + CLIP_H + 0.5e9, WAN21_VAE),
    "wan2.2-i2v-a14b": (28e9 * 2, T5_XXL_UMT5 + 0.5e9, WAN21_VAE),
    "ltx-video-0.9.5": (2e9 * 2, T5_XXL + 0.8e9, LTX_VAE),
    "ltx-video-0.9.7-dev": (13e9 * 2, T5_XXL + 0.8e9, LTX_VAE),
    "ltx-video-0.9.7-distilled": (13e9 * 2, T5_XXL + 0.8e9, LTX_VAE),
    "ltx-2": (19e9 * 2, GEMMA3_12B + 1e9, LTX_VAE),
    "ltx-2.3": (22e9 * 2, GEMMA3_12B + 1e9, LTX_VAE),
    "ltx-2.3-distilled": (22e9 * 2, GEMMA3_12B + 1e9, LTX_VAE),
    "ltx-video-0.9.8-13b-dev": (13e9 * 2, T5_XXL + 0.8e9, LTX_VAE),
    "ltx-video-0.9.8-13b-distilled": (13e9 * 2, T5_XXL + 0.8e9, LTX_VAE),
    "wan2.1-vace-1.3b": (VACE_13B * 2, T5_XXL_UMT5 + 0.5e9, WAN21_VAE),
    "wan2.1-vace-14b": (VACE_14B * 2, T5_XXL_UMT5 + 0.5e9, WAN21_VAE),
    **{
        entry.name: (8.3e9 * 2, QWEN_25_VL_7B + BYT5_SIGLIP + 1e9, HUNYUAN_VAE)
        for entry in ENTRIES
        if entry.name.startswith("hunyuanvideo-1.5")
    },
}


QUANTIZED_SHARE = {"none": 1.0, "int8": 0.5, "fp8": 0.5}
"""Transformer bytes under CLIPFORGE_QUANTIZE, as a share of bf16's."""


def cell(
    name: str, resolution: Resolution, seconds: int, card: float, quantize: str = "none"
) -> str:
    """The decode plan of a 16:9 clip; where the weights do not fit in place, the plan under
    `CLIPFORGE_OFFLOAD=group` (the weights stream from the host: about STREAMED on the card)."""
    entry = next(e for e in ENTRIES if e.name == name)
    rules = entry.rules
    transformer, other, vae = WEIGHTS[name]
    transformer *= QUANTIZED_SHARE[quantize]
    width, height = decode_size(name, resolution)
    frames = native_frame_count(seconds, rules)
    free = int(card - CONTEXT - transformer - other)
    prefix = ""
    if free < 0:
        prefix, free = "offload, ", int(card - CONTEXT - STREAMED)
    plan = plan_memory(vae, frames, height, width, free, int(transformer))
    plain, tiled = plan.plain_bytes / GIB, plan.tiled_bytes / GIB
    return f"{prefix}{plan.decode} ({plain:.0f}/{tiled:.0f} of {free / GIB:.0f})"


def decode_size(name: str, resolution: Resolution) -> tuple[int, int]:
    """The (width, height) decoded: the native size, or a two-stage entry's refined size
    (twice its first stage: 4/3 of the native size), as the backend plans it."""
    rules = next(e for e in ENTRIES if e.name == name).rules
    short = rules.short_side_for(str(resolution.value))
    size = frame_size(resolution, AspectRatio.WIDE)
    if rules.two_stage is not None:
        small = stage_one_size(size, short, rules)
        return 2 * small[0], 2 * small[1]
    return rules.tier_size(size, short)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quantize", choices=list(QUANTIZED_SHARE), default="none")
    quantize = parser.parse_args([] if argv is None else argv).quantize
    # 4k renders the 1080p tier's native size, then scales (no open model is trained at 4k)
    tiers = (Resolution.P480, Resolution.P720, Resolution.P1080)
    columns = [(r, s) for r in tiers for s in (5, 10)]
    for card_name, card in CARDS.items():
        title = f"{card_name} card, transformers {quantize}"
        print(f"\n{title}: decode plan (plain / tiled estimate of free GiB)\n")
        print("| entry | " + " | ".join(f"{r.value} {s} s" for r, s in columns) + " |")
        print("|---" * (len(columns) + 1) + "|")
        for name in WEIGHTS:
            cells = [cell(name, r, s, card, quantize) for r, s in columns]
            print(f"| `{name}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
