"""The HunyuanVideo 1.5 checkpoints of the catalogue, as Tencent runs them (no torch).

One entry per published diffusers checkpoint (hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-
<variant>): text- or image-to-video, the 480p or 720p tier, the base, CFG-distilled and
step-distilled transformers. Their configs tell every one apart (`Signature`): the pipeline
class (task), the transformer's `target_size` (tier), `use_meanflow` (step-distilled) and the
saved guider's guidance scale (CFG-distilled: 1.0).
"""

from __future__ import annotations

from clipforge.backends.diffusers.families import HUNYUAN15, HUNYUAN15_I2V
from clipforge.backends.diffusers.rules import CatalogEntry, ModelFamily, Signature

HY15_TABLE = (
    "Tencent-Hunyuan/HunyuanVideo-1.5 README, 'Optimal Inference Configurations' (CFG scale, "
    "flow shift, steps per checkpoint; CFG-distilled: 50 steps, guidance 1; 480p I2V step-"
    "distilled: shift 7, 8 or 12 steps)"
)
HY15_GENERATE = (
    "Tencent-Hunyuan/HunyuanVideo-1.5 generate.py (121 frames, saved at 24 fps, negative "
    "prompt '' by default, bf16 transformer)"
)
HY15_SIZES = (
    "diffusers scripts/convert_hunyuan_video1_5_to_diffusers.py (target_size 640 at 480p, 960 "
    "at 720p; task_type; use_meanflow for the step-distilled one; guider guidance_scale) and "
    "hyvideo/utils/data_utils.py generate_crop_size_list (aspect-ratio buckets)"
)
HY15_VAE = (
    "diffusers docs api/pipelines/hunyuan_video15 and Tencent's diffusers example (every "
    "component in bf16, `pipe.vae.enable_tiling()`)"
)
HY15_TEXT = (
    "diffusers pipelines/hunyuan_video1_5 (Qwen2.5-VL-7B text encoder, ByT5 glyph encoder, "
    "SigLIP image encoder for I2V; guidance through the saved ClassifierFreeGuidance guider)"
)


def _hunyuan(entry: str, description: str, i2v: bool, tier: int, **values: object) -> ModelFamily:
    """A HunyuanVideo 1.5 checkpoint: one tier (480 or 720) whatever the resolution asked."""
    cited = {"steps": HY15_TABLE, "guidance": HY15_TABLE, "flow_shift": HY15_TABLE}
    cited |= {"frames": HY15_GENERATE, "fps": HY15_GENERATE, "sizes": HY15_SIZES}
    cited |= {"text_encoders": HY15_TEXT, "vae": HY15_VAE}
    fields = {"name": entry, "description": description, "trained_frames": 121} | values
    base = HUNYUAN15_I2V if i2v else HUNYUAN15
    return base.with_changes(**fields, short_side=tier, sources=cited)


_HY = "hunyuanvideo-community/HunyuanVideo-1.5-Diffusers-"
_HY_T2V = ("HunyuanVideo15Pipeline",)
_HY_I2V = ("HunyuanVideo15ImageToVideoPipeline",)
_HY_SIZES = {480: ((848, 480),), 720: ((1280, 720),)}


def _hunyuan_entry(
    variant: str, tier: int, shift: float, guidance: float, steps: int = 50
) -> CatalogEntry:
    """`variant`: the checkpoint's name in Tencent's table (480p_t2v, 720p_i2v_distilled...)."""
    i2v = "_i2v" in variant
    name = "hunyuanvideo-1.5-" + variant.replace("_", "-")
    kind = "image-to-video (a first frame)" if i2v else "text-to-video"
    recipe = f"{steps} steps, guidance {guidance:g}, shift {shift:g}"
    rules = _hunyuan(
        name,
        f"HunyuanVideo 1.5 {variant} (8.3B): {kind} at {tier}p, 24 fps; {recipe}.",
        i2v,
        tier,
        steps=steps,
        guidance_scale=guidance,
        flow_shift={tier: shift},
    )
    signature = Signature(
        _HY_I2V if i2v else _HY_T2V,
        target_size=640 if tier == 480 else 960,
        use_meanflow="step_distilled" in variant,
        guider_scale=guidance,
    )
    # CFG-distilled ones still take 50 steps; their guidance 1.0 (the saved guider's) is
    # classifier-free guidance off, which `catalog.capabilities_of` keeps a request from undoing.
    distilled = "step_distilled" in variant
    return CatalogEntry(
        name,
        _HY + variant,
        signature.pipeline_classes[0],
        "8.3B",
        _HY_SIZES[tier],
        rules,
        signature,
        distilled=distilled,
    )


HUNYUAN_ENTRIES: tuple[CatalogEntry, ...] = (
    _hunyuan_entry("480p_t2v", 480, 5.0, 6.0),
    _hunyuan_entry("480p_i2v", 480, 5.0, 6.0),
    _hunyuan_entry("720p_t2v", 720, 9.0, 6.0),
    _hunyuan_entry("720p_i2v", 720, 7.0, 6.0),
    _hunyuan_entry("480p_t2v_distilled", 480, 5.0, 1.0),
    _hunyuan_entry("480p_i2v_distilled", 480, 5.0, 1.0),
    _hunyuan_entry("720p_i2v_distilled", 720, 7.0, 1.0),
    # Tencent: "8 or 12 (recommended)"; 8, the faster (CLIPFORGE_NUM_INFERENCE_STEPS=12).
    _hunyuan_entry("480p_i2v_step_distilled", 480, 7.0, 1.0, steps=8),
)
