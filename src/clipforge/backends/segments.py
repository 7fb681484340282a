"""Long clips from a backend that renders shorter ones: consecutive segments, each starting
from the last frame of the one before through the backend's own image conditioning.

A backend that takes a first frame (`Capabilities.first_frame`) renders any length up to
`schemas.MAX_SECONDS` this way; one that does not renders at most its `max_duration`. The
segments are equally long (a whole number of output frames each, so that the native frame
rate is the same throughout), the first starts from the request's own first frame if any,
and each later one from the previous segment's last frame, which it repeats as its own first
(dropped when joining), at the first segment's native size. The segments' native frames are
held until the last is rendered (native sizes are small; the output size is reached frame by
frame by the video layer). Progress counts the steps of every segment (`step + k * steps` of
`n * steps`), so a cancel stops between any two steps. Sound, where made, is joined the
same way, segment after segment.
"""

from __future__ import annotations

import math

import numpy as np

from clipforge.backends.base import Backend, Capabilities, Clip, ImageInput, ProgressCallback
from clipforge.schemas import GenerationRequest
from clipforge.video.resize import resize_frame

PREVIOUS_SEGMENT = "segment:previous"
"""The `image_url` a later segment's request records (its first frame is the previous
segment's last)."""


def segment_count(request: GenerationRequest, capabilities: Capabilities) -> int:
    """How many equal segments: the fewest no longer than the backend's one pass that split
    the clip's frame intervals evenly (1: one pass)."""
    intervals = request.frames - 1
    if request.seconds <= capabilities.max_duration or not capabilities.first_frame:
        return 1
    count = math.ceil(request.seconds / capabilities.max_duration)
    while intervals % count:
        count += 1
    return count


def generate_long(
    backend: Backend, request: GenerationRequest, progress: ProgressCallback, images: ImageInput
) -> Clip:
    """`backend.generate`, in segments where the clip is longer than one pass renders."""
    count = segment_count(request, backend.capabilities)
    if count == 1:
        return backend.generate(request, progress, images)
    per = (request.frames - 1) // count
    frames: list[np.ndarray] = []
    sounds: list[np.ndarray] = []
    first, clip = images.first, None
    size: tuple[int, int] | None = None
    for index in range(count):
        final = index == count - 1
        part = _segment(request, per, index, final)
        given = ImageInput(first, images.last if final else None, images.references)
        clip = backend.generate(part, _shifted(progress, index, count), given)
        rendered = list(clip.frames)
        size = size or (clip.width, clip.height)  # the first segment's native size throughout
        frames.extend(_sized(frame, size) for frame in (rendered if index == 0 else rendered[1:]))
        if clip.audio is not None:
            sounds.append(_seconds_of(clip.audio, clip.sample_rate, part.seconds))
        first = resize_frame(rendered[-1], *request.size)
    assert clip is not None and size is not None
    audio = np.concatenate(sounds) if len(sounds) == count else None
    joined = Clip(*size, clip.fps, len(frames), iter(frames), audio)
    joined.sample_rate = clip.sample_rate
    return joined


def _segment(request: GenerationRequest, per: int, index: int, final: bool) -> GenerationRequest:
    """Segment `index`'s request: `per` frame intervals, from the previous segment's last
    frame (after the first), to the request's last frame (the final one only)."""
    changes: dict[str, object] = {"frame_count": per + 1}
    if index > 0:
        changes["image_url"] = PREVIOUS_SEGMENT
    if not final:
        changes["last_image_url"] = None
    return request.model_copy(update=changes)


def _sized(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    return frame if frame.shape[:2] == (height, width) else resize_frame(frame, width, height)


def _shifted(progress: ProgressCallback, index: int, count: int) -> ProgressCallback:
    def shifted(step: int, total: int) -> None:
        progress(step + index * total, total * count)

    return shifted


def _seconds_of(audio: np.ndarray, rate: int, seconds: float) -> np.ndarray:
    wanted = round(seconds * rate)
    fitted = np.zeros(wanted, dtype=np.float32)
    fitted[: min(wanted, audio.size)] = audio[:wanted]
    return fitted
