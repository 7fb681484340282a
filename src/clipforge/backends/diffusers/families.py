"""The generic families of diffusers video pipelines (Wan, LTX-Video, LTX-2, Wan VACE,
HunyuanVideo 1.5), their published negative prompts, and how a loaded pipeline's family is
found (no torch). A catalogue entry (`entries`) is one of these with its checkpoint's values;
weights outside the catalogue get their pipeline class's family, else one derived from the VAE.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

from clipforge.backends.diffusers.rules import ModelFamily

CHINESE_COMMA = "\uff0c"
"""The full-width comma Wan's Chinese prompts separate their terms with."""
WAN_NEGATIVE_TERMS = (
    "色调艳丽",
    "过曝",
    "静态",
    "细节模糊不清",
    "字幕",
    "风格",
    "作品",
    "画作",
    "画面",
    "静止",
    "整体发灰",
    "最差质量",
    "低质量",
    "JPEG压缩残留",
    "丑陋的",
    "残缺的",
    "多余的手指",
    "画得不好的手部",
    "画得不好的脸部",
    "畸形的",
    "毁容的",
    "形态畸形的肢体",
    "手指融合",
    "静止不动的画面",
    "杂乱的背景",
    "三条腿",
    "背景人很多",
    "倒着走",
)
WAN_NEGATIVE_PROMPT = CHINESE_COMMA.join(WAN_NEGATIVE_TERMS)
"""Wan's `sample_neg_prompt` as Wan's own code sends it to its UMT5 encoder (Wan2.1 and Wan2.2
wan/configs/shared_config.py, in Chinese; the diffusers examples pass an English rendering)."""
WAN_I2V_NEGATIVE_PROMPT = CHINESE_COMMA.join(("镜头晃动", WAN_NEGATIVE_PROMPT))
"""Wan 2.1 I2V 14B ("camera shake" first: Wan2.1 wan/configs/wan_i2v_14B.py)."""
WAN_FLF2V_NEGATIVE_PROMPT = CHINESE_COMMA.join(("镜头切换", WAN_I2V_NEGATIVE_PROMPT))
"""Wan 2.1 FLF2V 14B ("shot change" before the I2V one it copies: Wan2.1
wan/configs/__init__.py)."""
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"
"""LTX-Video inference.py's default negative prompt (Lightricks/LTX-Video)."""
LTX2_NEGATIVE_PROMPT = (
    "blurry, out of focus, overexposed, underexposed, low contrast, washed out colors, excessive "
    "noise, grainy texture, poor lighting, flickering, motion blur, distorted proportions, "
    "unnatural skin tones, deformed facial features, asymmetrical face, missing facial features, "
    "extra limbs, disfigured hands, wrong hand count, artifacts around text, inconsistent "
    "perspective, camera shake, incorrect depth of field, background too sharp, background "
    "clutter, distracting reflections, harsh shadows, inconsistent lighting direction, color "
    "banding, cartoonish rendering, 3D CGI look, unrealistic materials, uncanny valley effect, "
    "incorrect ethnicity, wrong gender, exaggerated expressions, wrong gaze direction, mismatched "
    "lip sync, silent or muted audio, distorted voice, robotic voice, echo, background noise, "
    "off-sync audio, incorrect dialogue, added dialogue, repetitive speech, jittery movement, "
    "awkward pauses, incorrect timing, unnatural transitions, inconsistent framing, tilted camera, "
    "flat lighting, inconsistent tone, cinematic oversaturation, stylized filters, or AI artifacts."
)
"""LTX-2's default negative prompt (Lightricks/LTX-2 ltx_pipelines/utils/constants.py, as
diffusers' pipelines/ltx2/utils.py DEFAULT_NEGATIVE_PROMPT copies it)."""


