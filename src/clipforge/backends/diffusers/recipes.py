"""What a profile (`profiles`) does to a loaded pipeline: its LoRA, its sampler, its cache.

- Adapters: each named LoRA is loaded from its hub repository (the local cache only under
  HF_HUB_OFFLINE) into its denoiser and fused into the weights, since a profile's adapters
  never change per job; the LoRA layers are then dropped, so a step costs what the base
  model's does and per-request adapters (issue 27's `adapters`) stack on top. A LoRA that is
  not on this machine is a ModelUnavailable naming the file and the `hf download` that fetches
  it.
- Sampler: a step-distilled Wan gets `DistilledFlowScheduler` with the published schedule.
- MagCache: diffusers' hooks with the published ratios, re-made when a job's step count
  differs from the last one (the ratios are interpolated to the step count, as MagCache does).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from huggingface_hub import constants as hub_constants

from clipforge.backends.diffusers.config import read_config
from clipforge.backends.diffusers.distilled import DistilledFlowScheduler
from clipforge.backends.diffusers.loading import WeightsSource, resolve_weights
from clipforge.backends.diffusers.options import SpeedOptions, transformers_of
from clipforge.backends.diffusers.profiles import (
    Adapter,
    MagCache,
    Profile,
    profile_for,
    split_profile,
)
from clipforge.backends.diffusers.quantize import check_quantize, mode_for
from clipforge.errors import ModelUnavailable
from clipforge.settings import Settings

log = logging.getLogger(__name__)


def prepare_profile(
    settings: Settings, options: SpeedOptions, device: torch.device
) -> tuple[WeightsSource, Profile | None, str]:
    """Before loading: the weights to load (a profile's distilled weights replace the
    entry's), the profile named after `@`, the quantization mode; a combination that cannot
    work is refused here, naming the setting."""
    name, profile_name = split_profile(settings.model)
    weights = resolve_weights(name)
    entry = weights.entry.name if weights.entry else None
    profile = profile_for(entry, profile_name)
    if profile is not None and profile.weights:
        config = read_config(profile.weights)
        weights = WeightsSource(profile.weights, False, weights.entry, config)
    schedule = profile.schedule if profile else ()
    asked = settings.num_inference_steps
    if schedule and asked and asked > len(schedule):
        raise ModelUnavailable(
            f"CLIPFORGE_NUM_INFERENCE_STEPS={asked}: the {profile_name} profile samples "
            f"{len(schedule)} published timesteps {list(schedule)}; at most {len(schedule)}"
        )
    if profile is not None and profile.magcache and options.step_cache != "none":
        raise ModelUnavailable(
            f"CLIPFORGE_STEP_CACHE={options.step_cache} and the cached profile's MagCache both "
            "skip steps: choose one"
        )
    quantize = mode_for(settings.quantize, name, entry)
    check_quantize(quantize, device)
    if quantize != "none" and options.offload != "none" and device.type != "cpu":
        raise ModelUnavailable(  # quantized tensors moved by offload hooks: never run
            f"CLIPFORGE_QUANTIZE={quantize} with CLIPFORGE_OFFLOAD={options.offload} is not "
            "supported: quantize to fit the weights on the device instead of offloading"
        )
    return weights, profile, quantize


def apply_profile(pipeline: Any, profile: Profile | None) -> None:
    """Fuse the profile's adapters and install its sampler (before compile and caches)."""
    if profile is None:
        return
    for adapter in profile.adapters:
        fuse_adapter(pipeline, adapter)
    if profile.adapters:
        pipeline.unload_lora_weights()  # the fused weights stay; the LoRA layers go
    if profile.sampler is not None:
        sampler = profile.sampler
        pipeline.scheduler = DistilledFlowScheduler(
            published_timesteps=sampler.timesteps,
            shift=sampler.shift,
            warp=sampler.warp,
            renoise=sampler.renoise,
        )
    log.info("profile %s: %d adapter(s) fused", profile.name, len(profile.adapters))


def fuse_adapter(pipeline: Any, adapter: Adapter) -> None:
    """Load one LoRA into its component and fuse it at its scale (module docstring)."""
    offline = bool(hub_constants.HF_HUB_OFFLINE)
    if offline and not _cached(adapter):
        raise ModelUnavailable(_missing(adapter))
    keywords: dict[str, Any] = {"weight_name": adapter.weight_name, "local_files_only": offline}
    if adapter.component == "transformer_2":
        keywords["load_into_transformer_2"] = True
    try:
        pipeline.load_lora_weights(adapter.hub_id, adapter_name=adapter.name, **keywords)
    except Exception as exc:
        raise ModelUnavailable(
            f"{_missing(adapter)} (loading it failed: {type(exc).__name__}: {exc})"
        ) from exc
    pipeline.fuse_lora(
        components=[adapter.component], lora_scale=adapter.scale, adapter_names=[adapter.name]
    )


def _cached(adapter: Adapter) -> bool:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(adapter.hub_id, adapter.weight_name)
    return isinstance(found, str)


def _missing(adapter: Adapter) -> str:
    return (
        f"the profile's LoRA {adapter.name!r} ({adapter.hub_id}, {adapter.weight_name}) is not "
        f"on this machine. Fix: where the hub can be reached run `hf download {adapter.hub_id} "
        f"{adapter.weight_name}` (same HF_HOME), or unset HF_HUB_OFFLINE"
    )


def reseed_sampler(pipeline: Any, seed: int, device: Any) -> None:
    """Seed a re-noising sampler's fresh noise for one job."""
    scheduler = pipeline.scheduler
    if isinstance(scheduler, DistilledFlowScheduler):
        scheduler.reseed(seed, device)


class MagCacheHooks:
    """MagCache on every transformer of a pipeline, for the step count of the job at hand."""

    def __init__(self, pipeline: Any, cache: MagCache) -> None:
        self.pipeline, self.cache = pipeline, cache
        self.steps: int | None = None

    def prepare(self, steps: int) -> None:
        """Hooks with the ratios for `steps` (made again only when the count changes)."""
        if steps == self.steps:
            return
        from diffusers import MagCacheConfig

        config = MagCacheConfig(
            threshold=self.cache.threshold,
            max_skip_steps=self.cache.max_skip_steps,
            retention_ratio=self.cache.retention_ratio,
            num_inference_steps=steps,
            mag_ratios=list(self.cache.ratios),
        )
        for transformer in transformers_of(self.pipeline):
            if getattr(transformer, "is_cache_enabled", False):
                transformer.disable_cache()
            transformer.enable_cache(config)
        self.steps = steps
