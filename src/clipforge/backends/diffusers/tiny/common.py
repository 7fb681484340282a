"""What every tiny pipeline shares: the toy widths, per-component seeds and the tokenizer."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import sentencepiece as spm
import torch
from transformers import T5Tokenizer

TEXT_DIM = 32
"""Width of the tiny text encoder, and so of the transformers' caption input."""
IMAGE_DIM = 8
"""Width of the tiny CLIP image encoder (the real one: 1280)."""
IMAGE_TOKENS = 17
"""Tokens of one image through it: 4 x 4 patches and the class token (the real one: 257)."""
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


_CORPUS = (
    "a red ball rolls across a green field under a blue sky",
    "a black cat walks slowly along a wooden table in the morning light",
    "the camera pans over a busy city street at night, neon signs glowing",
    "a white square moves left on a dark background, then stops",
    "waves break on a sandy beach while seagulls fly overhead",
    "keep the camera still: a fixed, static shot with no camera movement",
    "a dragon flies over snowy mountains; 2 birds follow it at sunset",
    "close-up of a yellow flower swaying in the wind, shallow depth of field",
    "an astronaut rides a horse on the moon, cinematic, 4k, highly detailed",
    "rain falls on a quiet village; lights turn on in the windows one by one",
    "the quick brown fox jumps over the lazy dog",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG 0123456789 (!?)",
)


def tiny_tokenizer() -> T5Tokenizer:
    """A T5 (unigram) tokenizer trained in memory on a few sentences: pad 0, eos 1, unk 2."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_CORPUS),
        model_writer=model,
        model_type="unigram",
        vocab_size=160,
        hard_vocab_limit=False,  # the corpus is too small to fill the vocabulary exactly
        character_coverage=1.0,
        num_threads=1,  # one thread keeps the training deterministic
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(len(processor))]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=512)


def seeded_by(seed: int) -> Seeded:
    """`seeded(offset, make)`: each component made from its own seed, independent of the
    others."""

    def seeded(offset: int, make: Callable[[], Any]) -> Any:
        torch.manual_seed(seed * 1000 + offset)
        return make()

    return seeded
