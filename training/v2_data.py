"""Training batches for the v2 model: labelled prompts for the parser, and scenes with any
table colour (object and background) rendered by `scenes.py` for the generator."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from clipforge.backends.builtin.v2.colours import colour_table
from clipforge.backends.builtin.v2.generator import Condition
from clipforge.backends.builtin.v2.heads import CLASSES, ROLES, TEXT_DIM
from clipforge.backends.builtin.v2.parser import MAX_TOKENS, PromptParser, mention_tokens
from training.scenes import (
    START_JITTER,
    START_POINTS,
    Scene,
    _camera,
    object_track,
    random_scene,
    render_scene_with_mask,
)
from training.v2_captions import TRAIN_COLOURS, random_labelled

SIZES = [(56, 32), (32, 32), (32, 56), (64, 48)]


class CaptionPool:
    """Encoded labelled captions, a few replaced each step: the frozen MiniLM forward costs
    far more than a step of the heads, so each caption serves several steps (and the pool
    keeps being renewed, so the heads never see a fixed set)."""

    def __init__(self, parser: PromptParser, rng: np.random.Generator, size: int) -> None:
        self.parser, self.rng = parser, rng
        self.states = torch.zeros(size, MAX_TOKENS, TEXT_DIM)
        self.mask = torch.zeros(size, MAX_TOKENS, dtype=torch.bool)
        self.targets = {name: torch.zeros(size, dtype=torch.long) for name in CLASSES}
        self.spans: list[list[tuple[list[bool], int]]] = [[] for _ in range(size)]
        for start in range(0, size, 64):
            self.replace(list(range(start, min(size, start + 64))))

    def replace(self, slots: list[int]) -> None:
        items = [random_labelled(self.rng) for _ in slots]
        texts = [item.text for item in items]
        states, mask, offsets = self.parser.states(texts)
        length = states.shape[1]
        mentions = [self.parser.table.mentions(text) for text in texts]
        _, spans = mention_tokens(mentions, offsets)
        index = 0
        for row, (slot, item) in enumerate(zip(slots, items, strict=True)):
            self.states[slot] = 0
            self.states[slot, :length] = states[row].float().cpu()
            self.mask[slot] = False
            self.mask[slot, :length] = mask[row].cpu()
            for name in CLASSES:
                self.targets[name][slot] = CLASSES[name].index(item.labels[name])
            found = mentions[row]
            self.spans[slot] = [
                (
                    spans[index + k].tolist() + [False] * (MAX_TOKENS - length),
                    ROLES.index(_role(item.colour_span, item.background_span, m.start, m.end)),
                )
                for k, m in enumerate(found)
            ]
            index += len(found)

    def batch(self, size: int) -> dict:
        picks = self.rng.integers(len(self.mask), size=size)
        rows, spans, roles = [], [], []
        for row, slot in enumerate(picks.tolist()):
            for span, role in self.spans[slot]:
                rows.append(row), spans.append(span), roles.append(role)
        return {
            "states": self.states[picks],
            "mask": self.mask[picks],
            "rows": torch.tensor(rows, dtype=torch.long),
            "spans": torch.tensor(spans, dtype=torch.bool).view(-1, MAX_TOKENS),
            "roles": torch.tensor(roles, dtype=torch.long),
            "targets": {name: value[picks] for name, value in self.targets.items()},
        }


def _role(
    colour: tuple[int, int] | None, background: tuple[int, int] | None, start: int, end: int
) -> str:
    for name, span in (("object", colour), ("background", background)):
        if span is not None and start < span[1] and span[0] < end:
            return name
    return "none"


def _hex(name: str) -> str:
    return "#" + "".join(f"{c:02x}" for c in colour_table().names[name])


def random_v2_scene(rng: np.random.Generator) -> Scene:
    scene = random_scene(rng)
    return replace(
        scene,
        colour=_hex(str(rng.choice(TRAIN_COLOURS))),
        tone=_hex(str(rng.choice(TRAIN_COLOURS))),
    )


def latent_of(scene: Scene) -> list[float]:
    """The scene's own variation as the generator's latent, each in [-1, 1]."""
    x0, y0 = START_POINTS.get(scene.motion, (0.5, 0.5))
    return [
        (scene.start[0] - x0) / START_JITTER,
        (scene.start[1] - y0) / START_JITTER,
        (scene.size - 0.28) / 0.06,
    ]


def camera_name(scene: Scene) -> str:
    return f"pan {scene.pan_direction}" if scene.camera == "pan" else scene.camera


def generator_batch(rng: np.random.Generator, size: int, frames: int) -> dict:
    """Rendered clips (B, T, 3, H, W) in [0, 1], masks, conditions, latents and tracks."""
    width, height = SIZES[int(rng.integers(len(SIZES)))]
    scenes = [random_v2_scene(rng) for _ in range(size)]
    rendered = [render_scene_with_mask(s, width, height, frames) for s in scenes]
    clips = (
        torch.from_numpy(np.stack([c for c, _ in rendered])).permute(0, 1, 4, 2, 3).float() / 255
    )
    masks = torch.from_numpy(np.stack([m for _, m in rendered])).float()[:, :, None] / 255
    t = np.linspace(0.0, 1.0, frames, dtype=np.float32)
    tracks = []
    for s in scenes:
        xs, ys, sizes = object_track(s, t)
        camera = np.array([_camera(s, float(moment)) for moment in t], dtype=np.float32)
        offset = camera[:, 0] * (s.camera == "pan")
        tracks.append(np.stack([xs, ys, sizes, offset, camera[:, 1]], axis=-1))
    rows = [
        {
            "shape": s.shape,
            "motion": s.motion,
            "background": s.background,
            "camera": camera_name(s),
            "colour": colour_rgb(s.colour),
            "tone": colour_rgb(s.tone),
        }
        for s in scenes
    ]
    return {
        "clips": clips,
        "masks": masks,
        "condition": Condition.of(rows),
        "latent": torch.tensor([latent_of(s) for s in scenes], dtype=torch.float32),
        "tracks": torch.from_numpy(np.stack(tracks)),
        "size": (width, height),
    }


def colour_rgb(value: str) -> tuple[int, int, int]:
    return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))
