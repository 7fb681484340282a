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
`n * steps`), so a cancel stops between any two steps.

Sound, where made, is joined on the same timeline: each segment's track starts at its first
frame's time (`ImageInput.since` tells the backend where that is, so that a sound following
time continues), and is placed there, so nothing is heard twice or missed at a join. Where a
track runs on past its segment's last frame (through that frame's display), the overlap
cross-fades into the next segment's start; a track that stops at its last frame is continued
by its own mirror image over the fade. Either way a join has no step (no click) and no gap,
and the joined track is as long as the video.
"""

from __future__ import annotations

import math

import numpy as np

from clipforge.backends.base import Backend, Capabilities, Clip, ImageInput, ProgressCallback
from clipforge.schemas import FPS, GenerationRequest
from clipforge.video.resize import resize_frame

SEAM_FADE_SECONDS = 0.02
"""How long each join of two segments' sound cross-fades (20 ms: no click, too short to hear
as a fade)."""
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
        last = images.last if final else None
        given = ImageInput(first, last, images.references, since=index * part.seconds)
        clip = backend.generate(part, _shifted(progress, index, count), given)
        rendered = list(clip.frames)
        size = size or (clip.width, clip.height)  # the first segment's native size throughout
        frames.extend(_sized(frame, size) for frame in (rendered if index == 0 else rendered[1:]))
        if clip.audio is not None:
            sounds.append(np.asarray(clip.audio, dtype=np.float32).reshape(-1))
        first = resize_frame(rendered[-1], *request.size)
    assert clip is not None and size is not None
    share = round(per / FPS * clip.sample_rate)  # samples from one segment's start to the next
    audio = joined_sound(sounds, share, clip.sample_rate) if len(sounds) == count else None
    joined = Clip(*size, clip.fps, len(frames), iter(frames), audio)
    joined.sample_rate = clip.sample_rate
    return joined


def joined_sound(parts: list[np.ndarray], share: int, rate: int) -> np.ndarray:
    """The segments' tracks as one: part k placed at `k * share` samples, each join
    cross-faded over `SEAM_FADE_SECONDS` (module docstring)."""
    fade = max(1, round(SEAM_FADE_SECONDS * rate))
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)).astype(np.float32)
    out = np.zeros(share * (len(parts) - 1) + max(parts[-1].size, fade), dtype=np.float32)
    carried: np.ndarray | None = None  # the previous part, continued over this one's start
    for index, part in enumerate(parts):
        final = index == len(parts) - 1
        own = _padded(part, fade if final else share).copy()
        if carried is not None:
            own[:fade] = carried * (1 - ramp) + own[:fade] * ramp
        length = own.size if final else share
        out[index * share : index * share + length] = own[:length]
        carried = None if final else _continuation(own, share, fade)
    return out


def _continuation(own: np.ndarray, share: int, fade: int) -> np.ndarray:
    """A part's sound over the `fade` samples after its share: what it made there, else
    (where it stopped sooner) its own mirror image, which starts where it stopped."""
    made = own[: share + fade]
    if made.size < share + fade:
        made = np.concatenate([made, made[::-1][: share + fade - made.size]])
    return made[share:]


def _padded(samples: np.ndarray, length: int) -> np.ndarray:
    if samples.size >= length:
        return samples
    return np.concatenate([samples, np.zeros(length - samples.size, dtype=np.float32)])


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
