"""Training batches: a pool of rendered clips per native size, refreshed as training goes.

Rendering a clip costs ~10 ms of numpy, a training step ~0.5 s: each step re-renders a few
pool entries, so the model sees an ever-growing set of scenes without waiting for them.
Captions are drawn fresh every time a clip is used, so no clip has one fixed wording.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from clipforge.backends.builtin.model import BuiltinConfig
from clipforge.backends.geometry import native_size
from clipforge.schemas import FRAME_SIZES, Resolution
from training.captions import random_caption
from training.scenes import Scene, random_scene, render_scene_with_mask

NO_BACKGROUND_SHARE = 0.2
# Every native size the API can ask for (one per aspect ratio).
_CONFIG = BuiltinConfig()
NATIVE_SIZES = sorted(
    {
        native_size(w, h, _CONFIG.short_side, _CONFIG.size_multiple)
        for w, h in FRAME_SIZES[Resolution.P480].values()
    }
)


@dataclass
class Batch:
    clips: np.ndarray  # (B, T, H, W, 3) uint8
    masks: np.ndarray  # (B, T, H, W) uint8: the object's coverage
    captions: list[str]
    scenes: list[Scene]
    described: list[Scene]
    """What each caption says; differs from `scenes` only in a camera move that the
    camera-fixed flag overrides."""
    camera_fixed: np.ndarray  # (B,) bool: the conditioning flag
    names_background: np.ndarray  # (B,) bool: the caption says what is behind the object


class ClipPool:
    """`per_size` rendered scenes for each native size."""

    def __init__(self, frames: int, per_size: int, seed: int) -> None:
        self.frames = frames
        self.rng = np.random.default_rng(seed)
        self.scenes: dict[tuple[int, int], list[Scene]] = {}
        self.clips: dict[tuple[int, int], np.ndarray] = {}
        self.masks: dict[tuple[int, int], np.ndarray] = {}
        for size in NATIVE_SIZES:
            width, height = size
            self.scenes[size] = [random_scene(self.rng) for _ in range(per_size)]
            rendered = [render_scene_with_mask(s, width, height, frames) for s in self.scenes[size]]
            self.clips[size] = np.stack([clip for clip, _ in rendered])
            self.masks[size] = np.stack([mask for _, mask in rendered])

    def refresh(self, count: int) -> None:
        """Replace `count` random entries with newly drawn scenes."""
        for _ in range(count):
            size = NATIVE_SIZES[int(self.rng.integers(len(NATIVE_SIZES)))]
            index = int(self.rng.integers(len(self.scenes[size])))
            scene = random_scene(self.rng)
            self.scenes[size][index] = scene
            clip, mask = render_scene_with_mask(scene, size[0], size[1], self.frames)
            self.clips[size][index], self.masks[size][index] = clip, mask

    def batch(self, batch_size: int) -> Batch:
        size = NATIVE_SIZES[int(self.rng.integers(len(NATIVE_SIZES)))]
        picks = self.rng.integers(len(self.scenes[size]), size=batch_size)
        scenes = [self.scenes[size][i] for i in picks]
        clips = self.clips[size][picks]
        flip = self.rng.random(batch_size) < 0.5
        # Camera flag: always 0 for a moving camera; 1 for half of the still-camera clips, so
        # that 1 means "still" and 0 leaves the camera to the prompt.
        fixed = np.array([s.camera == "fixed" for s in scenes]) & flip
        described = [
            self._overridden_camera(s) if flag else s for s, flag in zip(scenes, fixed, strict=True)
        ]
        names_background = self.rng.random(batch_size) >= NO_BACKGROUND_SHARE
        captions = [
            random_caption(s, self.rng, names_background=bool(named))
            for s, named in zip(described, names_background, strict=True)
        ]
        masks = self.masks[size][picks]
        return Batch(clips, masks, captions, scenes, described, fixed, names_background)

    def _overridden_camera(self, scene: Scene) -> Scene:
        """Half the time, a caption asking for a camera move that the flag overrides: the API's
        camerafixed=true must keep the camera still whatever the prompt says, and without such
        pairs the flag only ever agreed with the text (still-camera score 50% at step 10,250)."""
        if self.rng.random() >= 0.5:
            return scene
        camera = str(self.rng.choice(["pan", "zoom"]))
        return replace(scene, camera=camera, pan_direction=str(self.rng.choice(["left", "right"])))
