"""The catalogue's entries: each published model's rules with their sources (no torch).

Every value an entry sets is cited in its `rules.sources` (field -> the document publishing
it); the repositories were read at the revisions current when this table was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from clipforge.backends.diffusers.entries_hunyuan import HUNYUAN_ENTRIES
from clipforge.backends.diffusers.entries_ltx2 import LTX2_ENTRIES
from clipforge.backends.diffusers.rules import (
    LTX_CONDITION,
    WAN,
    WAN_FLF2V_NEGATIVE_PROMPT,
    WAN_I2V,
    WAN_I2V_NEGATIVE_PROMPT,
    WAN_VACE,
    CatalogEntry,
    ModelFamily,
    Signature,
    TwoStage,
)

# Where the published values come from (repositories at the revisions read for this table).
W21_GENERATE = "Wan-Video/Wan2.1 generate.py (_validate_args: steps, sample_shift)"
W21_SIZES = "Wan-Video/Wan2.1 README model table; wan/configs/__init__.py SUPPORTED_SIZES"
W21_SHARED = "Wan-Video/Wan2.1 wan/configs/shared_config.py (sample_fps 16, frame_num 81)"
W_NEGATIVE = "Wan-Video/Wan2.1 and Wan2.2 wan/configs/shared_config.py sample_neg_prompt"
W21_I2V_NEGATIVE = "Wan-Video/Wan2.1 wan/configs/wan_i2v_14B.py (sample_neg_prompt prefix)"
W21_FLF2V_NEGATIVE = "Wan-Video/Wan2.1 wan/configs/__init__.py (flf2v_14B sample_neg_prompt)"
W21_DIFFUSERS = "Wan-Video/Wan2.1 README, 'Running with Diffusers' (flow_shift 5.0 720P, 3.0 480P)"
W21_SMALL = "Wan-Video/Wan2.1 README note for T2V-1.3B (guide scale 6, shift 8 to 12)"
W22_T2V = "Wan-Video/Wan2.2 wan/configs/wan_t2v_A14B.py"
W22_I2V = "Wan-Video/Wan2.2 wan/configs/wan_i2v_A14B.py"
W22_TI2V = "Wan-Video/Wan2.2 wan/configs/wan_ti2v_5B.py"
W22_SIZES = "Wan-Video/Wan2.2 wan/configs/__init__.py SUPPORTED_SIZES"
WAN_VAE = "diffusers docs api/pipelines/wan.md (AutoencoderKLWan in float32); Wan VAE dtype=float"
WAN_AREA = (
    "Wan-Video/Wan2.1 wan/image2video.py and Wan2.2 wan/image2video.py, textimage2video.py "
    "(max_area = MAX_AREA_CONFIGS[size]: 480*832, 704*1280, 720*1280; the request's aspect "
    "ratio at that area, sides floored to 16 / 32); text-to-video's SUPPORTED_SIZES are those "
    "areas at 16:9 and 9:16"
)
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

W21_VACE = (
    "Wan-Video/Wan2.1 README (VACE: 1.3B at 480P, 14B at 720P and 480P; reference images "
    "through --src_ref_images) and ali-vilab/VACE UserGuide.md (R2V: subjects from reference "
    "images); diffusers pipeline_wan_vace.py (reference_images in order, video + mask for "
    "known frames: black keeps, white generates)"
)
W21_VACE_SHIFT = (
    "Wan-Video/Wan2.1 generate.py (_validate_args: sample_shift 16 for vace tasks; "
    "diffusers' WanVACEPipeline example uses 3.0 at 480P, 5.0 at 720P)"
)
_BOTH = MappingProxyType({"480p": 480, "720p": 720, "1080p": 720})
_LTX_SIZES = MappingProxyType({"480p": 480, "720p": 704, "1080p": 704})
_LTX_DECODE = {"decode_timestep": 0.05, "decode_noise_scale": 0.025}


_WAN_CLASSES = ("WanPipeline", "WanImageToVideoPipeline")
_LTX_CLASSES = ("LTXPipeline", "LTXConditionPipeline", "LTXImageToVideoPipeline")


def _published(sizes: str, settings: str, **more: str) -> dict[str, str]:
    """Sources of a Wan entry: its sizes from one document, its steps, guidance and flow shift
    from another (`more` names the fields cited elsewhere)."""
    return {"sizes": sizes, "steps": settings, "guidance": settings, "flow_shift": settings} | more


def _wan(entry: str, description: str, sources: dict[str, str], **values: object) -> ModelFamily:
    base = WAN_I2V if values.get("needs_image") else WAN
    cited = {"fps": W21_SHARED, "vae": WAN_VAE, "negative_prompt": W_NEGATIVE}
    cited = cited | {"pixel_areas": WAN_AREA} | sources
    fields = {"name": entry, "description": description, "trained_frames": 81} | values
    return base.with_changes(**fields, sources=cited)


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


def _vace(entry: str, description: str, **values: object) -> ModelFamily:
    cited = {"fps": W21_SHARED, "vae": WAN_VAE, "negative_prompt": W21_SHARED}
    cited |= {"pixel_areas": WAN_AREA, "sizes": W21_SIZES, "steps": W21_GENERATE}
    cited |= {"guidance": W21_GENERATE, "flow_shift": W21_VACE_SHIFT, "references": W21_VACE}
    fields = {"name": entry, "description": description, "trained_frames": 81} | values
    return WAN_VACE.with_changes(**fields, sources=cited)


ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "wan2.1-t2v-1.3b",
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "WanPipeline",
        "1.3B",
        ((832, 480),),
        _wan(
            "wan2.1-t2v-1.3b",
            "Wan 2.1 T2V 1.3B: 480p, 16 fps; fits a 24 GB GPU.",
            short_side=480,
            guidance_scale=6.0,
            flow_shift={480: 8.0},
            sources=_published(W21_SIZES, W21_SMALL, steps=W21_GENERATE),
        ),
        Signature(
            ("WanPipeline",),
            heads=12,
            in_channels=16,
            two_experts=False,
            expand_timesteps=False,
            vae_z_dim=16,
        ),
    ),
    CatalogEntry(
        "wan2.1-t2v-14b",
        "Wan-AI/Wan2.1-T2V-14B-Diffusers",
        "WanPipeline",
        "14B",
        ((1280, 720), (832, 480)),
        _wan(
            "wan2.1-t2v-14b",
            "Wan 2.1 T2V 14B: 720p or 480p, 16 fps.",
            short_side=720,
            short_sides=_BOTH,
            flow_shift={480: 3.0, 720: 5.0},
            sources=_published(W21_SIZES, W21_GENERATE, flow_shift=W21_DIFFUSERS),
        ),
        Signature(
            ("WanPipeline",),
            heads=40,
            in_channels=16,
            two_experts=False,
            expand_timesteps=False,
            vae_z_dim=16,
        ),
    ),
    CatalogEntry(
        "wan2.2-ti2v-5b",
        "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        "WanPipeline",
        "5B",
        ((1280, 704),),
        # Wan 2.2 VAE: 16x spatial (x2 patch = 32), 4x temporal; 121 frames at 24 fps.
        _wan(
            "wan2.2-ti2v-5b",
            "Wan 2.2 TI2V 5B: 1280x704, 24 fps; text or a first frame.",
            fps=24,
            size_multiple=32,
            short_side=704,
            flow_shift={704: 5.0},
            trained_frames=121,
            first_frame=True,
            sources=_published(W22_SIZES, W22_TI2V, fps=W22_TI2V, frames=W22_TI2V),
        ),
        Signature(_WAN_CLASSES, expand_timesteps=True, vae_z_dim=48),
    ),
    CatalogEntry(
        "wan2.2-t2v-a14b",
        "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
        "WanPipeline",
        "2x14B (MoE)",
        ((1280, 720), (832, 480)),
        # Two experts: guidance 4.0 on the high-noise one, 3.0 on the low-noise one; 40 steps.
        _wan(
            "wan2.2-t2v-a14b",
            "Wan 2.2 T2V A14B (two 14B experts): 720p or 480p, 16 fps.",
            short_side=720,
            short_sides=_BOTH,
            steps=40,
            guidance_scale=4.0,
            guidance_scale_2=3.0,
            flow_shift={480: 12.0, 720: 12.0},
            sources=_published(W22_SIZES, W22_T2V),
        ),
        Signature(("WanPipeline",), in_channels=16, two_experts=True),
    ),
    CatalogEntry(
        "wan2.1-i2v-14b-720p",
        "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers",
        "WanImageToVideoPipeline",
        "14B",
        ((1280, 720), (832, 480)),
        _wan(
            "wan2.1-i2v-14b-720p",
            "Wan 2.1 I2V 14B 720P: a first frame to 720p (or 480p), 16 fps.",
            needs_image=True,
            negative_prompt=WAN_I2V_NEGATIVE_PROMPT,
            short_side=720,
            short_sides=_BOTH,
            steps=40,
            flow_shift={480: 3.0, 720: 5.0},
            sources=_published(W21_SIZES, W21_GENERATE, negative_prompt=W21_I2V_NEGATIVE),
        ),
        Signature(("WanImageToVideoPipeline",), image_encoder=True, first_last=False),
    ),
    CatalogEntry(
        "wan2.1-i2v-14b-480p",
        "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        "WanImageToVideoPipeline",
        "14B",
        ((832, 480),),
        _wan(
            "wan2.1-i2v-14b-480p",
            "Wan 2.1 I2V 14B 480P: a first frame to 480p, 16 fps.",
            needs_image=True,
            negative_prompt=WAN_I2V_NEGATIVE_PROMPT,
            short_side=480,
            steps=40,
            flow_shift={480: 3.0},
            sources=_published(W21_SIZES, W21_GENERATE, negative_prompt=W21_I2V_NEGATIVE),
        ),
        Signature(("WanImageToVideoPipeline",), image_encoder=True, first_last=False),
    ),
    CatalogEntry(
        "wan2.1-flf2v-14b-720p",
        "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
        "WanImageToVideoPipeline",
        "14B",
        ((1280, 720), (832, 480)),
        # Trained for 720p; Wan's SUPPORTED_SIZES also lists 480p for flf2v-14B, with the
        # same shift (generate.py: 16 for flf2v at every size).
        _wan(
            "wan2.1-flf2v-14b-720p",
            "Wan 2.1 FLF2V 14B: first and last frame to 720p (or 480p), 16 fps.",
            needs_image=True,
            last_frame=True,
            needs_last_frame=True,
            negative_prompt=WAN_FLF2V_NEGATIVE_PROMPT,
            short_side=720,
            short_sides=_BOTH,
            flow_shift={480: 16.0, 720: 16.0},
            sources=_published(W21_SIZES, W21_GENERATE, negative_prompt=W21_FLF2V_NEGATIVE),
        ),
        Signature(("WanImageToVideoPipeline",), image_encoder=True, first_last=True),
    ),
    CatalogEntry(
        "wan2.2-i2v-a14b",
        "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
        "WanImageToVideoPipeline",
        "2x14B (MoE)",
        ((1280, 720), (832, 480)),
        _wan(
            "wan2.2-i2v-a14b",
            "Wan 2.2 I2V A14B (two 14B experts): a first frame to 720p or 480p, 16 fps.",
            needs_image=True,
            short_side=720,
            short_sides=_BOTH,
            steps=40,
            guidance_scale=3.5,
            guidance_scale_2=3.5,
            flow_shift={480: 5.0, 720: 5.0},
            sources=_published(W22_SIZES, W22_I2V),
        ),
        Signature(("WanImageToVideoPipeline",), two_experts=True, image_encoder=False),
    ),
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
    CatalogEntry(
        "wan2.1-vace-1.3b",
        "Wan-AI/Wan2.1-VACE-1.3B-diffusers",
        "WanVACEPipeline",
        "1.3B",
        ((832, 480),),
        _vace(
            "wan2.1-vace-1.3b",
            "Wan 2.1 VACE 1.3B: text, first/last frames and 1-9 reference images to 480p, 16 fps.",
            short_side=480,
            flow_shift={480: 16.0},
        ),
        Signature(("WanVACEPipeline",), heads=12),
    ),
    CatalogEntry(
        "wan2.1-vace-14b",
        "Wan-AI/Wan2.1-VACE-14B-diffusers",
        "WanVACEPipeline",
        "14B",
        ((1280, 720), (832, 480)),
        _vace(
            "wan2.1-vace-14b",
            "Wan 2.1 VACE 14B: text, first/last frames and 1-9 reference images to 720p or "
            "480p, 16 fps.",
            short_side=720,
            short_sides=_BOTH,
            flow_shift={480: 16.0, 720: 16.0},
        ),
        Signature(("WanVACEPipeline",), heads=40),
    ),
    *HUNYUAN_ENTRIES,
)
ENTRIES += LTX2_ENTRIES
CATALOGUE: Mapping[str, CatalogEntry] = MappingProxyType({e.name: e for e in ENTRIES})
