"""The last frame of an uploaded video (PyAV, numpy; blocking: run it in the video pool).

Only MP4/MOV and Matroska/WebM are opened, each by its own demuxer over the bytes in memory
(`kinds.video_demuxer`): FFmpeg never probes for a format, so an `ffconcat` list, an HLS
playlist or an image is not a video here, and no nested file or protocol can be opened
(`protocol_whitelist` names none; QuickTime data references are off). Before a pixel is
decoded the header must show an allowed codec, a frame within the image pixel cap and a
duration and frame count within their caps. The decoder then starts at the last key frame
(a seek, not a decode of the whole file), decodes at most `max_frames` frames and stops at
`deadline_seconds`. Every refusal is MediaRejected with the reason.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from clipforge.api.accept.media.kinds import MediaRejected, video_demuxer
from clipforge.api.accept.media.stills import check_size

CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"}
_OPTIONS = {"protocol_whitelist": "none", "enable_drefs": "0", "use_absolute_path": "0"}
CUT_SLACK_SECONDS = 1.0
"""How far before its declared end a video's last frame may be, at least (5% at most)."""
_FAR = 1 << 60
"""Seek target past any real end: the demuxer goes back to the last key frame before it."""


@dataclass(frozen=True)
class ClipLimits:
    """The caps on an uploaded video, from the settings (and the image rules for frames)."""

    max_pixels: int
    min_side: int
    max_seconds: float
    max_frames: int
    deadline_seconds: float


def last_frame(data: bytes, limits: ClipLimits) -> np.ndarray:
    """The last frame of MP4/MOV or Matroska/WebM bytes, RGB uint8 (height, width, 3)."""
    demuxer = video_demuxer(data)
    if demuxer is None:
        raise MediaRejected("not an MP4, MOV, WebM or Matroska video")
    deadline = time.monotonic() + limits.deadline_seconds
    try:
        with av.open(io.BytesIO(data), mode="r", format=demuxer, options=_OPTIONS) as container:
            stream = _checked_stream(container, limits)
            declared = _seconds(container, stream)
            frame = _decode_last(container, stream, limits, deadline)
    except MediaRejected:
        raise
    except av.error.FFmpegError as exc:
        raise MediaRejected(f"the video is damaged or cut short ({exc.strerror})") from None
    except Exception as exc:  # the demuxer or decoder failed on these bytes
        raise MediaRejected(f"the video is damaged or cut short ({exc})") from None
    if frame is None:
        raise MediaRejected("the video has no frames")
    _check_whole(frame, declared)
    check_size((frame.width, frame.height), limits.max_pixels, limits.min_side)
    return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


def _checked_stream(container: av.container.InputContainer, limits: ClipLimits) -> av.VideoStream:
    if not container.streams.video:
        raise MediaRejected("the file has no video stream")
    stream = container.streams.video[0]
    codec = stream.codec_context.name
    if codec not in CODECS:
        raise MediaRejected(f"video codec {codec!r} is not taken")
    check_size((stream.codec_context.width, stream.codec_context.height), limits.max_pixels, 1)
    seconds = _seconds(container, stream)
    if seconds > limits.max_seconds:
        raise MediaRejected(f"the video is longer than {limits.max_seconds:g} s")
    if stream.frames > limits.max_frames:
        raise MediaRejected(f"the video has more than {limits.max_frames} frames")
    stream.codec_context.thread_count = 1  # one upload, one core: the pool bounds the rest
    return stream


def _check_whole(frame: av.VideoFrame, declared: float) -> None:
    """A file cut short decodes up to the cut without an error: its last frame comes well
    before the length its header declares (the slack allows for a longer audio track)."""
    slack = max(CUT_SLACK_SECONDS, 0.05 * declared)
    if frame.time is not None and declared > 0 and frame.time + slack < declared:
        ends = f"frames end at {frame.time:.1f} s of {declared:.1f} s"
        raise MediaRejected(f"the video is damaged or cut short ({ends})")


def _seconds(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * Fraction(stream.time_base))
    return (container.duration or 0) / av.time_base


def _decode_last(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    limits: ClipLimits,
    deadline: float,
) -> av.VideoFrame | None:
    """Decode from the last key frame; from the start where that finds nothing (no index)."""
    try:
        container.seek(_FAR, stream=stream, backward=True)
        last = _decode(container, stream, limits, deadline)
    except av.error.FFmpegError:
        last = None
    if last is None:
        container.seek(0, stream=stream, backward=True)
        last = _decode(container, stream, limits, deadline)
    return last


def _decode(
    container: av.container.InputContainer,
    stream: av.VideoStream,
    limits: ClipLimits,
    deadline: float,
) -> av.VideoFrame | None:
    last, decoded = None, 0
    for packet in container.demux(stream):
        for frame in packet.decode():
            decoded += 1
            if decoded > limits.max_frames:
                raise MediaRejected(f"the video has more than {limits.max_frames} frames")
            check_size((frame.width, frame.height), limits.max_pixels, 1)
            last = frame
        if time.monotonic() > deadline:
            raise MediaRejected(f"decoding took more than {limits.deadline_seconds:g} s")
    return last
