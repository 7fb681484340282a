"""Tiny random LoRA adapters for the tiny pipelines, written as the files users have.

`build_tiny_lora(pipeline_folder, path)` reads the transformer of a tiny pipeline folder and
writes a rank-2 LoRA on every attention projection of its blocks (to_q, to_k, to_v,
to_out.0), as one .safetensors file:

- `layout="diffusers"`: the keys diffusers and PEFT save (`transformer.<module>.lora_A.weight`);
- `layout="comfy"`: the keys of ComfyUI-style files under a `diffusion_model.` prefix: for Wan
  kohya's (`lora_down`/`lora_up` and an `alpha` per module, Wan's own `self_attn.q` names, as
  lightx2v ships its LoRAs); for LTX the LTX-Video trainer's (diffusers' module names). The
  Wan and LTX loaders of diffusers convert both when they load them.

The up matrices are not zero (a trained adapter's are not), so an adapter changes the output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

import torch
from safetensors.torch import save_file

Layout = Literal["diffusers", "comfy"]
RANK = 2
_ATTENTION = re.compile(r"^blocks\.(\d+)\.(attn1|attn2)\.(to_q|to_k|to_v|to_out\.0)$")
_WAN_NAMES = {"attn1": "self_attn", "attn2": "cross_attn"}
_WAN_PROJECTIONS = {"to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "o"}


def build_tiny_lora(
    pipeline: Path,
    path: Path,
    *,
    seed: int = 0,
    layout: Layout = "diffusers",
    strength: float = 0.5,
) -> Path:
    """Write a random LoRA for the transformer of the tiny pipeline folder `pipeline` at `path`
    (a .safetensors file); the same seed gives the same file."""
    generator = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    for module, (features_in, features_out) in attention_projections(pipeline).items():
        down = torch.randn(RANK, features_in, generator=generator) * strength
        up = torch.randn(features_out, RANK, generator=generator) * strength
        if layout == "diffusers":
            tensors[f"transformer.{module}.lora_A.weight"] = down
            tensors[f"transformer.{module}.lora_B.weight"] = up
        elif module.startswith("blocks."):  # Wan: kohya's names, as lightx2v ships them
            name = f"diffusion_model.{_comfy_name(module)}"
            tensors[f"{name}.lora_down.weight"] = down
            tensors[f"{name}.lora_up.weight"] = up
            tensors[f"{name}.alpha"] = torch.tensor(float(RANK))
        else:  # LTX: the LTX-Video trainer's, diffusers' names under `diffusion_model.`
            tensors[f"diffusion_model.{module}.lora_A.weight"] = down
            tensors[f"diffusion_model.{module}.lora_B.weight"] = up
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path))
    return path


def attention_projections(pipeline: Path) -> dict[str, tuple[int, int]]:
    """The attention projections of the transformer in `pipeline` and their (in, out) widths,
    from its config alone (the tiny transformers project width -> width)."""
    config = json.loads((Path(pipeline) / "transformer" / "config.json").read_text())
    width = int(config["num_attention_heads"]) * int(config["attention_head_dim"])
    prefix = "blocks" if "Wan" in str(config["_class_name"]) else "transformer_blocks"
    return {
        f"{prefix}.{block}.{attention}.{projection}": (width, width)
        for block in range(int(config["num_layers"]))
        for attention in ("attn1", "attn2")
        for projection in ("to_q", "to_k", "to_v", "to_out.0")
    }


def _comfy_name(module: str) -> str:
    """A Wan module name as the original Wan code (and so ComfyUI) spells it."""
    match = _ATTENTION.match(module)
    if match is None:
        return module
    return f"blocks.{match[1]}.{_WAN_NAMES[match[2]]}.{_WAN_PROJECTIONS[match[3]]}"