WAN = ModelFamily(
    name="wan",
    pipeline_classes=("WanPipeline",),
    fps=16,
    frame_step=4,
    size_multiple=16,
    short_side=480,
    steps=50,
    guidance_scale=5.0,
    negative_prompt=WAN_NEGATIVE_PROMPT,
    description="Wan 2.1/2.2 text-to-video through diffusers.",
    full_precision_vae=True,
    pixel_areas=MappingProxyType({480: 832 * 480, 704: 1280 * 704, 720: 1280 * 720}),
)
WAN_I2V = WAN.with_changes(
    name="wan-i2v",
    pipeline_classes=("WanImageToVideoPipeline",),
    first_frame=True,
    needs_image=True,
    description="Wan image-to-video through diffusers.",
)
LTX = ModelFamily(
    name="ltx",
    pipeline_classes=("LTXPipeline", "LTXImageToVideoPipeline"),
    fps=24,
    frame_step=8,
    size_multiple=32,
    short_side=512,
    steps=50,
    guidance_scale=3.0,
    negative_prompt=LTX_NEGATIVE_PROMPT,
    fps_argument="frame_rate",
    description="LTX-Video text-to-video through diffusers.",
    first_frame=True,
)
LTX_CONDITION = LTX.with_changes(
    name="ltx-condition",
    pipeline_classes=("LTXConditionPipeline",),
    last_frame=True,
    description="LTX-Video (condition pipeline) through diffusers.",
)
LTX2 = LTX_CONDITION.with_changes(
    name="ltx2",
    pipeline_classes=("LTX2ConditionPipeline", "LTX2Pipeline", "LTX2ImageToVideoPipeline"),
    steps=40,
    negative_prompt=LTX2_NEGATIVE_PROMPT,
    description="LTX-2 (joint video and sound) through diffusers.",
    audio=True,
)
"""LTX-2 and later: one transformer denoises video and audio latents together; the pipeline
returns frames and a waveform (the vocoder's rate). Run as LTX2ConditionPipeline, which takes
text alone, a first frame and a last frame (`sampling.image_arguments`)."""
WAN_VACE = WAN.with_changes(
    name="wan-vace",
    pipeline_classes=("WanVACEPipeline",),
    first_frame=True,
    last_frame=True,
    reference_images=True,
    description="Wan VACE: text, first/last frames and reference images through diffusers.",
)
HUNYUAN15 = ModelFamily(
    name="hunyuan-video-1.5",
    pipeline_classes=("HunyuanVideo15Pipeline",),
    fps=24,
    frame_step=4,
    size_multiple=16,
    short_side=480,
    steps=50,
    description="HunyuanVideo 1.5 text-to-video through diffusers.",
    bucket_bases=MappingProxyType({480: 640, 720: 960}),
)
HUNYUAN15_I2V = HUNYUAN15.with_changes(
    name="hunyuan-video-1.5-i2v",
    pipeline_classes=("HunyuanVideo15ImageToVideoPipeline",),
    first_frame=True,
    needs_image=True,
    description="HunyuanVideo 1.5 image-to-video through diffusers.",
)
FAMILIES: tuple[ModelFamily, ...] = (
    WAN,
    WAN_I2V,
    LTX,
    LTX_CONDITION,
    LTX2,
    WAN_VACE,
    HUNYUAN15,
    HUNYUAN15_I2V,
)


def family_of_class(pipeline_class: str) -> ModelFamily | None:
    """The generic family a pipeline class belongs to, if any."""
    return next((f for f in FAMILIES if pipeline_class in f.pipeline_classes), None)


def detect_family(pipeline: Any, rules: ModelFamily | None = None) -> ModelFamily:
    """`rules` (the weights' entry or generic family), else the family whose pipeline class is
    the pipeline's class or a base; either way with the size and frame rules made coarser
    where the loaded VAE needs it (Wan 2.2 TI2V: 16x VAE)."""
    derived = generic_family(pipeline)
    names = {cls.__name__ for cls in type(pipeline).__mro__}
    known = [rules] if rules else [f for f in FAMILIES if names & set(f.pipeline_classes)]
    if not known:
        return derived
    family = known[0]
    return family.with_changes(
        size_multiple=math.lcm(family.size_multiple, derived.size_multiple),
        frame_step=math.lcm(family.frame_step, derived.frame_step),
    )


def generic_family(pipeline: Any) -> ModelFamily:
    """A best guess for an unknown pipeline, from its VAE scale factors and patch size."""
    spatial = _int_attribute(pipeline, "vae_scale_factor_spatial", "vae_spatial_compression_ratio")
    temporal = _int_attribute(
        pipeline, "vae_scale_factor_temporal", "vae_temporal_compression_ratio"
    )
    config = getattr(getattr(pipeline, "transformer", None), "config", None)
    patch = getattr(config, "patch_size", None) or 1
    patch = patch[-1] if isinstance(patch, (tuple, list)) else patch
    name = type(pipeline).__name__
    return ModelFamily(
        name=name,
        pipeline_classes=(name,),
        fps=16,
        frame_step=temporal or 4,
        size_multiple=(spatial or _int_attribute(pipeline, "vae_scale_factor") or 8) * patch,
        short_side=480,
        steps=50,
        description=f"{name} through diffusers (generic settings).",
    )


def _int_attribute(obj: Any, *names: str) -> int | None:
    values = (getattr(obj, name, None) for name in names)
    return next((v for v in values if isinstance(v, int) and v > 0), None)
