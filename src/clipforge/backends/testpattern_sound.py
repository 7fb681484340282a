"""The test pattern's sound and marks: a quiet tone with a click at each `CLICK_SECONDS`, a
white frame at the same instants, and reference images as tiles along the top edge.

A click is a 5 ms full-scale burst; the frame at the same time is white. A test decodes the
MP4's audio and video and checks that each click lands on its white frame (within 1/24 s).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np

from clipforge.video.resize import resize_frame

SAMPLE_RATE = 48_000
TONE_HZ = 440.0
TONE_LEVEL = 0.1
CLICK_LEVEL = 0.9
CLICK_SAMPLES = 240
"""5 ms at 48 kHz."""
CLICK_OFFSET = 0.5
"""Clicks at 0.5 s, 1.5 s, 2.5 s, ...: on a native frame of every frame rate that divides 2."""


def click_times(seconds: float, start: float = 0.0) -> list[float]:
    """When the clicks (and the white frames) are, in `seconds` of a clip from `start` on
    (times from the clip's start: a later segment of a long clip keeps the whole clip's grid)."""
    first = max(0, math.ceil(start - CLICK_OFFSET))
    return [k + CLICK_OFFSET for k in range(first, int(start + seconds - CLICK_OFFSET) + 1)]


def tone_with_clicks(seconds: float, start: float = 0.0) -> np.ndarray:
    """`seconds` of a 440 Hz tone with a click at each of `click_times`, from `start` on (the
    tone's phase and the clicks continue the whole clip's, so segments join seamlessly)."""
    count = round(seconds * SAMPLE_RATE)
    offset = round(start * SAMPLE_RATE)
    at = (offset + np.arange(count)) / SAMPLE_RATE
    samples = (TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * at)).astype(np.float32)
    for click in click_times(seconds, start):
        begin = round(click * SAMPLE_RATE) - offset
        samples[max(0, begin) : max(0, begin + CLICK_SAMPLES)] = CLICK_LEVEL
    return samples


def with_flashes(
    frames: Iterable[np.ndarray], fps: float, start: float = 0.0
) -> Iterator[np.ndarray]:
    """The frames, white where a click is (the frame nearest a click time: a segment that
    starts between native frames still flashes once per click)."""
    for index, frame in enumerate(frames):
        seconds = start + index / fps
        nearest = round(seconds - CLICK_OFFSET) + CLICK_OFFSET
        at_click = nearest >= CLICK_OFFSET and -0.5 / fps < seconds - nearest <= 0.5 / fps
        yield np.full_like(frame, 255) if at_click else frame


def with_tiles(
    frames: Iterable[np.ndarray], references: tuple[np.ndarray, ...]
) -> Iterator[np.ndarray]:
    """The frames with each reference image as a square tile, left to right along the top."""
    tiles: list[np.ndarray] = []
    for frame in frames:
        side = max(2, min(frame.shape[:2]) // 4)
        if not tiles:
            tiles = [resize_frame(image, side, side) for image in references]
        marked = frame.copy()
        for index, tile in enumerate(tiles):
            left = index * side
            if left + side > marked.shape[1]:
                break
            marked[:side, left : left + side] = tile
        yield marked
