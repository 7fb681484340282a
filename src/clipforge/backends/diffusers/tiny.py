"""Tiny random-weight diffusers pipelines, built offline, for tests and for trying the backend.

`build_tiny_pipeline("wan", path)` writes a real diffusers pipeline folder (model_index.json,
one sub-folder per component, safetensors weights) whose components are the classes the real
Wan 2.1 / LTX-Video folders use, at toy size: a few layers and a handful of channels. The VAEs
keep the real compression ratios (Wan: 8x spatial, 4x temporal; LTX: 32x and 8x), so the frame
and size rules of the real families hold. The tokenizer is a SentencePiece unigram model trained
in memory on a few sentences and wrapped as a transformers `T5Tokenizer`, so nothing is
downloaded. The weights are random: the output is coloured noise, not a video of the prompt.

`build_tiny_pipeline(<catalogue name>, path)` writes one with the structure of that entry's real
repository instead (`tiny_parts`): its configs identify it as that entry, so a tiny folder
under any name is served with the entry's rules. `build_tiny_upsampler(path)` writes a tiny
`ltxv-spatial-upscaler-0.9.7` (LTXLatentUpsamplePipeline) folder.

    python -m clipforge.backends.diffusers.tiny wan OUT_DIR
    python -m clipforge.backends.diffusers.tiny wan2.2-ti2v-5b OUT_DIR
"""

from __future__ import annotations

import argparse
import io
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import sentencepiece as spm
import torch
import transformers
from diffusers import (
    AutoencoderKLLTXVideo,
    FlowMatchEulerDiscreteScheduler,
    LTXConditionPipeline,
    LTXLatentUpsamplePipeline,
    LTXPipeline,
    LTXVideoTransformer3DModel,
    WanPipeline,
    WanTransformer3DModel,
)
from transformers import T5Tokenizer

from clipforge.backends.diffusers import tiny_parts as diffusers_tiny
from clipforge.backends.diffusers.catalog import CATALOGUE
from clipforge.backends.diffusers.tiny_parts import TEXT_DIM

Family = Literal["wan", "ltx", "ltx-condition"]
FAMILIES: tuple[Family, ...] = ("wan", "ltx", "ltx-condition")
TRY_SETTINGS = "CLIPFORGE_NATIVE_SHORT_SIDE=32 CLIPFORGE_NUM_INFERENCE_STEPS=4"
"""How to serve a tiny pipeline quickly: it renders noise at any size, so render it small
(resized to the size asked for) in a few steps."""

KINDS: tuple[str, ...] = (*FAMILIES, *CATALOGUE)
"""What build_tiny_pipeline builds: the generic families and every catalogue entry."""

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


def build_tiny_pipeline(family: str, path: Path, *, seed: int = 0, upsampler: bool = False) -> Path:
    """Build a tiny random-weight pipeline of `family` (a generic family or a catalogue name),
    save it at `path` and return `path`; `upsampler` adds a `latent_upsampler/` folder (LTX).

    The same `seed` gives the same weights, byte for byte.
    """
    if family not in KINDS:
        raise ValueError(f"family must be one of {', '.join(KINDS)}, not {family!r}")
    with torch.random.fork_rng(devices=[]):
        pipeline = _build(family, seed)
        extra = (
            diffusers_tiny.seeded_by(seed)(6, diffusers_tiny.latent_upsampler)
            if upsampler
            else None
        )
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    pipeline.save_pretrained(path)
    _name_processor_as_released(path)
    if extra is not None:
        extra.save_pretrained(path / "latent_upsampler")
    return path


def build_tiny_upsampler(path: Path, *, seed: int = 0) -> Path:
    """A tiny folder with the layout of Lightricks/ltxv-spatial-upscaler-0.9.7: an
    LTXLatentUpsamplePipeline (`latent_upsampler/` and `vae/`)."""
    with torch.random.fork_rng(devices=[]):
        seeded = diffusers_tiny.seeded_by(seed)
        pipeline: Any = LTXLatentUpsamplePipeline(
            vae=seeded(2, diffusers_tiny.ltx_vae),
            latent_upsampler=seeded(6, diffusers_tiny.latent_upsampler),
        )
    path = Path(path)
    pipeline.save_pretrained(path)
    return path


