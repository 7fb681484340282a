"""Tiny LTX-2 pipelines (joint video and sound) with the structure of the released folders.

After diffusers' `scripts/convert_ltx2_to_diffusers.py` (the 2.0 configs) and the LTX-2 test
dummies (`tests/pipelines/ltx2/testing_utils.py`): the real component classes and config keys
at toy width. The video VAE keeps LTX's 32x spatial and 8x temporal compression, the audio VAE
the 16 kHz, hop-160 mel front end, and the vocoder the real upsampling ratios, so the waveform
comes out at the released rate (2.0: 24 kHz; 2.3: 48 kHz through the bandwidth extension). The
text encoder is a two-layer Gemma 3 built from a transformers config, the tokenizer a Gemma
(byte-fallback BPE) tokenizer over a character vocabulary: nothing is downloaded. The 2.3 build
differs where the 2.3 configs do: gated attention and prompt modulation in the transformer,
per-modality projections in the connectors, the vocoder with bandwidth extension.
"""

from __future__ import annotations

import string
from typing import Any

from diffusers import (
    AutoencoderKLLTX2Audio,
    AutoencoderKLLTX2Video,
    FlowMatchEulerDiscreteScheduler,
    LTX2Pipeline,
    LTX2VideoTransformer3DModel,
)
from diffusers.pipelines.ltx2 import LTX2LatentUpsamplerModel, LTX2TextConnectors
from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder, LTX2VocoderWithBWE
from transformers import (
    Gemma3Config,
    Gemma3ForConditionalGeneration,
    Gemma3TextConfig,
    GemmaTokenizer,
    SiglipVisionConfig,
)

from clipforge.backends.diffusers.tiny.common import Seeded

GEMMA_WIDTH = 32
"""Hidden size of the tiny Gemma 3 text encoder (the real one, Gemma 3 12B: 3840)."""
GEMMA_LAYERS = 2
"""Its layers (real: 48); the connectors take every layer's hidden states (layers + 1)."""
LATENT = 8
"""Video latent channels (real: 128)."""
AUDIO_LATENT = 4
"""Audio latent channels (real: 8)."""
MEL_BINS = 16
"""Mel bins of the audio VAE (real: 64), 4x compressed in the latent."""
AUDIO_TOKEN = AUDIO_LATENT * MEL_BINS // 4
"""Width of one audio token (latent channels x latent mel bins; real: 8 x 16 = 128), which is
also the audio VAE's base width (its latent statistics have one entry per token channel)."""
VOCODER_24K = {"upsample_factors": [6, 5, 2, 2, 2], "upsample_kernel_sizes": [16, 15, 8, 4, 4]}
"""LTX-2.0's vocoder ratios: 100 mel frames a second x 240 = 24 kHz."""


def gemma_tokenizer() -> GemmaTokenizer:
    """A Gemma tokenizer over single characters (the real one: 262k BPE pieces); unknown
    characters fall back to bytes, as Gemma's do."""
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    pieces = [*specials, "▁", *(c for c in string.printable if not c.isspace())]
    pieces += [f"<0x{byte:02X}>" for byte in range(256)]
    vocab = {piece: index for index, piece in enumerate(dict.fromkeys(pieces))}
    return GemmaTokenizer(vocab=vocab, merges=[], model_max_length=1024)


def gemma_encoder(vocab_size: int) -> Gemma3ForConditionalGeneration:
    """Gemma 3 (text and SigLIP vision towers, as LTX-2 saves it) at toy width."""
    text = Gemma3TextConfig(
        vocab_size=vocab_size,
        hidden_size=GEMMA_WIDTH,
        intermediate_size=64,
        num_hidden_layers=GEMMA_LAYERS,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        sliding_window=16,
        max_position_embeddings=2048,
    )
    vision = SiglipVisionConfig(
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=28,
        patch_size=14,
    )
    config = Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4)
    return Gemma3ForConditionalGeneration(config).eval()


def connectors(v23: bool) -> LTX2TextConnectors:
    """The text connectors: one shared projection as wide as the text encoder (2.0), or one
    per modality, as wide as each stream (2.3)."""
    extra = {
        "per_modality_projections": True,
        "video_hidden_dim": 32,
        "audio_hidden_dim": 16,
        "video_gated_attn": True,
        "audio_gated_attn": True,
        "proj_bias": True,
    }
    return LTX2TextConnectors(
        caption_channels=GEMMA_WIDTH,
        text_proj_in_factor=GEMMA_LAYERS + 1,
        video_connector_num_attention_heads=2,
        video_connector_attention_head_dim=16,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=2,
        audio_connector_attention_head_dim=8 if v23 else 16,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=32,
        rope_type="split",
        **(extra if v23 else {}),
    )


