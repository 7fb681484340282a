"""Finding and loading diffusers weights: a catalogue name, a local folder or a hub id.

Which model the weights are comes from their own configs (`catalog.lookup`), so a
renamed folder or a hub cache snapshot is loaded with its entry's pipeline class and rules.
Components load in the precision their authors use (Wan: the VAE and the CLIP image encoder in
float32, the rest in CLIPFORGE_DTYPE) and, when no offload is asked for, straight onto the
device (`device_map`), never through a full copy in host memory. Every way loading can fail
becomes one `ModelUnavailable` that names what was asked for, why it failed and how to fix it.
"""

from __future__ import annotations

import importlib.util
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diffusers
import torch
from huggingface_hub import constants as hub_constants
from packaging.version import Version

from clipforge.backends.diffusers.catalog import (
    find_entry,
    lookup,
    no_upsampler_note,
    rules_for,
    upsampler_place,
)
from clipforge.backends.diffusers.config import WeightsConfig
from clipforge.backends.diffusers.rules import CatalogEntry, ModelFamily, TwoStage
from clipforge.errors import ModelUnavailable

log = logging.getLogger(__name__)

HOW_TO_CONFIGURE = (
    "Set CLIPFORGE_MODEL (or run `clipforge serve --model PATH`) to a catalogue name such as "
    "wan2.1-t2v-1.3b, a diffusers text-to-video pipeline folder, or a hub id on a machine "
    "that can reach the Hugging Face hub."
)

# diffusers 0.42 renamed from_pretrained's `torch_dtype` to `dtype` (the old name warns).
_DTYPE_KEYWORD = "dtype" if Version(diffusers.__version__) >= Version("0.42") else "torch_dtype"
_DTYPE_ALIASES = {"bf16": "bfloat16", "fp16": "float16", "half": "float16", "fp32": "float32"}
FULL_PRECISION_COMPONENTS = ("vae", "image_encoder")
"""Components a `full_precision_vae` family loads in float32 (the Wan authors' examples)."""


@dataclass(frozen=True)
class WeightsSource:
    """Where a pipeline comes from, which catalogue entry it is and what its configs say."""

    source: str
    is_folder: bool
    entry: CatalogEntry | None
    config: WeightsConfig | None = None

    @property
    def rules(self) -> ModelFamily | None:
        return rules_for(self.entry, self.config)


def resolve_weights(weights: str | None) -> WeightsSource:
    """Turn CLIPFORGE_MODEL into a source: catalogue name -> hub id; a folder, cache snapshot
    or hub id -> the entry its configs identify."""
    if not weights:
        raise ModelUnavailable(
            f"no model is configured (CLIPFORGE_MODEL is unset). {HOW_TO_CONFIGURE}"
        )
    path = Path(weights).expanduser()
    if path.exists():
        entry, config = lookup(path)
        return WeightsSource(str(path), True, entry, config)
    if _looks_like_path(weights):
        raise ModelUnavailable(
            f"no diffusers pipeline folder at {str(path)!r} (from CLIPFORGE_MODEL / --model). "
            + HOW_TO_CONFIGURE
        )
    entry, config = lookup(weights)
    named = find_entry(weights)
    return WeightsSource(named.hub_id if named else weights, False, entry, config)


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


def component_dtypes(rules: ModelFamily | None, dtype: torch.dtype) -> Any:
    """from_pretrained's dtype: one dtype, or per component when the VAE stays in float32."""
    if rules is None or not rules.full_precision_vae or dtype == torch.float32:
        return dtype
    return {"default": dtype} | dict.fromkeys(FULL_PRECISION_COMPONENTS, torch.float32)


def in_place_device(device: torch.device) -> str | None:
    """The `device_map` that loads every component straight onto `device`, if diffusers
    takes one for it (with accelerate installed). diffusers takes only "cuda" and "cpu": an
    indexed GPU (`clipforge worker --device cuda:1`) is "cuda" loaded while it is the current
    device (`current_device`)."""
    if importlib.util.find_spec("accelerate") is None:
        return None
    if device.type == "cuda" or (device.type == "cpu" and device.index is None):
        return device.type
    return None


@contextmanager
def current_device(device: torch.device) -> Iterator[None]:
    """Make `device` the current CUDA device in the block ("cuda" then means it)."""
    if device.type == "cuda" and device.index is not None:
        with torch.cuda.device(device.index):
            yield
    else:
        yield