def _name_processor_as_released(path: Path) -> None:
    """Without torchvision, transformers saves CLIPImageProcessor as its PIL twin; the released
    folders name CLIPImageProcessor (loaded as the twin here, with a warning)."""
    index_path = path / "model_index.json"
    index = json.loads(index_path.read_text())
    if index.get("image_processor", [None, None])[1] == "CLIPImageProcessorPil":
        index["image_processor"] = ["transformers", "CLIPImageProcessor"]
        index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")


def _build(kind: str, seed: int) -> Any:
    if kind in _BUILDERS:
        return _BUILDERS[kind](seed)  # type: ignore[index]
    seeded = diffusers_tiny.seeded_by(seed)
    if kind.startswith("wan"):
        return diffusers_tiny.build_wan(kind, tiny_tokenizer(), seeded)
    return diffusers_tiny.build_ltx(kind, tiny_tokenizer(), seeded)


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


def _build_wan(seed: int) -> WanPipeline:
    seeded = diffusers_tiny.seeded_by(seed)
    return WanPipeline(
        **diffusers_tiny.wan_text(tiny_tokenizer(), seeded),
        vae=seeded(2, diffusers_tiny.wan_vae),  # Wan 2.1's: 8x spatial, 4x temporal
        transformer=seeded(3, _wan_transformer),
        scheduler=diffusers_tiny.wan_scheduler(3.0),
    )


def _wan_transformer() -> WanTransformer3DModel:
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


def _build_ltx(seed: int) -> LTXPipeline:
    seeded = diffusers_tiny.seeded_by(seed)
    return LTXPipeline(
        **diffusers_tiny.ltx_text(tiny_tokenizer(), seeded),
        vae=seeded(2, _ltx_vae),
        transformer=seeded(3, _ltx_transformer),
        scheduler=FlowMatchEulerDiscreteScheduler(
            use_dynamic_shifting=True,
            base_shift=0.95,
            max_shift=2.05,
            base_image_seq_len=1024,
            max_image_seq_len=4096,
            shift_terminal=0.1,
        ),
    )


def _build_ltx_condition(seed: int) -> LTXConditionPipeline:
    """LTX-Video 0.9.5 and later (the distilled 0.9.7 too) are saved as LTXConditionPipeline,
    whose scheduler uses a fixed shift instead of the resolution-dependent one."""
    seeded = diffusers_tiny.seeded_by(seed)
    return LTXConditionPipeline(
        **diffusers_tiny.ltx_text(tiny_tokenizer(), seeded),
        vae=seeded(2, _ltx_vae),
        transformer=seeded(3, _ltx_transformer),
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False, shift=1.0),
    )


def _ltx_vae() -> AutoencoderKLLTXVideo:
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


def _ltx_transformer() -> LTXVideoTransformer3DModel:
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


_BUILDERS: dict[Family, Callable[[int], Any]] = {
    "wan": _build_wan,
    "ltx": _build_ltx,
    "ltx-condition": _build_ltx_condition,
}


def main(argv: list[str] | None = None) -> None:
    """`python -m clipforge.backends.diffusers.tiny KIND OUT_DIR [--seed N]`."""
    parser = argparse.ArgumentParser(
        prog="python -m clipforge.backends.diffusers.tiny",
        description="Write a tiny random-weight diffusers pipeline (for tests; makes noise).",
    )
    parser.add_argument("family", choices=KINDS)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    path = build_tiny_pipeline(args.family, args.out_dir, seed=args.seed)
    shown = str(path) if path.is_absolute() else f"./{path}"  # a folder, not a hub id
    print(f"tiny {args.family} pipeline written to {shown}")
    print(f"try it: {TRY_SETTINGS} clipforge serve --model {shlex.quote(shown)}")


if __name__ == "__main__":
    main()
