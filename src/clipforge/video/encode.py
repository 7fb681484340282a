"""A streaming H.264 encoder: RGB frames in, one MP4 file out (API.md section 2).

libx264, yuv420p (BT.709, limited range, tagged as such), time base 1/fps, and the moov atom
before mdat (``+faststart``) so that browsers can start playing before the download ends.
``+use_metadata_tags`` makes the MP4 muxer keep arbitrary tags such as ``clipforge_seed``.
Given a ``Sound`` (already as long as the video: ``Sound.fit``), the file also carries an AAC
track, muxed after each video frame up to that frame's end (``video/sound.py``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Self

import av
import numpy as np

from clipforge.video.sound import AacTrack, Sound

DEFAULT_PRESET = "veryfast"
DEFAULT_CRF = 20
PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
MOVFLAGS = "+faststart+use_metadata_tags"
NO_TAGS: Mapping[str, str] = MappingProxyType({})

# ITU-R BT.709, limited ("MPEG") range: the colours every browser assumes for HD H.264.
_BT709 = 1
_LIMITED_RANGE = 1


@dataclass(frozen=True)
class EncodeStats:
    """What one encode produced: frame count, file size and the wall time it took."""

    frames: int
    bytes: int
    seconds: float


def _check_settings(width: int, height: int, fps: int, crf: int, preset: str) -> None:
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise ValueError(f"yuv420p needs an even width and height, got {width}x{height}")
    if fps < 1:
        raise ValueError(f"fps must be positive, got {fps}")
    if not 0 <= crf <= 51:
        raise ValueError(f"crf must be within 0..51, got {crf}")
    if preset not in PRESETS:
        raise ValueError(f"unknown x264 preset {preset!r}; one of {', '.join(PRESETS)}")


class H264Encoder:
    """Encodes uint8 RGB frames one at a time into an MP4 file.

    Use as a context manager; ``close`` (also called on a clean exit) flushes the encoder,
    writes the file and returns its ``EncodeStats``. On an exception the container is closed
    and the partial file is left for the caller to remove.
    """

    def __init__(
        self,
        path: Path | str,
        width: int,
        height: int,
        fps: int = 24,
        metadata: Mapping[str, str] = NO_TAGS,
        crf: int = DEFAULT_CRF,
        preset: str = DEFAULT_PRESET,
        threads: int = 0,
        sound: Sound | None = None,
    ) -> None:
        _check_settings(width, height, fps, crf, preset)
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self._time_base = Fraction(1, fps)
        self._frames = 0
        self._started = time.perf_counter()
        self._stats: EncodeStats | None = None
        self._container = av.open(str(self.path), "w", format="mp4", options={"movflags": MOVFLAGS})
        try:
            self._container.metadata.update(metadata)
            self._stream = self._add_stream(crf, preset, threads)
            self._audio = None if sound is None else AacTrack(self._container, sound)
        except BaseException:
            self._container.close()
            raise

    def _add_stream(self, crf: int, preset: str, threads: int) -> av.VideoStream:
        stream = self._container.add_stream(
            "libx264", rate=self.fps, options={"crf": str(crf), "preset": preset}
        )
        stream.width, stream.height, stream.pix_fmt = self.width, self.height, "yuv420p"
        codec = stream.codec_context
        codec.time_base = self._time_base
        codec.thread_type = "FRAME"
        codec.thread_count = threads
        codec.colorspace = codec.color_primaries = codec.color_trc = _BT709
        codec.color_range = _LIMITED_RANGE
        return stream

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return self._frames

    def write(self, frame: np.ndarray) -> None:
        """Encode one uint8 RGB frame of shape (height, width, 3)."""
        if self._stats is not None:
            raise ValueError("the encoder is closed")
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(
                f"expected a uint8 frame of shape {(self.height, self.width, 3)}, "
                f"got {frame.dtype} {frame.shape}"
            )
        rgb = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        yuv = rgb.reformat(format="yuv420p", dst_colorspace="itu709", dst_color_range="MPEG")
        yuv.pts, yuv.time_base = self._frames, self._time_base
        self._container.mux(self._stream.encode(yuv))
        self._frames += 1
        if self._audio is not None:
            self._audio.until(self._frames / self.fps)

    def close(self) -> EncodeStats:
        """Flush, finish the file (moving moov to the front) and return what was written."""
        if self._stats is None:
            try:
                self._container.mux(self._stream.encode(None))
                if self._audio is not None:
                    self._audio.finish()
            finally:
                self._container.close()
            self._stats = EncodeStats(
                self._frames, self.path.stat().st_size, time.perf_counter() - self._started
            )
        return self._stats

    def abort(self) -> None:
        """Close without flushing; the file on disk is incomplete."""
        if self._stats is None:
            self._stats = EncodeStats(self._frames, 0, time.perf_counter() - self._started)
            # Already failing: an error from the half-written file would only hide the cause.
            with contextlib.suppress(Exception):
                self._container.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
