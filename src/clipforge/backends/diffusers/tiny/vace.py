"""Tiny Wan VACE pipelines with the structure of Wan-AI/Wan2.1-VACE-1.3B/14B-diffusers.

The pipeline class, components and config keys diffusers' `scripts/convert_wan_to_diffusers.py`
writes for the VACE checkpoints, at toy width after diffusers' own test dummies
(`tests/pipelines/wan/test_wan_vace.py`): the Wan 2.1 VAE (16 latent channels, 8x spatial, so
the control input keeps its real 96 channels: 2 x 16 latents + the 8 x 8 mask), the head counts
that tell 1.3B (12) from 14B (40), and the VACE blocks from layer 0 on.
"""

from __future__ import annotations

from typing import Any

from diffusers import WanVACEPipeline, WanVACETransformer3DModel
from transformers import T5Tokenizer

from clipforge.backends.diffusers.tiny.common import TEXT_DIM, Seeded
from clipforge.backends.diffusers.tiny.wan import wan_scheduler, wan_text, wan_vae


def vace_transformer(heads: int) -> WanVACETransformer3DModel:
    return WanVACETransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=heads,
        attention_head_dim=6,
        in_channels=16,
        out_channels=16,
        text_dim=TEXT_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,
        vace_layers=[0],  # the real ones: every 2nd of 30 (1.3B), every 5th of 40 (14B)
        vace_in_channels=96,
    )


def build_vace(kind: str, tokenizer: T5Tokenizer, seeded: Seeded) -> Any:
    """The VACE pipeline of the catalogue entry `kind` (wan2.1-vace-1.3b or -14b)."""
    heads = 12 if kind == "wan2.1-vace-1.3b" else 40
    return WanVACEPipeline(
        **wan_text(tokenizer, seeded),
        vae=seeded(2, wan_vae),
        transformer=seeded(3, lambda: vace_transformer(heads)),
        scheduler=wan_scheduler(3.0),
    )
