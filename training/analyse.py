"""Automatic analyser of generated clips: what object, which colour and shape, how it moves.

    python training/analyse.py --check 200      # accuracy on ground-truth renders
    python training/analyse.py clip.mp4          # analyse a video file

Classical computer vision on uint8 frames (T, H, W, 3), no learning, in six stages (each
module's docstring describes its own):

1. Background model: the dominant colours of the frame border over the clip
   (`object_segmentation.py`).
2. Object colour: regions far from the background vote for their nearest palette colour
   (`object_segmentation.py`).
3. Object mask: each pixel's coverage by the object, as a mix of a background colour and the
   object colour; the largest region per frame is the object (`object_segmentation.py`).
4. Camera: each frame's background registered to the first frame's (shift and zoom), or
   still (`camera_registration.py`).
5. Motion: the object's track in first-frame coordinates, classified (`object_motion.py`).
6. Shape: the coverage mask of the largest whole views matched to rendered prototypes
   (`shape_matching.py`).

Scaling clips down and decoding videos are in `resampling.py`, the check on ground truth in
`analyser_accuracy.py`. This module puts the stages together (`analyse`) and holds the
verdict (`Analysis`, `check`) and the command line.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.camera_registration import Camera, camera_motion
from training.object_motion import is_coherent, object_track, track_motion
from training.object_segmentation import (
    PALETTE_NAMES,
    background_colours,
    object_colour,
    object_coverage,
)
from training.resampling import downscale, read_video
from training.scenes import SHAPES, Scene
from training.shape_matching import classify_shape

MIN_AREA = 2.5
"""Smallest object, in pixels of coverage, at the clip's own size."""


@dataclass(frozen=True)
class Analysis:
    """What the analyser saw; the first four fields are the verdict, the rest its evidence.

    Coordinates are pixels (x right, y down) with pixel centres on integers; the world
    coordinates are those of the first frame, with the camera's motion taken out.
    """

    colour: str | None
    shape: str | None
    motion: str | None
    camera_still: bool
    areas: tuple[float, ...]
    """Object coverage (pixels) per frame; 0 where no object was found."""
    track: tuple[tuple[float, float] | None, ...]
    """Object centroid on screen per frame (None where not found)."""
    world_track: tuple[tuple[float, float] | None, ...]
    """Object centroid in world (first-frame) coordinates per frame."""
    clipped: tuple[bool, ...]
    """Whether the object touches the frame border in that frame."""
    camera_shift: tuple[tuple[float, float], ...]
    """Background shift (dx, dy) in pixels per frame, relative to the first frame."""
    camera_zoom: tuple[float, ...]
    """Background zoom per frame, relative to the first frame."""
    camera_observable: bool
    """Whether the background has texture enough to see camera motion at all."""
    background: tuple[tuple[float, float, float], ...]
    """The background colours (RGB)."""
    colour_distance: float | None
    """Distance of the object's core colour to its palette colour."""
    shape_scores: tuple[tuple[str, float], ...]
    """Distance to each shape prototype (lower is closer)."""
    motion_features: tuple[tuple[str, float], ...]
    """net_x, net_y (fractions of width / height), swing (fraction of height), log_growth."""
    note: str = ""
    """Why a field is None, when it is."""

    @property
    def found(self) -> bool:
        return self.colour is not None


def check(analysis: Analysis, scene: Scene, *, camera_fixed: bool | None = None) -> dict[str, bool]:
    """Which attributes of `scene` the analysis got right: colour, shape, motion, and
    camera_still where the camera is expected to be still (`camera_fixed`, by default
    whether `scene.camera == "fixed"`)."""
    verdict = {
        "colour": analysis.colour == scene.colour,
        "shape": analysis.shape == scene.shape,
        "motion": analysis.motion == scene.motion,
    }
    if camera_fixed is None:
        camera_fixed = scene.camera == "fixed"
    if camera_fixed:
        verdict["camera_still"] = analysis.camera_still
    return verdict


