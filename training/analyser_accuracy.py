"""The analyser (`analyse.py`) against ground truth: random scenes rendered by
`scenes.render_scene` at the model's native sizes, and how often each attribute is read
back right (`python training/analyse.py --check N`)."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np

from training.analyse import analyse, check
from training.scenes import random_scene, render_scene

SIZES = ((56, 32), (32, 32), (32, 56), (72, 32))
"""(width, height) of the ground-truth clips, taken in turn."""


def evaluate(n: int, seed: int = 0, frames: int = 16, verbose: bool = False) -> dict:
    """Analyse `n` random ground-truth scenes (sizes in turn): accuracy per attribute for
    the fixed camera and for pan/zoom (where `camera_moves` is whether a pan or zoom over
    a textured background was seen), the misses, and the seconds per clip."""
    rng = np.random.default_rng(seed)
    hits: dict[str, dict[str, list[bool]]] = {"fixed": {}, "moving": {}}
    misses: dict[str, Counter] = {}
    seconds = 0.0
    for i in range(n):
        scene = random_scene(rng)
        width, height = SIZES[i % len(SIZES)]
        clip = render_scene(scene, width, height, frames)
        started = time.perf_counter()
        result = analyse(clip)
        seconds += time.perf_counter() - started
        group = "fixed" if scene.camera == "fixed" else "moving"
        verdict = check(result, scene)
        if group == "moving" and scene.background != "plain":
            verdict["camera_moves"] = not result.camera_still  # texture shows the camera
        for key, ok in verdict.items():
            hits[group].setdefault(key, []).append(ok)
            if not ok:
                if key.startswith("camera"):
                    truth, got = key == "camera_still", result.camera_still
                else:
                    truth, got = getattr(scene, key), getattr(result, key)
                misses.setdefault(key, Counter())[(group, truth, got)] += 1
                if verbose:
                    print(f"miss {key}: {truth} -> {got}  {scene} {width}x{height}")
    accuracy = {
        group: {key: float(np.mean(v)) for key, v in values.items()}
        for group, values in hits.items()
    }
    return {"accuracy": accuracy, "misses": misses, "seconds_per_clip": seconds / max(n, 1)}
