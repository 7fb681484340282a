"""Tiny random-weight pipelines with the structure of each catalogue entry's real repository.

Each builder makes the pipeline class, components and config flags that the conversion
scripts write for the real weights (diffusers `scripts/convert_wan_to_diffusers.py` and
`convert_ltx_to_diffusers.py`), at toy width, after diffusers' own test dummies
(`tests/pipelines/wan/test_wan_22*.py`, `test_wan_image_to_video.py`,
`tests/pipelines/ltx/test_ltx_condition.py`, `test_ltx_latent_upsample.py`). What tells the real
models apart survives the shrinking: the head counts of the Wan 2.1 T2V sizes (12 and 40 heads
at a 6-wide head), the LTX head widths (64 for 2B, 128 for 13B), the experts and
`boundary_ratio`, `expand_timesteps` and the 48-channel Wan 2.2 VAE, the CLIP image encoder of
Wan 2.1 I2V and FLF2V's two-image position table, the timestep-conditioned LTX 0.9.5 VAE.
The weights are random: the output is coloured noise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from diffusers import (
    AutoencoderKLLTXVideo,
    AutoencoderKLWan,
    FlowMatchEulerDiscreteScheduler,
    LTXConditionPipeline,
    LTXPipeline,
    LTXVideoTransformer3DModel,
    UniPCMultistepScheduler,
    WanImageToVideoPipeline,
    WanPipeline,
    WanTransformer3DModel,
)
from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
from transformers import (
    CLIPImageProcessor,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
    T5Config,
    T5EncoderModel,
    T5Tokenizer,
    UMT5Config,
    UMT5EncoderModel,
)

TEXT_DIM = 32
"""Width of the tiny text encoder, and so of the transformers' caption input."""
IMAGE_DIM = 8
"""Width of the tiny CLIP image encoder (the real one: 1280)."""
IMAGE_TOKENS = 17
"""Tokens of one image through it: 4 x 4 patches and the class token (the real one: 257)."""
LTX_LATENT = 8
"""Latent channels of the tiny LTX VAE (the real one: 128)."""

T5_SIZE: dict[str, Any] = {
    "d_model": TEXT_DIM,
    "d_kv": 8,
    "d_ff": 64,
    "num_layers": 2,
    "num_heads": 4,
    "relative_attention_num_buckets": 8,
    "relative_attention_max_distance": 32,
    "feed_forward_proj": "gated-gelu",
    "dropout_rate": 0.0,
}
"""A two-layer, 32-wide T5 encoder (UMT5 for Wan, T5 for LTX, as the real pipelines use)."""

Seeded = Callable[[int, Callable[[], Any]], Any]
"""seeded(offset, make): one component made from its own seed."""


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


def ltx_vae() -> AutoencoderKLLTXVideo:
    """The LTX-Video 0.9.5/0.9.7 VAE layout (0.9.5 down blocks, timestep-conditioned decoder,
    32x spatial and 8x temporal) at toy width."""
    return AutoencoderKLLTXVideo(
        latent_channels=LTX_LATENT,
        block_out_channels=(4, 8, 16, 32, 64),
        down_block_types=("LTXVideo095DownBlock3D",) * 4,
        decoder_block_out_channels=(8, 16, 32),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, True),
        decoder_spatio_temporal_scaling=(True, True, True),
        decoder_inject_noise=(False, False, False, False),
        downsample_type=("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
        upsample_residual=(True, True, True),
        upsample_factor=(2, 2, 2),
        timestep_conditioning=True,
        patch_size=4,
        patch_size_t=1,
        spatial_compression_ratio=32,
        temporal_compression_ratio=8,
        encoder_causal=True,
        decoder_causal=False,
    )


def ltx_transformer(head_dim: int) -> LTXVideoTransformer3DModel:
    """LTX's transformer: 2B has 64-wide heads, 13B 128-wide (one head here, two blocks)."""
    return LTXVideoTransformer3DModel(
        in_channels=LTX_LATENT,
        out_channels=LTX_LATENT,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=1,
        attention_head_dim=head_dim,
        cross_attention_dim=head_dim,
        num_layers=2,
        qk_norm="rms_norm_across_heads",
        caption_channels=TEXT_DIM,
    )


def latent_upsampler() -> LTXLatentUpsamplerModel:
    """The spatial latent upsampler (2x) of ltxv-spatial-upscaler-0.9.7, at toy width."""
    return LTXLatentUpsamplerModel(
        in_channels=LTX_LATENT,
        mid_channels=32,
        num_blocks_per_stage=1,
        dims=3,
        spatial_upsample=True,
        temporal_upsample=False,
    )


def ltx_text(tokenizer: T5Tokenizer, seeded: Seeded) -> dict[str, Any]:
    config = T5Config(vocab_size=len(tokenizer), **T5_SIZE)
    return {
        "tokenizer": tokenizer,
        "text_encoder": seeded(1, lambda: T5EncoderModel(config).eval()),
    }


def build_ltx(kind: str, tokenizer: T5Tokenizer, seeded: Seeded) -> Any:
    """LTX-Video 0.9.5 (saved as LTXPipeline by the conversion) or 0.9.7 distilled
    (LTXConditionPipeline); both with the fixed-shift scheduler the conversion saves."""
    cls = LTXPipeline if kind == "ltx-video-0.9.5" else LTXConditionPipeline
    head_dim = 64 if kind == "ltx-video-0.9.5" else 128
    return cls(
        **ltx_text(tokenizer, seeded),
        vae=seeded(2, ltx_vae),
        transformer=seeded(3, lambda: ltx_transformer(head_dim)),
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False),
    )


def seeded_by(seed: int) -> Seeded:
    """`seeded(offset, make)`: each component made from its own seed, independent of the
    others."""

    def seeded(offset: int, make: Callable[[], Any]) -> Any:
        torch.manual_seed(seed * 1000 + offset)
        return make()

    return seeded
