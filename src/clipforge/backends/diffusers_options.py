"""Speed and memory options applied to a loaded diffusers pipeline (see docs/GPU.md).

`SpeedOptions` is read from settings and checked before any weights are loaded, so a typo
fails at start with the setting's name. `apply_options` then places the pipeline on its
device and applies each option; an option that cannot help on this device (offload or compile
on a CPU) is skipped with a logged reason, and one that cannot work as asked (a missing
package, an attention kernel this machine lacks, parallelism outside torchrun) is refused
with `ModelUnavailable`.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

import torch
from huggingface_hub import constants as hub_constants

from clipforge.backends.diffusers_parallel import enable_context_parallel
from clipforge.errors import ModelUnavailable
from clipforge.settings import Settings

log = logging.getLogger(__name__)

OFFLOADS = ("none", "model", "group")
STEP_CACHES = ("none", "first_block", "taylorseer", "cache_dit")
PARALLEL_KINDS = ("none", "ulysses", "ring")
DEFAULT_FIRST_BLOCK_THRESHOLD = 0.05
"""diffusers' own FirstBlockCacheConfig default; higher skips more steps, at some quality."""


@dataclass(frozen=True)
class SpeedOptions:
    """The speed and memory settings of one pipeline (CLIPFORGE_<NAME>)."""

    offload: str = "none"
    vae_tiling: bool = False
    vae_slicing: bool = False
    compile: bool = False
    compile_mode: str = "max-autotune-no-cudagraphs"
    attention_backend: str | None = None
    step_cache: str = "none"
    step_cache_threshold: float | None = None
    context_parallel: str = "none"

    @classmethod
    def from_settings(cls, settings: Settings) -> SpeedOptions:
        """The options in `settings`, checked (ModelUnavailable names a bad setting)."""
        names = cls.__dataclass_fields__
        options = cls(**{name: getattr(settings, name) for name in names})
        options.check()
        return options

    def check(self) -> None:
        for setting, value, allowed in (
            ("OFFLOAD", self.offload, OFFLOADS),
            ("STEP_CACHE", self.step_cache, STEP_CACHES),
            ("CONTEXT_PARALLEL", self.context_parallel, PARALLEL_KINDS),
        ):
            if value not in allowed:
                choices = ", ".join(allowed)
                raise ModelUnavailable(f"CLIPFORGE_{setting}={value!r} is not one of: {choices}")


def apply_options(pipeline: Any, options: SpeedOptions, device: torch.device) -> list[str]:
    """Place `pipeline` on `device` and apply `options`; returns what was done or skipped.

    Order matters: parallelism and attention change the attention processors before
    compile traces them, and caching hooks go on before compile as well.
    """
    notes: list[str] = []
    _place(pipeline, options.offload, device, notes)
    _vae(pipeline, options, notes)
    if options.context_parallel != "none":
        for transformer in transformers_of(pipeline):
            enable_context_parallel(transformer, options.context_parallel, device)
        notes.append(f"context parallelism: {options.context_parallel}")
    if options.attention_backend:
        _attention(pipeline, options.attention_backend, notes)
    if options.step_cache != "none":
        _step_cache(pipeline, options, notes)
    if options.compile:
        _compile(pipeline, options.compile_mode, device, notes)
    for note in notes:
        log.info("diffusers options: %s", note)
    return notes


def transformers_of(pipeline: Any) -> list[Any]:
    """The denoisers: `transformer`, and Wan 2.2 A14B's second expert `transformer_2`."""
    names = ("transformer", "transformer_2")
    return [t for t in (getattr(pipeline, n, None) for n in names) if t is not None]


def _place(pipeline: Any, offload: str, device: torch.device, notes: list[str]) -> None:
    if offload == "none" or device.type == "cpu":
        pipeline.to(device)
        if offload != "none":
            notes.append(f"offload={offload} skipped: the model already lives in CPU memory")
        return
    if offload == "model":
        # Whole components move to the GPU when used: about the size of the largest one.
        pipeline.enable_model_cpu_offload(device=device)
    else:
        _group_offload(pipeline, device)
    notes.append(f"offload={offload} onto {device}")


