"""Finding and loading diffusers weights: a catalogue name, a local folder or a hub id.

Every way loading can fail becomes one `ModelUnavailable` that names what was asked for (the
catalogue entry and its hub id, or the folder), why it failed, and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diffusers
import torch
from huggingface_hub import constants as hub_constants
from packaging.version import Version

from clipforge.backends.diffusers_catalog import CatalogEntry, find_entry
from clipforge.errors import ModelUnavailable

HOW_TO_CONFIGURE = (
    "Set CLIPFORGE_MODEL (or run `clipforge serve --model PATH`) to a catalogue name such as "
    "wan2.1-t2v-1.3b, a diffusers text-to-video pipeline folder, or a hub id on a machine "
    "that can reach the Hugging Face hub."
)

# diffusers 0.42 renamed from_pretrained's `torch_dtype` to `dtype` (the old name warns).
_DTYPE_KEYWORD = "dtype" if Version(diffusers.__version__) >= Version("0.42") else "torch_dtype"
_DTYPE_ALIASES = {"bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp32": "float32"}


@dataclass(frozen=True)
class WeightsSource:
    """Where a pipeline comes from: a folder or a hub id, and its catalogue entry if known."""

    source: str
    is_folder: bool
    entry: CatalogEntry | None


def resolve_weights(weights: str | None) -> WeightsSource:
    """Turn CLIPFORGE_MODEL into a source: catalogue name -> hub id; a folder named like a
    catalogue hub id (what `hf download --local-dir` makes) keeps that entry's rules."""
    if not weights:
        raise ModelUnavailable(
            f"no model is configured (CLIPFORGE_MODEL is unset). {HOW_TO_CONFIGURE}"
        )
    path = Path(weights).expanduser()
    if path.exists():
        return WeightsSource(str(path), True, find_entry(path.name))
    if _looks_like_path(weights):
        raise ModelUnavailable(
            f"no diffusers pipeline folder at {str(path)!r} (from CLIPFORGE_MODEL / --model). "
            + HOW_TO_CONFIGURE
        )
    entry = find_entry(weights)
    return WeightsSource(entry.hub_id if entry else weights, False, entry)


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """`auto` is bfloat16 on CUDA and float32 elsewhere."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    canonical = _DTYPE_ALIASES.get(name.lower(), name.lower())
    if canonical not in ("bfloat16", "float16", "float32"):
        allowed = "auto, bfloat16, float16, float32, " + ", ".join(_DTYPE_ALIASES)
        raise ModelUnavailable(f"CLIPFORGE_DTYPE={name!r} is not one of: {allowed}")
    dtype: torch.dtype = getattr(torch, canonical)
    return dtype


def load_pipeline(weights: WeightsSource, dtype: torch.dtype) -> Any:
    """Load the pipeline (on the CPU; placement is the speed options' job).

    A catalogue entry is loaded with its own pipeline class (LTX 0.9.5+ folders are saved as
    LTXConditionPipeline); anything else through DiffusionPipeline's model_index.json.
    """
    entry = weights.entry
    loader = getattr(diffusers, entry.pipeline_class) if entry else diffusers.DiffusionPipeline
    offline = bool(hub_constants.HF_HUB_OFFLINE)
    try:
        return loader.from_pretrained(
            weights.source, local_files_only=offline, **{_DTYPE_KEYWORD: dtype}
        )
    except Exception as exc:
        raise ModelUnavailable(_load_failure(weights, offline, exc)) from exc


def _load_failure(weights: WeightsSource, offline: bool, exc: Exception) -> str:
    reason = f"{type(exc).__name__}: {str(exc).strip().rstrip('.')}"
    entry = weights.entry
    what = f"catalogue entry {entry.name!r} " if entry else ""
    where = "folder" if weights.is_folder else "hub id"
    message = f"could not load {what}from {where} {weights.source!r} (CLIPFORGE_MODEL): {reason}."
    if offline and not weights.is_folder:
        message += (
            " HF_HUB_OFFLINE is set, so only the local Hugging Face cache was searched and the "
            f"weights are not in it. Fix: on a machine that can reach the hub run "
            f"`hf download {weights.source}` (same HF_HOME), or download them to a folder and "
            "set CLIPFORGE_MODEL to it, or unset HF_HUB_OFFLINE."
        )
    return f"{message} {HOW_TO_CONFIGURE}"


def _looks_like_path(model: str) -> bool:
    """A hub id is `name` or `owner/name`; anything else that does not exist is a bad path."""
    return model.startswith((".", "/", "~")) or "\\" in model or model.count("/") > 1