def transformer(v23: bool) -> LTX2VideoTransformer3DModel:
    """The audio-video transformer: 2 blocks, a 32-wide video and 16-wide audio stream."""
    extra = {
        "gated_attn": True,
        "cross_attn_mod": True,
        "audio_gated_attn": True,
        "audio_cross_attn_mod": True,
        "use_prompt_embeddings": False,  # the 2.3 connectors project per modality instead
    }
    return LTX2VideoTransformer3DModel(
        in_channels=LATENT,
        out_channels=LATENT,
        num_attention_heads=2,
        attention_head_dim=16,
        cross_attention_dim=32,
        audio_in_channels=AUDIO_TOKEN,
        audio_out_channels=AUDIO_TOKEN,
        audio_num_attention_heads=2,
        audio_attention_head_dim=8,
        audio_cross_attention_dim=16,
        num_layers=2,
        caption_channels=GEMMA_WIDTH,
        rope_type="split",
        **(extra if v23 else {}),
    )


def video_vae() -> AutoencoderKLLTX2Video:
    """The LTX-2 video VAE layout (32x spatial, 8x temporal) at toy width."""
    return AutoencoderKLLTX2Video(
        latent_channels=LATENT,
        block_out_channels=(4, 8, 16, 32),
        decoder_block_out_channels=(8, 16, 32),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1),
        spatial_compression_ratio=32,
        temporal_compression_ratio=8,
        decoder_causal=False,
    )


def audio_vae() -> AutoencoderKLLTX2Audio:
    """The audio VAE: 16 kHz mel frames (hop 160), 4x compressed in time, at toy width."""
    return AutoencoderKLLTX2Audio(
        base_channels=AUDIO_TOKEN,
        ch_mult=(1, 2, 4),
        num_res_blocks=1,
        latent_channels=AUDIO_LATENT,
        mel_bins=MEL_BINS,
        resolution=MEL_BINS,
    )


def vocoder(v23: bool) -> Any:
    """Mel frames to a stereo waveform: 24 kHz (2.0), or 16 kHz widened to 48 kHz (2.3)."""
    mel = 2 * MEL_BINS  # the audio VAE's two output channels, flattened with the bins
    if not v23:
        common = {"resnet_kernel_sizes": [3], "resnet_dilations": [[1]]}
        return LTX2Vocoder(in_channels=mel, hidden_channels=32, **VOCODER_24K, **common)
    # Each upsampling stage halves the width: 6 stages (and 5 in the extension) from 128 / 64.
    return LTX2VocoderWithBWE(
        in_channels=mel,
        hidden_channels=128,
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1]],
        bwe_hidden_channels=64,
        bwe_resnet_kernel_sizes=[3],
        bwe_resnet_dilations=[[1]],
        num_mel_channels=MEL_BINS * 4,
    )


def latent_upsampler() -> LTX2LatentUpsamplerModel:
    """The x2 spatial latent upsampler of LTX-2, at toy width."""
    return LTX2LatentUpsamplerModel(in_channels=LATENT, mid_channels=32, num_blocks_per_stage=1)


def build_ltx2(kind: str, tokenizer: Any, seeded: Seeded) -> LTX2Pipeline:
    """An LTX-2 folder as released (saved as LTX2Pipeline): 2.0 or 2.3 structure by name. The
    T5 `tokenizer` every builder is handed goes unused: LTX-2 reads Gemma's."""
    v23 = "2.3" in kind
    words = gemma_tokenizer()
    return LTX2Pipeline(
        tokenizer=words,
        text_encoder=seeded(1, lambda: gemma_encoder(len(words))),
        connectors=seeded(4, lambda: connectors(v23)),
        transformer=seeded(3, lambda: transformer(v23)),
        vae=seeded(2, video_vae),
        audio_vae=seeded(5, audio_vae),
        vocoder=seeded(7, lambda: vocoder(v23)),
        scheduler=FlowMatchEulerDiscreteScheduler(
            use_dynamic_shifting=True,
            base_shift=0.95,
            max_shift=2.05,
            base_image_seq_len=1024,
            max_image_seq_len=4096,
            shift_terminal=0.1,
        ),
    )
