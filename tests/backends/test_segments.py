"""Long clips in segments (issue 28): a backend whose one pass is short renders a longer clip
as equal segments, each from the previous one's last frame; progress counts every segment's
steps and a cancel between steps stops it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from clipforge.backends.base import NO_IMAGES, Capabilities
from clipforge.backends.segments import generate_long, segment_count
from clipforge.backends.testpattern import CAPABILITIES, TestPatternBackend
from clipforge.errors import JobCancelled
from clipforge.schemas import GenerationRequest
from clipforge.video.resize import resize_frame


class ShortPasses(TestPatternBackend):
    """The test pattern, rendering at most 4 s a pass, recording what each pass was given."""

    capabilities = replace(CAPABILITIES, max_duration=4)

    def __init__(self) -> None:
        self.given: list[np.ndarray | None] = []
        self.last: list[np.ndarray] = []

    def generate(self, request, progress, images=NO_IMAGES):  # type: ignore[no-untyped-def]
        self.given.append(images.first)
        clip = super().generate(request, progress, images)
        frames = list(clip.frames)
        self.last.append(frames[-1])
        clip.frames = iter(frames)
        return clip


def request(seconds: int, **fields: object) -> GenerationRequest:
    return GenerationRequest(
        model="bytedance/seedance-2-5", prompt="a ball", duration=seconds, seed=1, **fields
    )


def test_segment_counts() -> None:
    short = replace(CAPABILITIES, max_duration=4)
    assert segment_count(request(4), short) == 1
    assert segment_count(request(12), short) == 3
    assert segment_count(request(30), short) == 8  # 720 intervals: 8 segments of 90
    assert segment_count(request(30), Capabilities(max_duration=4)) == 1  # no images: one pass


def test_a_30_s_clip_from_4_s_passes_continues_from_each_last_frame() -> None:
    backend = ShortPasses()
    steps: list[tuple[int, int]] = []
    asked = request(30, generate_audio=True, width=64, height=48)
    clip = generate_long(backend, asked, lambda s, t: steps.append((s, t)), NO_IMAGES)
    frames = list(clip.frames)
    assert len(backend.given) == 8 and backend.given[0] is None
    for given, previous in zip(backend.given[1:], backend.last, strict=False):
        assert given is not None  # each later pass starts from the one before's last frame
        assert np.array_equal(given, resize_frame(previous, 64, 48))
    assert clip.num_frames == len(frames) == 8 * 30 + 1  # 31 native frames a pass, joined
    assert {frame.shape for frame in frames} == {(clip.height, clip.width, 3)}
    assert steps[-1] == (8 * 4, 8 * 4) and steps == sorted(steps)  # progress counts passes
    assert clip.audio is not None and clip.audio.size == 30 * clip.sample_rate


def test_a_cancel_stops_between_steps() -> None:
    backend = ShortPasses()

    def progress(step: int, total: int) -> None:
        if step > 5:
            raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        generate_long(backend, request(12, width=64, height=48), progress, NO_IMAGES)
    assert len(backend.given) == 2  # the second segment never finished
