"""Tiny random-weight diffusers pipelines, built offline, for tests and for trying the backend.

`build_tiny_pipeline("wan", path)` writes a real diffusers pipeline folder (model_index.json,
one sub-folder per component, safetensors weights) whose components are the classes the real
Wan 2.1 / LTX-Video folders use, at toy size: a few layers and a handful of channels. The VAEs
keep the real compression ratios (Wan: 8x spatial, 4x temporal; LTX: 32x and 8x), so the frame
and size rules of the real families hold. The tokenizer is a SentencePiece unigram model trained
in memory on a few sentences and wrapped as a transformers `T5Tokenizer`, so nothing is
downloaded. The weights are random: the output is coloured noise, not a video of the prompt.

`build_tiny_pipeline(<catalogue name>, path)` writes one with the structure of that entry's real
repository instead (one module per family: `wan`, `ltx`, `ltx2`): its configs identify it as that
entry, so a tiny folder under any name is served with the entry's rules.
`build_tiny_upsampler(path)` writes a tiny `ltxv-spatial-upscaler-0.9.7`
(LTXLatentUpsamplePipeline) folder.

    python -m clipforge.backends.diffusers.tiny wan OUT_DIR
    python -m clipforge.backends.diffusers.tiny wan2.2-ti2v-5b OUT_DIR
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import torch
from diffusers import LTXLatentUpsamplePipeline

from clipforge.backends.diffusers.entries import CATALOGUE
from clipforge.backends.diffusers.tiny import hunyuan, ltx, ltx2, vace, wan
from clipforge.backends.diffusers.tiny.common import seeded_by, tiny_tokenizer

__all__ = ["KINDS", "TRY_SETTINGS", "build_tiny_pipeline", "build_tiny_upsampler", "tiny_tokenizer"]

Family = Literal["wan", "ltx", "ltx-condition"]
FAMILIES: tuple[Family, ...] = ("wan", "ltx", "ltx-condition")
TRY_SETTINGS = "CLIPFORGE_NATIVE_SHORT_SIDE=32 CLIPFORGE_NUM_INFERENCE_STEPS=4"
"""How to serve a tiny pipeline quickly: it renders noise at any size, so render it small
(resized to the size asked for) in a few steps."""

KINDS: tuple[str, ...] = (*FAMILIES, *CATALOGUE)
"""What build_tiny_pipeline builds: the generic families and every catalogue entry."""


def build_tiny_pipeline(family: str, path: Path, *, seed: int = 0, upsampler: bool = False) -> Path:
    """Build a tiny random-weight pipeline of `family` (a generic family or a catalogue name),
    save it at `path` and return `path`; `upsampler` adds a `latent_upsampler/` folder (LTX).

    The same `seed` gives the same weights, byte for byte.
    """
    if family not in KINDS:
        raise ValueError(f"family must be one of {', '.join(KINDS)}, not {family!r}")
    with torch.random.fork_rng(devices=[]):
        pipeline = _build(family, seed)
        upsampler_of = ltx2.latent_upsampler if family.startswith("ltx-2") else ltx.latent_upsampler
        extra = seeded_by(seed)(6, upsampler_of) if upsampler else None
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
        seeded = seeded_by(seed)
        pipeline: Any = LTXLatentUpsamplePipeline(
            vae=seeded(2, ltx.ltx_vae),
            latent_upsampler=seeded(6, ltx.latent_upsampler),
        )
    path = Path(path)
    pipeline.save_pretrained(path)
    return path


def _name_processor_as_released(path: Path) -> None:
    """Without torchvision, transformers saves CLIPImageProcessor (SiglipImageProcessor) as its
    PIL twin; the released folders name the processor itself (loaded as the twin here, with a
    warning)."""
    index_path = path / "model_index.json"
    index = json.loads(index_path.read_text())
    for name in ("image_processor", "feature_extractor"):
        library, cls = index.get(name, [None, None])
        if isinstance(cls, str) and cls.endswith("ImageProcessorPil"):
            index[name] = [library, cls.removesuffix("Pil")]
    index_path.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")


def _build(kind: str, seed: int) -> Any:
    if kind in _BUILDERS:
        return _BUILDERS[kind](seed)  # type: ignore[index]
    build = _CATALOGUE_BUILDERS[CATALOGUE[kind].pipeline_class]
    return build(kind, tiny_tokenizer(), seeded_by(seed))


_BUILDERS: dict[Family, Callable[[int], Any]] = {
    "wan": wan.build_generic_wan,
    "ltx": ltx.build_generic_ltx,
    "ltx-condition": ltx.build_generic_ltx_condition,
}
_CATALOGUE_BUILDERS: dict[str, Callable[[str, Any, Any], Any]] = {
    "WanPipeline": wan.build_wan,
    "WanImageToVideoPipeline": wan.build_wan,
    "LTXPipeline": ltx.build_ltx,
    "LTXConditionPipeline": ltx.build_ltx,
    "LTX2ConditionPipeline": ltx2.build_ltx2,
    "WanVACEPipeline": vace.build_vace,
    "HunyuanVideo15Pipeline": hunyuan.build_hunyuan,
    "HunyuanVideo15ImageToVideoPipeline": hunyuan.build_hunyuan,
}
"""Which module builds a catalogue entry, by the entry's pipeline class."""
