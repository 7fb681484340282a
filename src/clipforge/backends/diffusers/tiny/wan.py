"""Tiny Wan pipelines: the generic toy `wan`, and each Wan catalogue entry's structure.

The catalogue builders make the pipeline class, components and config flags that diffusers'
`scripts/convert_wan_to_diffusers.py` writes for the real weights, at toy width, after
diffusers' own test dummies (`tests/pipelines/wan/test_wan_22*.py`,
`test_wan_image_to_video.py`). What tells the real models apart survives the shrinking: the
head counts of the Wan 2.1 T2V sizes (12 and 40 heads at a 6-wide head), the experts and
`boundary_ratio`, `expand_timesteps` and the 48-channel Wan 2.2 VAE, the CLIP image encoder of
Wan 2.1 I2V and FLF2V's two-image position table.
"""

from __future__ import annotations

from typing import Any

from diffusers import (
    AutoencoderKLWan,
    UniPCMultistepScheduler,
    WanImageToVideoPipeline,
    WanPipeline,
    WanTransformer3DModel,
)
from transformers import (
    CLIPImageProcessor,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
    T5Tokenizer,
    UMT5Config,
    UMT5EncoderModel,
)

from clipforge.backends.diffusers.tiny.common import (
    IMAGE_DIM,
    IMAGE_TOKENS,
    T5_SIZE,
    TEXT_DIM,
    Seeded,
    seeded_by,
    tiny_tokenizer,
)


def wan_scheduler(shift: float) -> UniPCMultistepScheduler:
    """The scheduler the Wan conversion saves (3.0; FLF2V 16.0; TI2V 5.0)."""
    return UniPCMultistepScheduler(
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        num_train_timesteps=1000,
        flow_shift=shift,
    )


def wan_vae(version: str = "2.1") -> AutoencoderKLWan:
    """Wan 2.1 VAE (16 channels, 8x spatial, 4x temporal) or Wan 2.2's (48 channels, a 2x2
    patchify on top: 16x spatial)."""
    if version == "2.1":
        return AutoencoderKLWan(
            base_dim=4,
            z_dim=16,
            dim_mult=[1, 1, 1, 1],
            num_res_blocks=1,
            temperal_downsample=[False, True, True],
        )
    return AutoencoderKLWan(
        base_dim=4,
        z_dim=48,
        in_channels=12,
        out_channels=12,
        is_residual=True,
        patch_size=2,
        latents_mean=[0.0] * 48,
        latents_std=[1.0] * 48,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        temperal_downsample=[False, True, True],
    )


def wan_transformer(
    heads: int, in_channels: int = 16, out_channels: int = 16, head_dim: int = 6, **extra: Any
) -> WanTransformer3DModel:
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=heads,
        attention_head_dim=head_dim,
        in_channels=in_channels,
        out_channels=out_channels,
        text_dim=TEXT_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,  # the real models': any frame size up to 1080p fits
        **extra,
    )


def clip_image_encoder() -> CLIPVisionModelWithProjection:
    """A CLIP vision tower like ViT-H/14's, at 32 px with 8 px patches (17 tokens)."""
    config = CLIPVisionConfig(
        hidden_size=IMAGE_DIM,
        projection_dim=IMAGE_DIM,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=32,
        intermediate_size=16,
        patch_size=8,
    )
    return CLIPVisionModelWithProjection(config).eval()


def wan_text(tokenizer: T5Tokenizer, seeded: Seeded) -> dict[str, Any]:
    config = UMT5Config(vocab_size=len(tokenizer), **T5_SIZE)
    return {
        "tokenizer": tokenizer,
        "text_encoder": seeded(1, lambda: UMT5EncoderModel(config).eval()),
    }


def build_wan(kind: str, tokenizer: T5Tokenizer, seeded: Seeded) -> Any:
    """The Wan pipeline of the catalogue entry `kind`."""
    text = wan_text(tokenizer, seeded)
    if kind == "wan2.2-ti2v-5b":
        return WanPipeline(
            **text,
            vae=seeded(2, lambda: wan_vae("2.2")),
            transformer=seeded(3, lambda: wan_transformer(24, 48, 48)),
            scheduler=wan_scheduler(5.0),
            expand_timesteps=True,
        )
    vae = seeded(2, wan_vae)
    if kind in ("wan2.2-t2v-a14b", "wan2.2-i2v-a14b"):
        channels = 16 if kind == "wan2.2-t2v-a14b" else 36
        experts = {
            "transformer": seeded(3, lambda: wan_transformer(40, channels)),
            "transformer_2": seeded(4, lambda: wan_transformer(40, channels)),
        }
        if kind == "wan2.2-t2v-a14b":
            return WanPipeline(
                **text, vae=vae, scheduler=wan_scheduler(3.0), boundary_ratio=0.875, **experts
            )
        return WanImageToVideoPipeline(
            **text, vae=vae, scheduler=wan_scheduler(3.0), boundary_ratio=0.9, **experts
        )
    if kind in ("wan2.1-t2v-1.3b", "wan2.1-t2v-14b"):
        heads = 12 if kind == "wan2.1-t2v-1.3b" else 40
        transformer = seeded(3, lambda: wan_transformer(heads))
        return WanPipeline(**text, vae=vae, transformer=transformer, scheduler=wan_scheduler(3.0))
    flf = kind == "wan2.1-flf2v-14b-720p"
    image = {"image_dim": IMAGE_DIM, "added_kv_proj_dim": 40 * 6}
    if flf:
        image["pos_embed_seq_len"] = 2 * IMAGE_TOKENS
    return WanImageToVideoPipeline(
        **text,
        vae=vae,
        transformer=seeded(3, lambda: wan_transformer(40, 36, **image)),
        scheduler=wan_scheduler(16.0 if flf else 3.0),
        image_encoder=seeded(5, clip_image_encoder),
        image_processor=CLIPImageProcessor(crop_size=32, size=32),
    )


def build_generic_wan(seed: int) -> WanPipeline:
    seeded = seeded_by(seed)
    return WanPipeline(
        **wan_text(tiny_tokenizer(), seeded),
        vae=seeded(2, wan_vae),  # Wan 2.1's: 8x spatial, 4x temporal
        transformer=seeded(3, _generic_wan_transformer),
        scheduler=wan_scheduler(3.0),
    )


def _generic_wan_transformer() -> WanTransformer3DModel:
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=TEXT_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=2,
        rope_max_seq_len=1024,  # the real models': any frame size up to 1080p fits
    )
