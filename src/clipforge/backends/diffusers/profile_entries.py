"""The published profiles of each catalogue entry (no torch); every value cited in `sources`.

`quality` is the entry's own rules (entries_*.py); an entry listed here has, besides:

- `cached`: the same sampling with MagCache at the magnitude ratios its authors calibrated
  for that checkpoint (Wan 2.1 T2V 1.3B and 14B, I2V 480P and 720P);
- `fast`: the step-distilled recipe: LightX2V's 4-step LoRAs for Wan 2.1 14B T2V and I2V,
  Wan2.2-Lightning's two LoRAs for Wan 2.2 T2V A14B, FastVideo's DMD-distilled FastWan
  weights for Wan 2.1 1.3B and Wan 2.2 TI2V 5B, LTX-Video 0.9.7 distilled's own timesteps.

Not here, for want of a published recipe read for this table: Wan 2.1 FLF2V, Wan 2.2 I2V A14B,
LTX-Video 0.9.5; and TeaCache (its Wan coefficients drive a hook diffusers 0.42 does not have).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clipforge.backends.diffusers import magcache_ratios as ratios
from clipforge.backends.diffusers.profiles import (
    CACHED,
    FAST,
    QUALITY,
    Adapter,
    DistilledSampler,
    MagCache,
    Profile,
)

LIGHTX2V_T2V = "ModelTC/LightX2V configs/distill/wan21/wan_t2v_distill_lora_4step_cfg.json"
LIGHTX2V_I2V = "ModelTC/LightX2V configs/distill/wan21/wan_i2v_distill_lora_4step_cfg.json"
LIGHTX2V_SAMPLER = (
    "ModelTC/LightX2V lightx2v/models/schedulers/wan/step_distill/scheduler.py "
    "(WanStepDistillScheduler: denoising_step_list indexes the shifted 1000-step sigmas; "
    "x0 = x - sigma * v, then (1 - sigma') x0 + sigma' * fresh noise)"
)
LIGHTNING = (
    "lightx2v Wan2.2-Lightning wan/configs/wan_t2v_A14B.py (sample_shift 5.0, sample_steps "
    "4, boundary 0.875, sample_guide_scale (1.0, 1.0), high/low_noise_model LoRAs); README "
    "(Wan2.2-T2V-A14B-4steps-lora-rank64-Seko-V1)"
)
LIGHTNING_SAMPLER = (
    "lightx2v Wan2.2-Lightning wan/utils/fm_solvers_euler.py (EulerScheduler: "
    "linspace(1000, 0, steps + 1) shifted, x + (sigma' - sigma) * v)"
)
FASTWAN = (
    "hao-ai-lab/FastVideo fastvideo/configs/pipelines/wan.py (FastWan2_1_T2V_480P_Config: "
    "flow_shift 8.0, dmd_denoising_steps [1000, 757, 522]; FastWan2_2_TI2V_5B_Config: "
    "flow_shift 5.0, the same steps)"
)
FASTWAN_SAMPLER = (
    "hao-ai-lab/FastVideo fastvideo/pipelines/stages/denoising_dmd_strategy.py (DmdStrategy: "
    "the model sees the steps as they are; x0 at the nearest sigma of the shifted scheduler, "
    "then add_noise with fresh noise to the next step; no guidance)"
)
MAGCACHE = (
    "Zehong-Ma/MagCache MagCache4Wan2.1/magcache_generate.py (mag_ratios per checkpoint) and "
    "README (E012K4R02 for T2V 1.3B and I2V, E024K6R02 for T2V 14B)"
)
LTX_097D = "Lightricks/LTX-Video configs/ltxv-13b-0.9.7-distilled.yaml (first_pass timesteps)"

_FOUR_STEPS = (1000.0, 750.0, 500.0, 250.0)
_DMD_STEPS = (1000.0, 757.0, 522.0)
_RENOISE_4 = DistilledSampler(_FOUR_STEPS, shift=5.0, warp=True, renoise=True)
_EULER_4 = DistilledSampler(_FOUR_STEPS, shift=5.0, warp=True, renoise=False)


def _lightx2v(weight_name: str, source: str) -> Profile:
    """A LightX2V 4-step distill LoRA on a Wan 2.1 14B base (`enable_cfg: false`)."""
    adapter = Adapter("lightx2v-4step", "lightx2v/Wan2.1-Distill-Loras", weight_name)
    cited = {"steps": source, "guidance": source, "flow_shift": source, "lora": source}
    return Profile(
        FAST,
        steps=4,
        guidance_scale=1.0,
        flow_shift=5.0,
        sampler=_RENOISE_4,
        adapters=(adapter,),
        sources=cited | {"sampler": LIGHTX2V_SAMPLER, "timesteps": source},
    )


def _fastwan(hub_id: str, shift: float) -> Profile:
    cited = dict.fromkeys(("steps", "flow_shift", "timesteps", "weights"), FASTWAN)
    sampler = DistilledSampler(_DMD_STEPS, shift=shift, warp=False, renoise=True)
    return Profile(
        FAST,
        steps=3,
        guidance_scale=1.0,
        flow_shift=shift,
        sampler=sampler,
        weights=hub_id,
        sources=cited | {"sampler": FASTWAN_SAMPLER, "guidance": FASTWAN_SAMPLER},
    )


def _magcache(published: tuple[float, ...], threshold: float, skips: int) -> Profile:
    cache = MagCache(ratios.per_step(published), threshold, skips, retention_ratio=0.2)
    return Profile(CACHED, magcache=cache, sources={"magcache": MAGCACHE})


_LIGHTNING_HUB = "lightx2v/Wan2.2-Lightning"
_LIGHTNING_DIR = "Wan2.2-T2V-A14B-4steps-lora-rank64-Seko-V1"
_LIGHTNING = Profile(
    FAST,
    steps=4,
    guidance_scale=1.0,
    guidance_scale_2=1.0,
    flow_shift=5.0,
    sampler=_EULER_4,
    adapters=(
        Adapter("lightning-high", _LIGHTNING_HUB, f"{_LIGHTNING_DIR}/high_noise_model.safetensors"),
        Adapter(
            "lightning-low",
            _LIGHTNING_HUB,
            f"{_LIGHTNING_DIR}/low_noise_model.safetensors",
            component="transformer_2",
        ),
    ),
    sources={
        **dict.fromkeys(("steps", "guidance", "flow_shift", "lora"), LIGHTNING),
        "sampler": LIGHTNING_SAMPLER,
        "timesteps": LIGHTNING_SAMPLER,
    },
)
_LTX_DISTILLED = Profile(
    FAST,
    steps=7,
    guidance_scale=1.0,
    timesteps=(1000.0, 993.0, 987.0, 981.0, 975.0, 909.0, 725.0),
    sources=dict.fromkeys(("steps", "timesteps", "guidance"), LTX_097D),
)
_I2V_LORA = "wan2.1_i2v_lora_rank64_lightx2v_4step.safetensors"

PROFILES: Mapping[str, Mapping[str, Profile]] = MappingProxyType(
    {
        "wan2.1-t2v-1.3b": {
            CACHED: _magcache(ratios.T2V_1_3B, 0.12, 4),
            FAST: _fastwan("FastVideo/FastWan2.1-T2V-1.3B-Diffusers", 8.0),
        },
        "wan2.1-t2v-14b": {
            CACHED: _magcache(ratios.T2V_14B, 0.24, 6),
            FAST: _lightx2v("wan2.1_t2v_14b_lora_rank64_lightx2v_4step.safetensors", LIGHTX2V_T2V),
        },
        "wan2.2-ti2v-5b": {FAST: _fastwan("FastVideo/FastWan2.2-TI2V-5B-FullAttn-Diffusers", 5.0)},
        "wan2.2-t2v-a14b": {FAST: _LIGHTNING},
        "wan2.1-i2v-14b-720p": {
            CACHED: _magcache(ratios.I2V_720P, 0.12, 4),
            FAST: _lightx2v(_I2V_LORA, LIGHTX2V_I2V),
        },
        "wan2.1-i2v-14b-480p": {
            CACHED: _magcache(ratios.I2V_480P, 0.12, 4),
            FAST: _lightx2v(_I2V_LORA, LIGHTX2V_I2V),
        },
        # Step- and guidance-distilled already: its quality and fast profiles are one recipe.
        "ltx-video-0.9.7-distilled": {QUALITY: _LTX_DISTILLED, FAST: _LTX_DISTILLED},
    }
)
"""Entry name -> profile name -> profile (`quality` when not listed: the entry's rules)."""