def load_pipeline(
    weights: WeightsSource, dtype: torch.dtype, device: torch.device | None = None
) -> Any:
    """Load the pipeline: onto `device` in place when given (no offload), else on the CPU.

    A catalogue entry is loaded with its own pipeline class (LTX 0.9.5 folders are saved as
    LTXPipeline and run as LTXConditionPipeline); anything else through model_index.json.
    """
    entry = weights.entry
    loader = getattr(diffusers, entry.pipeline_class) if entry else diffusers.DiffusionPipeline
    offline = bool(hub_constants.HF_HUB_OFFLINE)
    kwargs: dict[str, Any] = {
        "local_files_only": offline,
        _DTYPE_KEYWORD: component_dtypes(weights.rules, dtype),
    }
    device_map = in_place_device(device) if device is not None else None
    if device_map is not None:
        kwargs["device_map"] = device_map
    try:
        with current_device(device) if device is not None else nullcontext():
            pipeline = loader.from_pretrained(weights.source, **kwargs)
    except Exception as exc:
        raise ModelUnavailable(_load_failure(weights, offline, exc)) from exc
    if device is not None and device_map is None:
        pipeline.to(device)
    return pipeline


def load_upsampler(weights: WeightsSource, stage: TwoStage, dtype: torch.dtype) -> Any | None:
    """The spatial latent upsampler of a two-stage entry, where `catalog.upsampler_place`
    finds it (never the hub behind a folder's back); None (one pass, with a WARNING and the
    same line in `clipforge models`) where it is not here."""
    from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
    from diffusers.pipelines.ltx2 import LTX2LatentUpsamplerModel

    models = {cls.__name__: cls for cls in (LTXLatentUpsamplerModel, LTX2LatentUpsamplerModel)}
    model = models[stage.upsampler_class]
    place = upsampler_place(weights.source, weights.is_folder, stage)
    if place is None:
        log.warning("%s", no_upsampler_note(stage))
        return None
    source, subfolder = place
    local = Path(source).is_dir() or bool(hub_constants.HF_HUB_OFFLINE)
    try:
        return model.from_pretrained(
            source, subfolder=subfolder or None, local_files_only=local, **{_DTYPE_KEYWORD: dtype}
        )
    except Exception as exc:  # a broken or partial download: one pass, said loudly
        log.warning("two-stage: off, the upsampler at %s did not load: %s", source, exc)
        return None


def _load_failure(weights: WeightsSource, offline: bool, exc: Exception) -> str:
    entry = weights.entry
    what = f"catalogue entry {entry.name!r} " if entry else ""
    where = "folder" if weights.is_folder else "hub id"
    unreachable = None if offline or weights.is_folder else _connection_failure(exc)
    if unreachable is not None:  # diffusers' own text points at a stack trace nobody sees
        return (
            f"could not load {what}from hub id {weights.source!r} (CLIPFORGE_MODEL): the "
            f"Hugging Face hub ({hub_constants.ENDPOINT}) could not be reached "
            f"({type(unreachable).__name__}: {unreachable}) and the weights are not in the "
            f"local cache. Fix: on a machine that can reach the hub run "
            f"`hf download {weights.source}` (same HF_HOME), or download them to a folder and "
            "set CLIPFORGE_MODEL to it; with HF_HUB_OFFLINE=1 only the cache is searched. "
            + HOW_TO_CONFIGURE
        )
    reason = f"{type(exc).__name__}: {str(exc).strip().rstrip('.')}"
    message = f"could not load {what}from {where} {weights.source!r} (CLIPFORGE_MODEL): {reason}."
    if offline and not weights.is_folder:
        message += (
            " HF_HUB_OFFLINE is set, so only the local Hugging Face cache was searched and the "
            f"weights are not in it. Fix: on a machine that can reach the hub run "
            f"`hf download {weights.source}` (same HF_HOME), or download them to a folder and "
            "set CLIPFORGE_MODEL to it, or unset HF_HUB_OFFLINE."
        )
    return f"{message} {HOW_TO_CONFIGURE}"


def _connection_failure(exc: BaseException) -> BaseException | None:
    """The network error somewhere under `exc` (the hub client wraps it), if there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        name = type(seen).__name__
        if isinstance(seen, ConnectionError | TimeoutError | socket.gaierror) or (
            "Connect" in name or "Timeout" in name
        ):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _looks_like_path(model: str) -> bool:
    """A hub id is `name` or `owner/name`; anything else that does not exist is a bad path."""
    return model.startswith((".", "/", "~")) or "\\" in model or model.count("/") > 1
