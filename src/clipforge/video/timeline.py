"""Map a clip at a backend's native frame count onto the 24 fps output timeline.

Mapping is by normalised position, so the first and last frames line up whatever the native
rate: output frame ``i`` of ``dst_count`` sits at source position
``p = i * (src_count - 1) / (dst_count - 1)``, between source frames ``floor(p)`` and
``floor(p) + 1``. Positions are computed with integers, so exact hits have weight 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np


class SourceSample(NamedTuple):
    """Where one output frame comes from: ``(1 - weight) * lower + weight * upper``."""

    lower: int
    upper: int
    weight: float

    @property
    def nearest(self) -> int:
        """The closer of the two source frames (ties go to the later one)."""
        return self.upper if self.weight >= 0.5 else self.lower


def _check_counts(src_count: int, dst_count: int) -> None:
    if src_count < 1:
        raise ValueError(f"src_count must be at least 1, got {src_count}")
    if dst_count < 1:
        raise ValueError(f"dst_count must be at least 1, got {dst_count}")


def source_sample(index: int, src_count: int, dst_count: int) -> SourceSample:
    """The source neighbours and blend weight of output frame ``index``."""
    _check_counts(src_count, dst_count)
    if not 0 <= index < dst_count:
        raise ValueError(f"output index {index} outside 0..{dst_count - 1}")
    if dst_count == 1 or src_count == 1:
        return SourceSample(0, 0, 0.0)
    lower, rest = divmod(index * (src_count - 1), dst_count - 1)
    if rest == 0:
        return SourceSample(lower, lower, 0.0)
    return SourceSample(lower, lower + 1, rest / (dst_count - 1))


def timeline_map(src_count: int, dst_count: int) -> list[SourceSample]:
    """For each of ``dst_count`` output frames, its (lower, upper, weight) in the source."""
    _check_counts(src_count, dst_count)
    return [source_sample(i, src_count, dst_count) for i in range(dst_count)]


def cross_fade(first: np.ndarray, second: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * first + weight * second``, rounded to a new uint8 frame."""
    if first.shape != second.shape:
        raise ValueError(f"frames differ in shape: {first.shape} and {second.shape}")
    mix = first.astype(np.float32)
    mix *= np.float32(1.0 - weight)
    part = second.astype(np.float32)
    part *= np.float32(weight)
    mix += part
    np.rint(mix, out=mix)
    return mix.astype(np.uint8)


class _SourceWindow:
    """Pulls source frames on demand, keeping only the latest two."""

    def __init__(self, frames: Iterable[np.ndarray], src_count: int) -> None:
        self._frames = iter(frames)
        self._src_count = src_count
        self._pulled = 0
        self._previous: np.ndarray | None = None
        self._current: np.ndarray | None = None

    def get(self, index: int) -> np.ndarray:
        """Source frame ``index``; indices must not go back more than one frame."""
        while self._pulled <= index:
            # Drop the older frame before pulling, so at most two are alive at once.
            self._previous, self._current = self._current, None
            self._current = self._pull()
        if index == self._pulled - 1 and self._current is not None:
            return self._current
        if index == self._pulled - 2 and self._previous is not None:
            return self._previous
        raise ValueError(f"source frame {index} is no longer held (at {self._pulled})")

    def _pull(self) -> np.ndarray:
        try:
            frame = next(self._frames)
        except StopIteration:
            raise ValueError(
                f"the source yielded {self._pulled} frames, expected {self._src_count}"
            ) from None
        if frame.dtype != np.uint8:
            raise ValueError(f"source frame {self._pulled} is {frame.dtype}, expected uint8")
        self._pulled += 1
        return frame


def _read_only(frame: np.ndarray) -> np.ndarray:
    # The same source frame can be yielded several times; a read-only view stops a consumer
    # that draws in place from corrupting the later copies.
    view = frame.view()
    view.flags.writeable = False
    return view


def resample(
    frames: Iterable[np.ndarray], src_count: int, dst_count: int, blend: bool = True
) -> Iterator[np.ndarray]:
    """Stream ``dst_count`` uint8 frames resampled from ``src_count`` source frames.

    The source is consumed lazily and at most two source frames are held at a time. With
    ``blend`` each output frame is a linear cross-fade of its two neighbours; without, the
    nearest source frame. Frames that equal a source frame are yielded as read-only views:
    copy before drawing on them. Raises ValueError if the source runs out early; frames
    beyond ``src_count`` are never read.
    """
    _check_counts(src_count, dst_count)
    window = _SourceWindow(frames, src_count)
    for sample in timeline_map(src_count, dst_count):
        if not blend:
            yield _read_only(window.get(sample.nearest))
        elif sample.weight == 0.0:
            yield _read_only(window.get(sample.lower))
        else:
            # No local names: a frame kept in one would outlive the window by an iteration.
            yield cross_fade(window.get(sample.lower), window.get(sample.upper), sample.weight)
