"""Prompt to frames: parse, condition, render (what `../backend.py` calls).

The camera_fixed flag overrides the camera the prompt asks for; the latent (where the object
starts, its size) comes from the seed. Frames are rendered at the output frame rate itself, so
nothing is cross-faded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from clipforge.backends.builtin.v2.frames import FromStills, Still
from clipforge.backends.builtin.v2.generator import (
    LATENT,
    Condition,
    LayeredGenerator,
    draw,
)
from clipforge.backends.builtin.v2.parser import PARSER_FILE, Parsed, PromptParser, load_heads
from clipforge.errors import ModelUnavailable

WEIGHTS = Path(__file__).resolve().parent / "weights"
GENERATOR_FILE = "generator.safetensors"
CHUNK = 16
"""Frames rendered at once: bounds the memory of a long clip at a large size."""


def load_generator(folder: Path = WEIGHTS) -> LayeredGenerator:
    model = LayeredGenerator()
    model.load_state_dict(load_file(str(folder / GENERATOR_FILE)))
    return model.eval()


class V2Model:
    def __init__(self, parser: PromptParser, generator: LayeredGenerator) -> None:
        self.parser = parser
        self.generator = generator

    @classmethod
    def load(cls, encoder: object, folder: Path = WEIGHTS) -> V2Model:
        missing = [name for name in (PARSER_FILE, GENERATOR_FILE) if not (folder / name).is_file()]
        if missing:
            raise ModelUnavailable(
                f"built-in model weights not found in {folder} (expected {', '.join(missing)}); "
                "train them with `python -m training.v2_train`, then `--export`"
            )
        return cls(PromptParser(encoder, load_heads(folder / PARSER_FILE)), load_generator(folder))

    def condition(self, parsed: Parsed, camera_fixed: bool) -> Condition:
        row = {
            "shape": parsed.shape,
            "motion": parsed.motion,
            "background": parsed.background,
            "camera": "fixed" if camera_fixed else parsed.camera,
            "colour": parsed.colour[1],
            "tone": parsed.background_colour[1],
        }
        return Condition.of([row])

    @torch.inference_mode()
    def render(
        self,
        parsed: Parsed,
        camera_fixed: bool,
        seed: int,
        width: int,
        height: int,
        frames: int,
        stills: tuple[Still | None, Still | None] = (None, None),
        progress: Callable[[int, int], None] = lambda done, total: None,
    ) -> np.ndarray:
        """uint8 frames (frames, height, width, 3), starting on `stills[0]` and ending on
        `stills[1]` where given (at this size). `progress(chunk, chunks)` after each chunk
        of frames: it may raise to stop."""
        cond = self.condition(parsed, camera_fixed)
        generator = torch.Generator().manual_seed(seed)
        latent = torch.rand(1, LATENT, generator=generator) * 2 - 1
        track = self.generator.tracks(cond, latent, torch.linspace(0.0, 1.0, frames))
        path = None if stills == (None, None) else FromStills(track, *stills)
        out = np.empty((frames, height, width, 3), dtype=np.uint8)
        chunks = chunk_count(frames)
        for chunk in range(chunks):
            index = torch.arange(chunk * CHUNK, min(frames, (chunk + 1) * CHUNK))
            if path is None:
                out[index.numpy()] = draw(cond, track[:, index], width, height)
            else:
                pixels = (path.render(index, width, height) * 255).round().clamp(0, 255)
                out[index.numpy()] = pixels.to(torch.uint8).permute(0, 2, 3, 1).numpy()
            progress(chunk + 1, chunks)
        return out


def chunk_count(frames: int) -> int:
    return -(-frames // CHUNK)
