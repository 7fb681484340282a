"""The LTX-Video checkpoints of the catalogue (no torch): 0.9.5 (2B) and the 13B 0.9.7 and
0.9.8 dev and distilled ones, with their two-stage recipes.

Every value an entry sets is cited in its `rules.sources` (field -> the document publishing
it); the repositories were read at the revisions current when this table was written.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from clipforge.backends.diffusers.families import LTX_CONDITION
from clipforge.backends.diffusers.rules import CatalogEntry, ModelFamily, Signature, TwoStage

# Where the published values come from (repositories at the revisions read for this table).
LTX_README = "Lightricks/LTX-Video README (sizes divisible by 32, best under 720x1280)"
LTX_095 = "Lightricks/LTX-Video configs/ltxv-2b-0.9.5.yaml"
LTX_097D = "Lightricks/LTX-Video configs/ltxv-13b-0.9.7-distilled.yaml"
LTX_INFERENCE = "Lightricks/LTX-Video ltx_video/inference.py (image_cond_noise_scale 0.15)"
LTX_DOCS = "diffusers docs api/pipelines/ltx_video.md (0.9.7 distilled multi-scale example)"
LTX_097DEV = "Lightricks/LTX-Video configs/ltxv-13b-0.9.7-dev.yaml (multi-scale, 30 steps)"
LTX_098 = "Lightricks/LTX-Video configs/ltxv-13b-0.9.8-dev.yaml, ltxv-13b-0.9.8-distilled.yaml"
LTX_DEV_DOCS = (
    "diffusers docs api/pipelines/ltx_video.md, LTX-Video-0.9.7-dev example: 30 steps, "
    "guidance 5.0, guidance_rescale 0.7, refine 10 steps at denoise_strength 0.4 (4 run); "
    "LTX's yaml guides with a per-step scale and STG, which LTXConditionPipeline has not"
)
LTX_098_DOCS = (
    "diffusers docs api/pipelines/ltx_video.md, LTX-Video-0.9.8-13B-distilled example "
    "(tone_map_compression_ratio 0.6; upsampler a-r-r-o-w/LTX-0.9.8-Latent-Upsampler)"
)
LTX_NAMES = (
    "dev and distilled folders have identical configs (model_index, transformer, VAE, "
    "scheduler: diffusers' convert_ltx_to_diffusers.py writes the same for both): the name "
    "decides, and an unnamed 13B folder gets the dev recipe (slow, valid on both)"
)
LTX_FPS = "diffusers LTX examples export at 24 fps; the pipeline takes frame_rate"
LTX_INFERENCE_NEGATIVE = "Lightricks/LTX-Video ltx_video/inference.py (negative_prompt default)"
_LTX_SIZES = MappingProxyType({"480p": 480, "720p": 704, "1080p": 704})
_LTX_DECODE = {"decode_timestep": 0.05, "decode_noise_scale": 0.025}
_LTX_CLASSES = ("LTXPipeline", "LTXConditionPipeline", "LTXImageToVideoPipeline")


def _ltx(entry: str, description: str, sources: dict[str, str], **values: object) -> ModelFamily:
    cited = {"sizes": LTX_README, "fps": LTX_FPS, "negative_prompt": LTX_INFERENCE_NEGATIVE}
    cited = cited | sources
    fields = {"name": entry, "description": description, "short_sides": _LTX_SIZES} | values
    return LTX_CONDITION.with_changes(**fields, sources=cited)


_LTX_DISTILLED_STEPS = (1000, 993, 987, 981, 975, 909, 725)
"""LTX's distilled yaml: first pass 1.0 ... 0.725 (7), second 0.9094, 0.725, 0.4219 (3); the
diffusers example's extra 0.03 and 0 steps move the latents by 5e-5 and 0."""
_LTX_097_STAGE = TwoStage(
    upsampler_hub_id="Lightricks/ltxv-spatial-upscaler-0.9.7",
    downscale=2 / 3,
    refine_timesteps=(1000, 909, 725, 421),
    refine_strength=0.999,
    adain_factor=1.0,
)
_LTX_098_STAGE = replace(
    _LTX_097_STAGE,
    upsampler_hub_id="a-r-r-o-w/LTX-0.9.8-Latent-Upsampler",
    upsampler_subfolder="",
    tone_map_compression_ratio=0.6,
)


def _dev_stage(stage: TwoStage) -> TwoStage:
    """A dev model's refine, as diffusers' dev example runs it: 10 scheduler steps at
    denoise_strength 0.4 (4 run), no published timesteps, no adain, no tone mapping."""
    return replace(
        stage,
        refine_timesteps=(),
        refine_inference_steps=10,
        refine_strength=0.4,
        adain_factor=0.0,
        tone_map_compression_ratio=0.0,
    )


_LTX_097_DEV_STAGE = _dev_stage(_LTX_097_STAGE)
_LTX_098_DEV_STAGE = _dev_stage(_LTX_098_STAGE)


