"""Native frames in, finished MP4 out: resample to 24 fps, resize, watermark, encode.

Frames stream through one at a time; the whole clip never exists in memory. Blending happens at
the native size, before resizing: resize is linear, so the pixels are the same either way, and
each output frame then costs one cross-fade at native size plus one resize, instead of a
resize per source frame plus a cross-fade at the (usually larger) output size.
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
    blend: bool = True,
    crf: int = DEFAULT_CRF,
    preset: str = DEFAULT_PRESET,
    threads: int = 0,
    stills: Stills | None = None,
    sound: Sound | None = None,
) -> RenderStats:
    """Render ``src_count`` native frames into an MP4 of ``num_frames`` at ``width x height``.

    The frames are resampled onto the ``fps`` timeline (first and last frames line up),
    scaled to cover the output size and centre-cropped, marked "AI generated" when
    ``watermark`` is set, and encoded as H.264. The file appears at ``out_path`` only when
    complete (written next to it, then renamed); on failure nothing is left behind. ``stills``
    sees every output frame on its way to the encoder (poster, spritesheet, last frame).
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
            for index, frame in enumerate(resample(frames, src_count, num_frames, blend)):
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
