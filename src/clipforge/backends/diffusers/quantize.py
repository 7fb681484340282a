"""Weight quantization of the denoisers through torchao (off unless asked for, per model).

CLIPFORGE_QUANTIZE names a mode per set of weights (`{"wan2.2-t2v-a14b": "fp8"}`; `*` for
every model):

- `int8`: int8 weight-only (torchao `Int8WeightOnlyConfig`): half the bf16 weight memory,
  activations stay in the compute dtype; runs anywhere, speeds up only memory-bound matmuls.
- `fp8`: float8 weights and dynamically scaled float8 activations
  (`Float8DynamicActivationFloat8WeightConfig`, per-row scales): half the weight memory and
  the FP8 tensor cores; NVIDIA compute capability 8.9 or newer only (Ada, Hopper: H100, H200),
  refused at start elsewhere.

Only the transformers (`transformer`, Wan 2.2 A14B's `transformer_2`) are quantized, after
loading and after a profile's LoRA is fused (so the fused weights are what is quantized),
before compile. torchao is an optional dependency (`pip install clipforge[quantize]`).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

import torch

from clipforge.backends.diffusers.memory import weight_bytes
from clipforge.backends.diffusers.options import transformers_of
from clipforge.errors import ModelUnavailable

log = logging.getLogger(__name__)

QUANTIZE_MODES = ("none", "int8", "fp8")
EVERY_MODEL = "*"
FP8_CAPABILITY = (8, 9)


def mode_for(quantize: Mapping[str, str], weights: str | None, entry: str | None = None) -> str:
    """The mode CLIPFORGE_QUANTIZE gives these weights (by the name they were configured
    with, then their catalogue entry, then `*`); ModelUnavailable for an unknown mode."""
    keys = [k for k in (weights, entry, EVERY_MODEL) if k]
    mode = next((quantize[k] for k in keys if k in quantize), "none").strip().lower()
    if mode not in QUANTIZE_MODES:
        allowed = ", ".join(QUANTIZE_MODES)
        raise ModelUnavailable(f"CLIPFORGE_QUANTIZE: {mode!r} is not one of: {allowed}")
    return mode


def check_quantize(mode: str, device: torch.device) -> None:
    """Refuse, before loading, a mode that cannot run here (no torchao, FP8 off Ada/Hopper)."""
    if mode == "none":
        return
    if importlib.util.find_spec("torchao") is None:
        raise ModelUnavailable(
            f"CLIPFORGE_QUANTIZE={mode} needs torchao: `pip install 'clipforge[quantize]'`"
        )
    if mode == "fp8":
        capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else None
        if capability is None or capability < FP8_CAPABILITY:
            found = f"compute capability {capability}" if capability else f"device {device}"
            raise ModelUnavailable(
                f"CLIPFORGE_QUANTIZE=fp8 needs an NVIDIA GPU of compute capability 8.9 or "
                f"newer (Ada, H100, H200); this is {found}: use int8 or none"
            )


def quantize_transformers(pipeline: Any, mode: str) -> list[str]:
    """Quantize every denoiser of `pipeline` in place; returns a note per transformer."""
    if mode == "none":
        return []
    from torchao.quantization import (
        Float8DynamicActivationFloat8WeightConfig,
        Int8WeightOnlyConfig,
        PerRow,
        quantize_,
    )

    notes = []
    for transformer in transformers_of(pipeline):
        before = weight_bytes(transformer)
        if mode == "int8":
            config: Any = Int8WeightOnlyConfig()
        else:
            config = Float8DynamicActivationFloat8WeightConfig(granularity=PerRow())
        quantize_(transformer, config)
        after = weight_bytes(transformer)
        notes.append(f"quantize {mode}: {before / 2**30:.2f} -> {after / 2**30:.2f} GiB")
    for note in notes:
        log.info("diffusers options: %s", note)
    return notes
