"""At which rate, and how, a backend's native frames reach the file: never a cross-fade.

A cross-fade of two frames of a moving object shows the object twice (a ghost), so output
frames are always whole native frames, or motion-compensated ones on request:

- a native rate that the 24 fps timeline holds (nearly) evenly (24, 12, 8, 6 fps, or a frame
  count that rounds a little off one: each frame shown a whole number of times, 2 or 3 for
  8.14) or one so low that holding is the only honest choice (at most 6 fps,
  such as the built-in model's 3 fps: each frame held 7 or 8 output frames) is written at
  24 fps with each native frame repeated (`hold`);
- any other rate (Wan 2.1 and Wan 2.2 A14B's 16 fps, a 30 fps model) is written at its own
  rate, frame for frame (`native`, the default: what upstream writes), or, with
  CLIPFORGE_FRAME_RATE_MODE=interpolate, brought to 24 fps by FFmpeg's motion-compensated
  `minterpolate` (`interpolate`).

The native rate is the clip's own: (frames - 1) / seconds asked, so a frame cap
(CLIPFORGE_NATIVE_MAX_FRAMES) that leaves fewer frames gives a lower rate, not a faster clip.
docs/GPU.md says why `native` is the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FrameRateMode = Literal["native", "interpolate"]
MODES: tuple[FrameRateMode, ...] = ("native", "interpolate")
OUTPUT_FPS = 24
LOWEST_MOTION_FPS = 6.0
"""At or below this a native rate is held, never interpolated or written as is."""
_HOLD_TOLERANCE = 0.1
"""How far 24 / rate may be from a whole number and still be held: a rate a frame count rounds
a little off an even one (57 frames asked of an 8 fps backend: 8.14 fps) is held, each native
frame shown 2 or 3 times, never blended, so the file has the frames asked."""


@dataclass(frozen=True)
class Cadence:
    """What the file gets: ``frames`` at ``fps``, made from ``native_frames`` by ``how``."""

    fps: int
    frames: int
    how: Literal["hold", "native", "interpolate"]
    native_frames: int
    native_fps: float

    @property
    def seconds(self) -> float:
        """The clip's length as the file plays it."""
        return (self.frames - 1) / self.fps if self.frames > 1 else 0.0

    def as_dict(self) -> dict[str, object]:
        """For the job's `reading`: the API views read `fps` and `frames` from it."""
        return {
            "fps": self.fps,
            "frames": self.frames,
            "how": self.how,
            "native_fps": round(self.native_fps, 3),
        }


def _holds_evenly(rate: float, output_fps: int) -> bool:
    repeats = output_fps / rate
    return abs(repeats - round(repeats)) < _HOLD_TOLERANCE


def plan_cadence(
    native_frames: int, seconds: float, requested_frames: int, mode: FrameRateMode = "native"
) -> Cadence:
    """The output of ``native_frames`` rendered for a clip of ``seconds`` whose 24 fps length
    is ``requested_frames``."""
    if native_frames < 1 or requested_frames < 1:
        raise ValueError(f"frame counts must be positive: {native_frames}, {requested_frames}")
    if mode not in MODES:
        raise ValueError(f"frame rate mode {mode!r} is not one of {', '.join(MODES)}")
    rate = (native_frames - 1) / seconds if seconds > 0 and native_frames > 1 else OUTPUT_FPS
    if rate <= LOWEST_MOTION_FPS or (rate <= OUTPUT_FPS and _holds_evenly(rate, OUTPUT_FPS)):
        return Cadence(OUTPUT_FPS, requested_frames, "hold", native_frames, rate)
    if mode == "interpolate" and rate < OUTPUT_FPS:
        return Cadence(OUTPUT_FPS, requested_frames, "interpolate", native_frames, rate)
    return Cadence(max(1, round(rate)), native_frames, "native", native_frames, rate)
