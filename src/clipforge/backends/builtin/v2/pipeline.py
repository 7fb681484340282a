"""Prompt to frames with the v2 model: parse, condition, render. What the backend will call.

The camera_fixed flag overrides the camera the prompt asks for; the latent (where the object
starts, its size) comes from the seed. Frames are rendered at the output frame rate itself, so
nothing is cross-faded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from clipforge.backends.builtin.v2.generator import (
    LATENT,
    Condition,
    LayeredGenerator,
    layers,
    render,
)
from clipforge.backends.builtin.v2.parser import PARSER_FILE, Parsed, PromptParser, load_heads

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
        self, parsed: Parsed, camera_fixed: bool, seed: int, width: int, height: int, frames: int
    ) -> np.ndarray:
        """uint8 frames (frames, height, width, 3)."""
        cond = self.condition(parsed, camera_fixed)
        generator = torch.Generator().manual_seed(seed)
        latent = torch.rand(1, LATENT, generator=generator) * 2 - 1
        t = torch.linspace(0.0, 1.0, frames)
        track = self.generator.tracks(cond, latent, t)
        drawn = layers(self.generator, cond, track, width, height)
        out = np.empty((frames, height, width, 3), dtype=np.uint8)
        for start in range(0, frames, CHUNK):
            chunk = track[:, start : start + CHUNK]
            clip, _ = render(self.generator, cond, chunk, width, height, drawn)
            pixels = (clip[0] * 255).round().clamp(0, 255).to(torch.uint8)
            out[start : start + CHUNK] = pixels.permute(0, 2, 3, 1).numpy()
        return out
