"""The sound track: a mono waveform in, AAC packets out, interleaved with the video.

A backend hands over float samples (-1..1) from the clip's first frame on; `fit` makes them
exactly as long as the video (silence after a short track, a long one cut), so the MP4's two
streams end together. `AacTrack` encodes in AAC frames of 1024 samples and is fed by the video
encoder after each video frame, up to that frame's end time: the file is written in time
order and nothing beyond the waveform itself is held in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

AAC_FRAME = 1024
"""Samples per AAC frame (the native encoder takes exactly this many, the last one fewer)."""
BIT_RATE = 128_000


@dataclass(frozen=True)
class Sound:
    """A mono waveform (float32, -1..1) and its sample rate."""

    samples: np.ndarray
    rate: int = 48_000

    def fit(self, frames: int, fps: int) -> Sound:
        """Exactly as long as `frames` video frames at `fps`: padded with silence or cut."""
        total = round(frames * self.rate / fps)
        samples = np.clip(np.asarray(self.samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
        fitted = np.zeros(total, dtype=np.float32)
        fitted[: min(total, samples.size)] = samples[:total]
        return Sound(fitted, self.rate)


class AacTrack:
    """One AAC stream of `container`, fed in time order (`until`) and flushed (`finish`)."""

    def __init__(self, container: av.container.OutputContainer, sound: Sound) -> None:
        self._container = container
        self._sound = sound
        self._time_base = Fraction(1, sound.rate)
        self._stream = container.add_stream("aac", rate=sound.rate)
        self._stream.layout = "mono"
        self._stream.bit_rate = BIT_RATE
        self._sent = 0

    def until(self, seconds: float) -> None:
        """Encode and mux the samples up to `seconds` (whole AAC frames only)."""
        end = min(self._sound.samples.size, round(seconds * self._sound.rate))
        while self._sent + AAC_FRAME <= end:
            self._send(AAC_FRAME)

    def finish(self) -> None:
        """Encode what is left, then flush the encoder."""
        while self._sent < self._sound.samples.size:
            self._send(min(AAC_FRAME, self._sound.samples.size - self._sent))
        self._container.mux(self._stream.encode(None))

    def _send(self, count: int) -> None:
        chunk = self._sound.samples[self._sent : self._sent + count]
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
        frame.sample_rate = self._sound.rate
        frame.pts, frame.time_base = self._sent, self._time_base
        self._container.mux(self._stream.encode(frame))
        self._sent += count
