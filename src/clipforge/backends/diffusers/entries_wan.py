"""The Wan checkpoints of the catalogue (no torch): Wan 2.1 and 2.2 text- and image-to-video,
and Wan 2.1 VACE (text, first/last frames and reference images).

Every value an entry sets is cited in its `rules.sources` (field -> the document publishing
it); the repositories were read at the revisions current when this table was written.
"""

from __future__ import annotations

from types import MappingProxyType

from clipforge.backends.diffusers.families import (
    WAN,
    WAN_FLF2V_NEGATIVE_PROMPT,
    WAN_I2V,
    WAN_I2V_NEGATIVE_PROMPT,
    WAN_VACE,
)
from clipforge.backends.diffusers.rules import CatalogEntry, ModelFamily, Signature

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
_WAN_CLASSES = ("WanPipeline", "WanImageToVideoPipeline")


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


def _vace(entry: str, description: str, **values: object) -> ModelFamily:
    cited = {"fps": W21_SHARED, "vae": WAN_VAE, "negative_prompt": W21_SHARED}
    cited |= {"pixel_areas": WAN_AREA, "sizes": W21_SIZES, "steps": W21_GENERATE}
    cited |= {"guidance": W21_GENERATE, "flow_shift": W21_VACE_SHIFT, "references": W21_VACE}
    fields = {"name": entry, "description": description, "trained_frames": 81} | values
    return WAN_VACE.with_changes(**fields, sources=cited)


WAN_ENTRIES: tuple[CatalogEntry, ...] = (
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
)
# A tuple of its own: the catalogue lists VACE after LTX-Video (`entries`).
WAN_VACE_ENTRIES: tuple[CatalogEntry, ...] = (
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
)