def analyse(clip: np.ndarray, *, short_side: int | None = 32) -> Analysis:
    """Analyse uint8 frames (T, H, W, 3), best at the model's native size (short side ~32
    pixels). Frames whose short side exceeds 1.5 x `short_side` are first averaged down to
    it (`downscale`), and the evidence is in those pixels; None analyses at any size."""
    clip = _checked_and_scaled(clip, short_side)
    frames, height, width, _ = clip.shape
    pixels = clip.astype(np.float32)
    background = background_colours(pixels)
    colour_index, colour_distance, candidate = object_colour(pixels, background)
    regions = object_coverage(pixels, background, colour_index)
    areas = regions.sum(axis=(1, 2))
    found = areas >= MIN_AREA
    # Camera, with the object (and anything else unlike the background) masked out.
    camera = camera_motion(pixels, (regions > 0.02) | candidate)

    if colour_index is None:
        return _empty(pixels, background, "no object colour found", camera)
    if found.sum() < max(2, frames // 2):
        return _empty(pixels, background, "object found in too few frames", camera)
    track, world, clipped = object_track(regions, areas, found, camera)
    if not is_coherent(track, areas, found, height, width):
        return _empty(pixels, background, "no coherent object track", camera)
    clipped_arr = np.array(clipped)
    motion, motion_features = track_motion(world, areas, found, clipped_arr, camera, height, width)
    shape, scores = classify_shape(regions, areas, found, clipped_arr)
    return Analysis(
        colour=PALETTE_NAMES[colour_index],
        shape=shape,
        motion=motion,
        camera_still=camera.still,
        areas=tuple(float(a) if f else 0.0 for a, f in zip(areas, found, strict=True)),
        track=tuple(track),
        world_track=tuple(world),
        clipped=tuple(clipped),
        colour_distance=colour_distance,
        shape_scores=tuple((s, float(v)) for s, v in zip(SHAPES, scores, strict=True)),
        motion_features=tuple((k, float(v)) for k, v in motion_features.items()),
        **_camera_and_background(camera, background),
    )


def _checked_and_scaled(clip: np.ndarray, short_side: int | None) -> np.ndarray:
    """The frames as a uint8 array (T >= 2, H, W, 3), averaged down to `short_side` where
    their short side exceeds 1.5 x `short_side`; ValueError for anything else."""
    clip = np.asarray(clip)
    if clip.ndim != 4 or clip.shape[-1] != 3 or clip.shape[0] < 2 or clip.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames (T >= 2, H, W, 3), got {clip.dtype} {clip.shape}")
    if short_side is not None and min(clip.shape[1:3]) > 1.5 * short_side:
        clip = downscale(clip, short_side)
    return clip


def _empty(clip: np.ndarray, background: np.ndarray, note: str, camera: Camera) -> Analysis:
    """No verdict on the object (`note` says why): the camera and background only."""
    frames = clip.shape[0]
    return Analysis(
        colour=None,
        shape=None,
        motion=None,
        camera_still=camera.still,
        areas=(0.0,) * frames,
        track=(None,) * frames,
        world_track=(None,) * frames,
        clipped=(False,) * frames,
        colour_distance=None,
        shape_scores=(),
        motion_features=(),
        note=note,
        **_camera_and_background(camera, background),
    )


def _camera_and_background(camera: Camera, background: np.ndarray) -> dict[str, Any]:
    """The Analysis fields for the camera's evidence and the background colours."""
    return {
        "camera_shift": tuple((float(a), float(b)) for a, b in camera.shifts),
        "camera_zoom": tuple(float(z) for z in camera.zooms),
        "camera_observable": camera.observable,
        "background": tuple(tuple(float(c) for c in colour) for colour in background),
    }


# --- videos and the command line --------------------------------------------------------------


def analyse_video(path: str | Path, short_side: int = 32, frames: int = 16) -> Analysis:
    """Decode an MP4 (PyAV), scale it down to `short_side`, keep ~`frames` evenly spaced
    frames and analyse them."""
    return analyse(read_video(path, short_side, frames))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video", nargs="?", help="an MP4 to analyse")
    parser.add_argument("--check", type=int, metavar="N", help="analyse N random renders")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--short-side", type=int, default=32)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = parser.parse_args(argv)
    if args.check:
        from training.analyser_accuracy import evaluate  # imported here: it imports this module

        report = evaluate(args.check, args.seed, args.frames, args.verbose)
        for group, scores in report["accuracy"].items():
            line = "  ".join(f"{key} {value:.3f}" for key, value in scores.items())
            print(f"{group:7s} {line}")
        for key, counter in report["misses"].items():
            for (group, truth, got), count in counter.most_common():
                print(f"  {key:12s} {group:7s} {truth} -> {got}: {count}")
        print(f"{report['seconds_per_clip'] * 1000:.1f} ms per clip")
    elif args.video:
        result = analyse_video(args.video, args.short_side, args.frames)
        print(f"colour {result.colour}  shape {result.shape}  motion {result.motion}")
        print(f"camera_still {result.camera_still}  {result.note}")
    else:
        parser.error("give a video or --check N")


if __name__ == "__main__":
    main()
