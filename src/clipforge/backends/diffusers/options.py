"""Speed and memory options applied to a loaded diffusers pipeline (see docs/GPU.md).

`SpeedOptions` is read from settings and checked before any weights are loaded, so a typo
fails at start with the setting's name. `apply_options` then applies each option to the
loaded pipeline in the order diffusers expects (VAE tiling before group offload, which checks
it; parallelism before the attention backend, which checks it; caches before compile, which
traces them); an option that cannot help on this device (offload on a CPU) is skipped with a
logged reason, and one that cannot work as asked (a missing package, an attention kernel that
does not run here or refuses the model's masks, parallelism outside torchrun) is refused with
`ModelUnavailable` before any job runs.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

import torch

from clipforge.backends.diffusers.attention import use_attention_backend
from clipforge.backends.diffusers.parallel import enable_context_parallel
from clipforge.errors import ModelUnavailable
from clipforge.settings import Settings

log = logging.getLogger(__name__)

OFFLOADS = ("none", "model", "group")
STEP_CACHES = ("none", "first_block", "taylorseer", "cache_dit")
PARALLEL_KINDS = ("none", "ulysses", "ring")
DEFAULT_FIRST_BLOCK_THRESHOLD = 0.05
"""diffusers' own FirstBlockCacheConfig default; higher skips more steps, at some quality."""
COMPILE_BACKEND = "inductor"
"""torch.compile's backend (tests trace with "eager": the same graph breaks, no code
generation)."""
TAYLORSEER_MODULES = (r"^(blocks|transformer_blocks)\.\d+\.(attn1|attn2|ffn)$",)
"""What TaylorSeer predicts between full steps: each block's attention and feed-forward
outputs. diffusers' default patterns (`^blocks.*attn`, matched in full) name no module of
Wan's or LTX's blocks (`attn1`, `attn2`): the cache was on and skipped nothing."""
FULLGRAPH_CACHES = ("none",)
"""Step caches whose hooks Dynamo traces without a graph break: none of them (FirstBlockCache's
`hasattr`, TaylorSeer's `torch.compiler.disable`d step count and cache-dit's hooks break the
graph; so does group offload's onload)."""


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
    """Apply `options` to `pipeline` (loaded on `device`, or on the CPU for offload); returns
    what was done or skipped, in order."""
    notes: list[str] = []
    _vae(pipeline, options, notes)
    _place(pipeline, options, device, notes)
    if options.context_parallel != "none":
        for transformer in transformers_of(pipeline):
            enable_context_parallel(transformer, options.context_parallel, device)
        notes.append(f"context parallelism: {options.context_parallel}")
    if options.attention_backend:
        use_attention_backend(transformers_of(pipeline), options.attention_backend, device)
        notes.append(f"attention backend {options.attention_backend}")
    if options.step_cache != "none":
        enable_step_cache(pipeline, options, notes)
    if options.compile:
        compile_transformers(pipeline, options, notes)
    for note in notes:
        log.info("diffusers options: %s", note)
    return notes


def transformers_of(pipeline: Any) -> list[Any]:
    """The denoisers: `transformer`, and Wan 2.2 A14B's second expert `transformer_2`."""
    names = ("transformer", "transformer_2")
    return [t for t in (getattr(pipeline, n, None) for n in names) if t is not None]


def _place(pipeline: Any, options: SpeedOptions, device: torch.device, notes: list[str]) -> None:
    offload = options.offload
    if offload == "none" or device.type == "cpu":
        if not getattr(pipeline, "hf_device_map", None):  # loaded in place: nothing to move
            pipeline.to(device)
        if offload != "none":
            notes.append(f"offload={offload} skipped: the model already lives in CPU memory")
        return
    if offload == "model":
        # Whole components move to the GPU when used: about the size of the largest one.
        pipeline.enable_model_cpu_offload(device=device)
    else:
        group_offload(pipeline, device)
    notes.append(f"offload={offload} onto {device}")


def group_offload(pipeline: Any, device: torch.device) -> None:
    """Weights stream to `device` ahead of use, so transfers overlap compute (Wan 14B in
    about 13 GB): diffusers models layer by layer on a side CUDA stream, the transformers
    text encoder block by block. A VAE that decodes in tiles streams without the side stream:
    the stream's prefetch order is learnt on the first pass, which tiling repeats (diffusers
    warns about exactly that)."""
    cpu = torch.device("cpu")
    stream = device.type == "cuda"
    for name, component in pipeline.components.items():
        if not isinstance(component, torch.nn.Module):
            continue
        offloadable: Any = component
        if hasattr(offloadable, "enable_group_offload"):
            tiled = bool(getattr(offloadable, "use_tiling", False))
            offloadable.enable_group_offload(
                onload_device=device,
                offload_device=cpu,
                offload_type="leaf_level",
                use_stream=stream and not tiled,
            )
        else:  # the transformers-library text and image encoders
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


def enable_step_cache(pipeline: Any, options: SpeedOptions, notes: list[str]) -> None:
    """Turn on the step cache of `options` on every transformer (or refuse it)."""
    if options.step_cache == "cache_dit":
        _cache_dit(pipeline, options.step_cache_threshold)
        notes.append("step cache: cache-dit")
        return
    import diffusers

    if options.step_cache == "first_block":
        threshold = options.step_cache_threshold or DEFAULT_FIRST_BLOCK_THRESHOLD
        config: Any = diffusers.FirstBlockCacheConfig(threshold=threshold)
    else:
        config = diffusers.TaylorSeerCacheConfig(cache_identifiers=list(TAYLORSEER_MODULES))
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


def compile_transformers(pipeline: Any, options: SpeedOptions, notes: list[str]) -> None:
    """torch.compile the repeated block of every transformer (compiled once, reused by each
    block). `fullgraph` (no graph break allowed) only where no hook sits inside the blocks:
    with the first-block cache, cache-dit or group offload Dynamo must break the graph."""
    fullgraph = options.step_cache in FULLGRAPH_CACHES and options.offload != "group"
    mode = options.compile_mode if COMPILE_BACKEND == "inductor" else None
    for transformer in transformers_of(pipeline):
        transformer.compile_repeated_blocks(mode=mode, fullgraph=fullgraph, backend=COMPILE_BACKEND)
    notes.append(f"compile ({options.compile_mode}, fullgraph={fullgraph})")


def reset_step_caches(pipeline: Any) -> None:
    """Forget cached block outputs: a cancelled run leaves them mid-way through a video."""
    for transformer in transformers_of(pipeline):
        if getattr(transformer, "is_cache_enabled", False):
            transformer._reset_stateful_cache()
