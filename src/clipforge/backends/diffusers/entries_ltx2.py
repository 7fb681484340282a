"""The LTX-2 entries (joint video and sound) with their sources, appended to `entries.ENTRIES`.

Every value an entry sets is cited in its `rules.sources` (docs/GPU.md, "LTX-2 with sound").
"""

from __future__ import annotations

from types import MappingProxyType

from clipforge.backends.diffusers.families import LTX2
from clipforge.backends.diffusers.rules import CatalogEntry, ModelFamily, Signature, TwoStage

LTX2_README = (
    "Lightricks/LTX-2 packages/ltx-pipelines/README.md (multimodal guidance: video cfg 3.0, "
    "stg 1.0, rescale 0.7, modality 3.0; audio cfg 7.0, stg 1.0, rescale 0.7, modality 3.0; "
    "40 steps; 8k+1 frames, sides multiples of 32)"
)
LTX2_DIFFUSERS = (
    "diffusers pipelines/ltx2 examples (LTX2Pipeline, LTX2ImageToVideoPipeline, "
    "LTX2ConditionPipeline: 768x512, 121 frames, frame_rate 24, audio at the vocoder's "
    "output_sampling_rate)"
)
LTX2_STAGES = (
    "Lightricks/LTX-2 packages/ltx-pipelines/README.md (DistilledPipeline: the 8 sigmas at half "
    "resolution, the x2 spatial upsampler, then stage 2); diffusers pipelines/ltx2/utils.py "
    "STAGE_2_DISTILLED_SIGMA_VALUES; the upsampler converted for diffusers by its LTX-2 port "
    "(dg845/LTX-2.3-Spatial-Upsampler-Diffusers, an LTX2LatentUpsamplePipeline)"
)
LTX2_CALL = (
    "diffusers pipelines/ltx2/pipeline_ltx2.py __call__ docs (STG blocks [29] for LTX-2.0, [28] "
    "for 2.3; use_cross_timestep False is the 2.0 behaviour, True 2.3's; 2.3: video 3.0, audio "
    "7.0, stg 1.0, modality 3.0)"
)
LTX2_DISTILLED = (
    "diffusers pipelines/ltx2/utils.py DISTILLED_SIGMA_VALUES (from Lightricks/LTX-2 "
    "ltx_pipelines/utils/constants.py); pipeline_ltx2_hdr_lora.py example on "
    "diffusers/LTX-2.3-Distilled-Diffusers: 8 steps, those sigmas, guidance 1.0"
)

_LTX2_CLASSES = ("LTX2Pipeline", "LTX2ImageToVideoPipeline", "LTX2ConditionPipeline")
_GEMMA3 = "Gemma3ForConditionalGeneration"
_LTX2_SIZES = MappingProxyType({"480p": 512, "720p": 704, "1080p": 704})
_LTX2_GUIDED = {
    "stg_scale": 1.0,
    "modality_scale": 3.0,
    "guidance_rescale": 0.7,
    "audio_guidance_scale": 7.0,
    "audio_stg_scale": 1.0,
    "audio_modality_scale": 3.0,
    "audio_guidance_rescale": 0.7,
}
"""LTX-2's multimodal guidance beside guidance_scale 3.0 (LTX2_README)."""
_LTX2_UNGUIDED = {
    "stg_scale": 0.0,
    "modality_scale": 1.0,
    "guidance_rescale": 0.0,
    "audio_guidance_scale": 1.0,
    "audio_stg_scale": 0.0,
    "audio_modality_scale": 1.0,
    "audio_guidance_rescale": 0.0,
    "use_cross_timestep": True,
}
"""The distilled checkpoint runs without guidance: every guide off (one forward a step)."""
DISTILLED_SIGMAS = (1.0, 0.99375, 0.9875, 0.98125, 0.975, 0.909375, 0.725, 0.421875)
STAGE_2_SIGMAS = (0.909375, 0.725, 0.421875)


def _ltx2(entry: str, description: str, sources: dict[str, str], **values: object) -> ModelFamily:
    cited = {"sizes": LTX2_README, "fps": LTX2_DIFFUSERS, "frames": LTX2_DIFFUSERS}
    cited |= {"decode": LTX2_DIFFUSERS + " (decode_timestep 0: the VAE takes no timestep)"}
    cited |= {"negative_prompt": "Lightricks/LTX-2 ltx_pipelines/utils/constants.py"} | sources
    fields = {"name": entry, "description": description, "short_sides": _LTX2_SIZES}
    fields |= {"trained_frames": 121} | values
    return LTX2.with_changes(**fields, sources=cited)


LTX2_ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "ltx-2",
        "Lightricks/LTX-2",
        "LTX2ConditionPipeline",
        "19B",
        ((768, 512),),
        _ltx2(
            "ltx-2",
            "LTX-2 (19B) with sound: 24 fps, text, first and last frames; 40 guided steps.",
            guidance_scale=3.0,
            extra_arguments={
                **_LTX2_GUIDED,
                "spatio_temporal_guidance_blocks": [29],
                "use_cross_timestep": False,
            },
            sources={"steps": LTX2_README, "guidance": LTX2_README + "; " + LTX2_CALL},
        ),
        Signature(_LTX2_CLASSES, text_encoder=_GEMMA3, modality_projections=False),
    ),
    CatalogEntry(
        "ltx-2.3",
        "diffusers/LTX-2.3-Diffusers",
        "LTX2ConditionPipeline",
        "22B",
        ((768, 512),),
        _ltx2(
            "ltx-2.3",
            "LTX-2.3 (22B) with sound (48 kHz): 24 fps, text, first and last frames; 40 guided "
            "steps.",
            guidance_scale=3.0,
            extra_arguments={
                **_LTX2_GUIDED,
                "spatio_temporal_guidance_blocks": [28],
                "use_cross_timestep": True,
            },
            sources={"steps": LTX2_README, "guidance": LTX2_CALL},
        ),
        Signature(_LTX2_CLASSES, text_encoder=_GEMMA3, modality_projections=True),
    ),
    # The distilled weights have the 2.3 configs exactly: only their name tells them apart.
    CatalogEntry(
        "ltx-2.3-distilled",
        "diffusers/LTX-2.3-Distilled-Diffusers",
        "LTX2ConditionPipeline",
        "22B",
        ((768, 512),),
        _ltx2(
            "ltx-2.3-distilled",
            "LTX-2.3 distilled (22B) with sound: 8 steps, no guidance.",
            steps=8,
            guidance_scale=1.0,
            negative_prompt=None,
            sigmas=DISTILLED_SIGMAS,
            extra_arguments=_LTX2_UNGUIDED,
            two_stage=TwoStage(
                upsampler_hub_id="dg845/LTX-2.3-Spatial-Upsampler-Diffusers",
                downscale=0.5,
                refine_timesteps=STAGE_2_SIGMAS,
                refine_strength=1.0,
                adain_factor=0.0,
                upsampler_class="LTX2LatentUpsamplerModel",
            ),
            sources={
                "steps": LTX2_DISTILLED,
                "sigmas": LTX2_DISTILLED,
                "guidance": LTX2_DISTILLED,
                "two_stage": LTX2_STAGES,
            },
        ),
        Signature(_LTX2_CLASSES, text_encoder=_GEMMA3, modality_projections=True),
        distilled=True,
    ),
)
