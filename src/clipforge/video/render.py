"""Native frames in, finished MP4 out: onto the output timeline, resize, watermark, encode.

Frames stream through one at a time; the whole clip never exists in memory. Output frames are
whole native frames (held, never cross-faded: a cross-fade doubles every moving edge) or,
when asked, motion-interpolated ones (`video/interpolate.py`, at the native size, before the
resize); `video/cadence.py` decides which, and at what rate.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipforge.video.encode import DEFAULT_CRF, DEFAULT_PRESET, NO_TAGS, H264Encoder
from clipforge.video.interpolate import motion_interpolate
from clipforge.video.resize import resize_frame
from clipforge.video.sound import Sound
from clipforge.video.stills import Stills
from clipforge.video.timeline import resample
from clipforge.video.watermark import Watermark

COMMENT = "AI generated (ClipForge)"


@dataclass(frozen=True)
class RenderStats:
    """What ``render_video`` wrote: frames, file size, wall seconds and the geometry."""

    frames: int
    bytes: int
    seconds: float
    width: int
    height: int
    fps: int


def _temp_path(out_path: Path) -> Path:
    # Same folder, so the final rename stays on one file system and is atomic.
    return out_path.with_name(f".{out_path.name}.{secrets.token_hex(4)}.part")


def container_tags(metadata: Mapping[str, str]) -> dict[str, str]:
    """The tags to write: ``metadata`` plus a standard title and comment unless given."""
    tags = dict(metadata)
    if "clipforge_prompt" in tags:
        tags.setdefault("title", tags["clipforge_prompt"])
    tags.setdefault("comment", COMMENT)
    return tags


def _output_frame(frame: np.ndarray, width: int, height: int, mark: Watermark | None) -> np.ndarray:
    resized = resize_frame(frame, width, height)
    return mark.apply(resized) if mark is not None else resized


def _timeline(
    frames: Iterable[np.ndarray], src_count: int, count: int, fps: int, src_fps: float | None
) -> Iterable[np.ndarray]:
    if src_fps is None:
        return resample(frames, src_count, count, blend=False)
    return motion_interpolate(frames, src_fps, fps, count)


def render_video(
    frames: Iterable[np.ndarray],
    *,
    src_count: int,
    out_path: Path,
    width: int,
    height: int,
    num_frames: int,
    fps: int = 24,
    watermark: bool = False,
    metadata: Mapping[str, str] = NO_TAGS,
    interpolate_from: float | None = None,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    threads: int = 0,
    stills: Stills | None = None,
    sound: Sound | None = None,
) -> RenderStats:
    """Render ``src_count`` native frames into an MP4 of ``num_frames`` at ``width x height``.

    The frames are held onto the ``fps`` timeline (first and last frames line up; each output
    frame is its nearest native frame), or, with ``interpolate_from`` (the native rate),
    motion-interpolated to it; then scaled to cover the output size and centre-cropped,
    marked "AI generated" when ``watermark`` is set, and encoded as H.264. The file appears
    at ``out_path`` only when complete (written next to it, then renamed); on failure nothing
    is left behind. ``stills`` sees every output frame on its way to the encoder (poster,
    spritesheet, last frame).
    ``sound`` (from the first frame on) becomes an AAC track exactly as long as the video.
    """
    started = time.perf_counter()
    out_path = Path(out_path)
    mark = Watermark(width, height) if watermark else None
    temp = _temp_path(out_path)
    try:
        with H264Encoder(
            temp,
            width,
            height,
            fps,
            container_tags(metadata),
            crf,
            preset,
            threads,
            None if sound is None else sound.fit(num_frames, fps),
        ) as encoder:
            for index, frame in enumerate(
                _timeline(frames, src_count, num_frames, fps, interpolate_from)
            ):
                output = _output_frame(frame, width, height, mark)
                if stills is not None:
                    stills.add(index, output)
                encoder.write(output)
        encoded = encoder.close()
        os.replace(temp, out_path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    seconds = time.perf_counter() - started
    return RenderStats(encoded.frames, encoded.bytes, seconds, width, height, fps)
