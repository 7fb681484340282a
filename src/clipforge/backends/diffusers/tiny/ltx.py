"""Tiny LTX-Video pipelines: the generic toy `ltx` / `ltx-condition`, each LTX catalogue
entry's structure (after diffusers' `convert_ltx_to_diffusers.py` and its test dummies
`tests/pipelines/ltx/test_ltx_condition.py`, `test_ltx_latent_upsample.py`: the LTX head widths,
64 for 2B and 128 for 13B; the timestep-conditioned 0.9.5 VAE), and the latent upsampler.
"""

from __future__ import annotations

from typing import Any

from diffusers import (
    AutoencoderKLLTXVideo,
    FlowMatchEulerDiscreteScheduler,
    LTXConditionPipeline,
    LTXPipeline,
    LTXVideoTransformer3DModel,
)
from diffusers.pipelines.ltx.modeling_latent_upsampler import LTXLatentUpsamplerModel
from transformers import T5Config, T5EncoderModel, T5Tokenizer

from clipforge.backends.diffusers.tiny.common import (
    T5_SIZE,
    TEXT_DIM,
    Seeded,
    seeded_by,
    tiny_tokenizer,
)

LTX_LATENT = 8
"""Latent channels of the tiny LTX VAE (the real one: 128)."""


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


def build_generic_ltx(seed: int) -> LTXPipeline:
    seeded = seeded_by(seed)
    return LTXPipeline(
        **ltx_text(tiny_tokenizer(), seeded),
        vae=seeded(2, _generic_ltx_vae),
        transformer=seeded(3, _generic_ltx_transformer),
        scheduler=FlowMatchEulerDiscreteScheduler(
            use_dynamic_shifting=True,
            base_shift=0.95,
            max_shift=2.05,
            base_image_seq_len=1024,
            max_image_seq_len=4096,
            shift_terminal=0.1,
        ),
    )


def build_generic_ltx_condition(seed: int) -> LTXConditionPipeline:
    """LTX-Video 0.9.5 and later (the distilled 0.9.7 too) are saved as LTXConditionPipeline,
    whose scheduler uses a fixed shift instead of the resolution-dependent one."""
    seeded = seeded_by(seed)
    return LTXConditionPipeline(
        **ltx_text(tiny_tokenizer(), seeded),
        vae=seeded(2, _generic_ltx_vae),
        transformer=seeded(3, _generic_ltx_transformer),
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False, shift=1.0),
    )


def _generic_ltx_vae() -> AutoencoderKLLTXVideo:
    # Patch size 4 and three spatio-temporal halvings: 32x spatial and 8x temporal, as in LTX.
    return AutoencoderKLLTXVideo(
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        patch_size=4,
        patch_size_t=1,
    )


def _generic_ltx_transformer() -> LTXVideoTransformer3DModel:
    return LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=TEXT_DIM,
    )
