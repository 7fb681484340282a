"""Long clips in segments (issue 28): a backend whose one pass is short renders a longer clip
as equal segments, each from the previous one's last frame; progress counts every segment's
steps and a cancel between steps stops it; the sound joins without a click, a gap or a
repeat (decoded from the MP4 around each join)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from clipforge.backends.base import NO_IMAGES, Capabilities
from clipforge.backends.segments import SEAM_FADE_SECONDS, generate_long, segment_count
from clipforge.backends.testpattern import CAPABILITIES, TestPatternBackend
from clipforge.errors import JobCancelled
from clipforge.schemas import GenerationRequest
from clipforge.video.render import render_video
from clipforge.video.resize import resize_frame
from clipforge.video.sound import Sound


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
    assert clip.audio is not None  # as long as the video: through its last frame (1/24 s)
    assert clip.audio.size == round((30 + 1 / 24) * clip.sample_rate)


def test_a_cancel_stops_between_steps() -> None:
    backend = ShortPasses()

    def progress(step: int, total: int) -> None:
        if step > 5:
            raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        generate_long(backend, request(12, width=64, height=48), progress, NO_IMAGES)
    assert len(backend.given) == 2  # the second segment never finished


class Restarting(ShortPasses):
    """Short passes whose sound starts afresh each pass (a backend that knows no `since`)."""

    def generate(self, request, progress, images=NO_IMAGES):  # type: ignore[no-untyped-def]
        return super().generate(request, progress, replace(images, since=0.0))


def mp4_sound(tmp_path: Path, backend: TestPatternBackend, asked: GenerationRequest) -> dict:
    """The clip rendered to an MP4 with its sound, decoded back: samples and both lengths."""
    clip = generate_long(backend, asked, lambda s, t: None, NO_IMAGES)
    assert clip.audio is not None
    path = tmp_path / f"{type(backend).__name__}.mp4"
    sound = Sound(clip.audio, clip.sample_rate)
    render_video(
        clip.frames, src_count=clip.num_frames, out_path=path, width=64, height=48,
        num_frames=asked.frames, sound=sound,
    )  # fmt: skip
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio)])
        lengths = [float(s.duration * s.time_base) for s in (video, audio)]
    return {"samples": samples, "video_s": lengths[0], "audio_s": lengths[1]}


def test_the_sound_of_a_long_clip_joins_as_one_track(tmp_path: Path) -> None:
    # 10 s from 4 s passes: three segments of 3.33 s, which start mid-cycle of the tone and
    # between clicks: joined, the track is the one a single pass makes, seams and all.
    asked = request(10, generate_audio=True, width=64, height=48)
    whole = mp4_sound(tmp_path, TestPatternBackend(), asked)
    joined = mp4_sound(tmp_path, ShortPasses(), asked)
    assert abs(joined["audio_s"] - joined["video_s"]) < 1024 / 48_000  # within one AAC frame
    rate = 48_000
    for seam in (10 / 3, 20 / 3):
        around = slice(round((seam - 0.05) * rate), round((seam + 0.05) * rate))
        difference = np.abs(joined["samples"][around] - whole["samples"][around]).max()
        assert difference < 0.02, (seam, difference)  # no click, gap or repeat at a join
    clicks = [np.flatnonzero(np.abs(t["samples"]) > 0.5) for t in (whole, joined)]
    assert np.array_equal(clicks[0], clicks[1])  # every click where a single pass has it


def test_a_sound_that_restarts_each_pass_is_cross_faded_without_a_step() -> None:
    asked = request(10, generate_audio=True, width=64, height=48)
    clip = generate_long(Restarting(), asked, lambda s, t: None, NO_IMAGES)
    assert clip.audio is not None
    rate, steepest = clip.sample_rate, 0.1 * 2 * np.pi * 440 / clip.sample_rate  # the tone's
    assert clip.audio.size == round((10 + 1 / 24) * rate)
    fade = round(SEAM_FADE_SECONDS * rate)
    for seam in (10 / 3, 20 / 3):
        at = round(seam * rate)
        near = clip.audio[at - fade : at + 2 * fade]
        assert np.abs(np.diff(near)).max() < 2 * steepest  # a fade, never a jump
