"""Tiny HunyuanVideo 1.5 pipelines with the structure of each published diffusers checkpoint.

The components and config keys diffusers' `scripts/convert_hunyuan_video1_5_to_diffusers.py`
writes, at toy width after diffusers' test dummies (`tests/pipelines/hunyuan_video1_5/`): a
Qwen2.5-VL text model and a T5 (ByT5) glyph encoder built from transformers configs, a SigLIP
vision tower for image-to-video, the saved ClassifierFreeGuidance guider and flow-matching
scheduler. What tells the checkpoints apart survives the shrinking: the transformer's
`target_size` (640 at 480p, 960 at 720p), `task_type`, `use_meanflow` (step-distilled) and the
guider's scale (1.0 when CFG-distilled); the VAE keeps its 16x spatial, 4x temporal ratios and
32 latent channels (65 transformer input channels: latents, image latents, mask). The Qwen2
tokenizer is byte-level BPE over the 256 bytes (no merges) with Qwen's chat markers, built
here, so nothing is downloaded.
"""

from __future__ import annotations

from typing import Any

import torch
from diffusers import (
    AutoencoderKLHunyuanVideo15,
    FlowMatchEulerDiscreteScheduler,
    HunyuanVideo15ImageToVideoPipeline,
    HunyuanVideo15Pipeline,
    HunyuanVideo15Transformer3DModel,
)
from diffusers.guiders import ClassifierFreeGuidance
from tokenizers.pre_tokenizers import ByteLevel
from transformers import (
    ByT5Tokenizer,
    Qwen2_5_VLTextConfig,
    Qwen2_5_VLTextModel,
    Qwen2Tokenizer,
    SiglipImageProcessor,
    SiglipVisionConfig,
    SiglipVisionModel,
    T5Config,
    T5EncoderModel,
)

from clipforge.backends.diffusers.entries import CATALOGUE
from clipforge.backends.diffusers.tiny.common import Seeded

QWEN_WIDTH, GLYPH_WIDTH, VISION_WIDTH = 16, 32, 12
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""Qwen2.5's chat layout (the pipeline formats the prompt with a system message)."""


def qwen_tokenizer() -> Qwen2Tokenizer:
    """Byte-level BPE over the 256 byte symbols, no merges, Qwen's three markers."""
    vocab = {symbol: index for index, symbol in enumerate(sorted(ByteLevel.alphabet()))}
    tokenizer = Qwen2Tokenizer(
        vocab=vocab, merges=[], eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def hunyuan_text(seeded: Seeded) -> dict[str, Any]:
    tokenizer = qwen_tokenizer()
    size: dict[str, Any] = {
        "vocab_size": len(tokenizer),
        "hidden_size": QWEN_WIDTH,
        "intermediate_size": 16,
        "num_hidden_layers": 3,  # the pipeline reads the third-last hidden state
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
        "rope_theta": 1000000.0,
    }
    qwen = Qwen2_5_VLTextConfig(**size)
    glyph = T5Config(
        vocab_size=384,  # ByT5's: 256 bytes, 3 specials, 125 extra ids
        d_model=GLYPH_WIDTH,
        d_kv=8,
        d_ff=32,
        num_layers=1,
        num_heads=4,
        relative_attention_num_buckets=8,
        dropout_rate=0.0,
    )
    return {
        "tokenizer": tokenizer,
        "text_encoder": seeded(1, lambda: Qwen2_5_VLTextModel(qwen).eval()),
        "tokenizer_2": ByT5Tokenizer(),
        "text_encoder_2": seeded(4, lambda: T5EncoderModel(glyph).eval()),
    }


def hunyuan_vae() -> AutoencoderKLHunyuanVideo15:
    return AutoencoderKLHunyuanVideo15(
        latent_channels=32,
        block_out_channels=(8, 16, 32, 64, 64),  # the real (128, 256, 512, 1024, 1024) / 16
        layers_per_block=1,
        spatial_compression_ratio=16,
        temporal_compression_ratio=4,
    )


def hunyuan_transformer(target_size: int, task: str, meanflow: bool) -> Any:
    return HunyuanVideo15Transformer3DModel(
        in_channels=65,
        out_channels=32,
        num_attention_heads=2,
        attention_head_dim=8,
        num_layers=2,
        num_refiner_layers=1,
        mlp_ratio=2.0,
        text_embed_dim=QWEN_WIDTH,
        text_embed_2_dim=GLYPH_WIDTH,
        image_embed_dim=VISION_WIDTH,
        rope_axes_dim=(2, 2, 4),
        target_size=target_size,
        task_type=task,
        use_meanflow=meanflow,
    )


def build_hunyuan(kind: str, tokenizer: Any, seeded: Seeded) -> Any:
    """The pipeline of the HunyuanVideo 1.5 catalogue entry `kind` (`tokenizer`, the T5 one
    the other families take, is not used: this family brings its own two)."""
    entry = CATALOGUE[kind]
    signature, rules = entry.signature, entry.rules
    i2v = rules.needs_image
    target = signature.target_size or 640
    parts: dict[str, Any] = hunyuan_text(seeded) | {
        "vae": seeded(2, hunyuan_vae),
        "transformer": seeded(
            3,
            lambda: hunyuan_transformer(
                target, "i2v" if i2v else "t2v", bool(signature.use_meanflow)
            ),
        ),
        "scheduler": FlowMatchEulerDiscreteScheduler(
            shift=rules.shift_for(rules.short_side) or 5.0
        ),
        "guider": ClassifierFreeGuidance(guidance_scale=rules.guidance_scale or 6.0),
    }
    for name in ("transformer", "vae"):  # saved in bf16, as published (ByT5's fixed 2048 width)
        parts[name] = parts[name].to(torch.bfloat16)
    if not i2v:
        return HunyuanVideo15Pipeline(**parts)
    vision = SiglipVisionConfig(
        hidden_size=VISION_WIDTH,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    return HunyuanVideo15ImageToVideoPipeline(
        **parts,
        image_encoder=seeded(5, lambda: SiglipVisionModel(vision).eval()),
        feature_extractor=SiglipImageProcessor(size={"height": 32, "width": 32}),
    )