def _ltx_dev(version: str, hub_id: str, stage: TwoStage, yaml: str) -> CatalogEntry:
    """LTX-Video 0.9.7/0.9.8 13B dev: guided, about 30 + 4 steps, two-stage."""
    name = f"ltx-video-{version}{'-13b' if version == '0.9.8' else ''}-dev"
    rules = _ltx(
        name,
        f"LTX-Video {version} dev (13B): 30 + 4 guided steps, two-stage with the upsampler.",
        steps=30,
        guidance_scale=5.0,
        extra_arguments={**_LTX_DECODE, "guidance_rescale": 0.7, "image_cond_noise_scale": 0.15},
        trained_frames=257,
        two_stage=stage,
        sources={
            "steps": LTX_DEV_DOCS + "; " + yaml,
            "guidance": LTX_DEV_DOCS,
            "guidance_rescale": LTX_DEV_DOCS,
            "decode": yaml,
            "image_cond_noise_scale": LTX_INFERENCE,
            "two_stage": LTX_DEV_DOCS + "; " + yaml + " (downscale_factor, upsampler)",
            "timesteps": "none: the scheduler's own for 30 steps (" + LTX_DEV_DOCS + ")",
            "frames": LTX_README,
            "identification": LTX_NAMES,
        },
    )
    aliases = (f"ltxv-13b-{version}-dev",)
    return CatalogEntry(
        name,
        hub_id,
        "LTXConditionPipeline",
        "13B",
        ((768, 512),),
        rules,
        Signature(_LTX_CLASSES, head_dim=128),
        aliases=aliases,
    )


LTX_ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "ltx-video-0.9.5",
        "Lightricks/LTX-Video-0.9.5",
        "LTXConditionPipeline",
        "2B",
        ((768, 512),),
        _ltx(
            "ltx-video-0.9.5",
            "LTX-Video 0.9.5 (2B): 24 fps, text, first and last frames.",
            steps=40,
            guidance_scale=3.0,
            extra_arguments={**_LTX_DECODE, "guidance_rescale": 0.7},
            trained_frames=257,
            sources={
                "steps": LTX_095,
                "guidance": LTX_095,
                "decode": LTX_095,
                "guidance_rescale": LTX_095 + " (rescaling_scale)",
                "frames": LTX_README,
            },
        ),
        Signature(_LTX_CLASSES, head_dim=64, vae_timestep_conditioning=True),
    ),
    _ltx_dev("0.9.7", "Lightricks/LTX-Video-0.9.7-dev", _LTX_097_DEV_STAGE, LTX_097DEV),
    # No diffusers folder of 0.9.8 dev is published under Lightricks (the single file
    # ltxv-13b-0.9.8-dev.safetensors is); the id follows the distilled repository's name.
    _ltx_dev("0.9.8", "Lightricks/LTX-Video-0.9.8-13B-dev", _LTX_098_DEV_STAGE, LTX_098),
    CatalogEntry(
        "ltx-video-0.9.7-distilled",
        "Lightricks/LTX-Video-0.9.7-distilled",
        "LTXConditionPipeline",
        "13B",
        ((768, 512),),
        # Step- and guidance-distilled: 7 + 3 published timesteps, guidance 1.0 (off).
        _ltx(
            "ltx-video-0.9.7-distilled",
            "LTX-Video 0.9.7 distilled (13B): 7 + 3 steps, no guidance, two-stage with the "
            "upsampler.",
            steps=7,
            guidance_scale=1.0,
            negative_prompt=None,
            # LTX's yaml: first pass 1.0 ... 0.725 (7), second 0.9094, 0.725, 0.4219 (3); the
            # diffusers example's extra 0.03 and 0 steps move the latents by 5e-5 and 0.
            timesteps=_LTX_DISTILLED_STEPS,
            extra_arguments={**_LTX_DECODE, "image_cond_noise_scale": 0.15},
            trained_frames=257,
            two_stage=_LTX_097_STAGE,
            sources={
                "steps": LTX_097D + " (first_pass, second_pass timesteps)",
                "timesteps": LTX_097D + " (first_pass timesteps)",
                "image_cond_noise_scale": LTX_INFERENCE,
                "guidance": LTX_097D,
                "decode": LTX_097D,
                "two_stage": LTX_DOCS + "; " + LTX_097D,
                "frames": LTX_README,
                "identification": LTX_NAMES,
            },
        ),
        Signature(_LTX_CLASSES, head_dim=128),
        distilled=True,
        aliases=("ltxv-13b-0.9.7-distilled",),
    ),
    CatalogEntry(
        "ltx-video-0.9.8-13b-distilled",
        "Lightricks/LTX-Video-0.9.8-13B-distilled",
        "LTXConditionPipeline",
        "13B",
        ((768, 512),),
        _ltx(
            "ltx-video-0.9.8-13b-distilled",
            "LTX-Video 0.9.8 distilled (13B): 7 + 3 steps, no guidance, two-stage with the "
            "upsampler and tone mapping.",
            steps=7,
            guidance_scale=1.0,
            negative_prompt=None,
            timesteps=_LTX_DISTILLED_STEPS,
            extra_arguments={**_LTX_DECODE, "image_cond_noise_scale": 0.15},
            trained_frames=257,
            two_stage=_LTX_098_STAGE,
            sources={
                "steps": LTX_098 + " (first_pass, second_pass timesteps)",
                "timesteps": LTX_098 + " (first_pass timesteps)",
                "image_cond_noise_scale": LTX_INFERENCE,
                "guidance": LTX_098,
                "decode": LTX_098,
                "two_stage": LTX_098_DOCS + "; " + LTX_098,
                "frames": LTX_README,
                "identification": LTX_NAMES,
            },
        ),
        Signature(_LTX_CLASSES, head_dim=128),
        distilled=True,
        aliases=("ltxv-13b-0.9.8-distilled",),
    ),
)