def _group_offload(pipeline: Any, device: torch.device) -> None:
    """Weights stream to the GPU ahead of use on a side CUDA stream, so transfers overlap
    compute (Wan 14B in about 13 GB): diffusers models layer by layer, the transformers text
    encoder block by block."""
    cpu = torch.device("cpu")
    for name, component in pipeline.components.items():
        if not isinstance(component, torch.nn.Module):
            continue
        offloadable: Any = component
        if hasattr(offloadable, "enable_group_offload"):
            offloadable.enable_group_offload(
                onload_device=device, offload_device=cpu, offload_type="leaf_level", use_stream=True
            )
        else:  # the transformers-library text encoder
            from diffusers.hooks import apply_group_offloading

            apply_group_offloading(
                component, onload_device=device, offload_type="block_level", num_blocks_per_group=1
            )
        log.debug("group offload: %s", name)


def _vae(pipeline: Any, options: SpeedOptions, notes: list[str]) -> None:
    vae = pipeline.vae
    for wanted, method in ((options.vae_tiling, "tiling"), (options.vae_slicing, "slicing")):
        if not wanted:
            continue
        enable = getattr(vae, f"enable_{method}", None)
        if enable is None:
            notes.append(f"vae_{method} skipped: {type(vae).__name__} has no enable_{method}")
            continue
        enable()
        notes.append(f"vae_{method}")


def _attention(pipeline: Any, backend: str, notes: list[str]) -> None:
    if backend.endswith("_hub") and hub_constants.HF_HUB_OFFLINE:
        raise ModelUnavailable(
            f"CLIPFORGE_ATTENTION_BACKEND={backend!r} downloads its kernel from the hub at run "
            "time, and HF_HUB_OFFLINE is set; pick an installed backend (flash, sage, "
            "_native_cudnn, _native_flash) or leave it unset"
        )
    for transformer in transformers_of(pipeline):
        try:
            transformer.set_attention_backend(backend)
        except Exception as exc:  # unknown name, kernel not installed, wrong device
            raise ModelUnavailable(
                f"CLIPFORGE_ATTENTION_BACKEND={backend!r} cannot be used here: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    notes.append(f"attention backend {backend}")


def _step_cache(pipeline: Any, options: SpeedOptions, notes: list[str]) -> None:
    if options.step_cache == "cache_dit":
        _cache_dit(pipeline, options.step_cache_threshold)
        notes.append("step cache: cache-dit")
        return
    import diffusers

    if options.step_cache == "first_block":
        threshold = options.step_cache_threshold or DEFAULT_FIRST_BLOCK_THRESHOLD
        config: Any = diffusers.FirstBlockCacheConfig(threshold=threshold)
    else:
        config = diffusers.TaylorSeerCacheConfig()
    for transformer in transformers_of(pipeline):
        try:
            transformer.enable_cache(config)
        except Exception as exc:  # e.g. first_block on a model with a single block
            raise ModelUnavailable(
                f"CLIPFORGE_STEP_CACHE={options.step_cache} does not apply to "
                f"{type(transformer).__name__}: {type(exc).__name__}: {exc}"
            ) from exc
    notes.append(f"step cache: {options.step_cache}")


def _cache_dit(pipeline: Any, threshold: float | None) -> None:
    try:
        cache_dit = importlib.import_module("cache_dit")
    except ImportError as exc:
        raise ModelUnavailable(
            "CLIPFORGE_STEP_CACHE=cache_dit needs the cache-dit package: `pip install cache-dit` "
            "(or use first_block / taylorseer, built into diffusers)"
        ) from exc
    if threshold is None:
        cache_dit.enable_cache(pipeline)
    else:
        config = cache_dit.DBCacheConfig(residual_diff_threshold=threshold)
        cache_dit.enable_cache(pipeline, cache_config=config)


def _compile(pipeline: Any, mode: str, device: torch.device, notes: list[str]) -> None:
    if device.type == "cpu":
        notes.append("compile skipped: torch.compile is tuned here for GPUs only")
        return
    for transformer in transformers_of(pipeline):
        # Compiling the repeated block (not the whole model) compiles once and reuses it.
        transformer.compile_repeated_blocks(mode=mode, fullgraph=True)
    notes.append(f"compile ({mode})")


def reset_step_caches(pipeline: Any) -> None:
    """Forget cached block outputs: a cancelled run leaves them mid-way through a video."""
    for transformer in transformers_of(pipeline):
        if getattr(transformer, "is_cache_enabled", False):
            transformer._reset_stateful_cache()
