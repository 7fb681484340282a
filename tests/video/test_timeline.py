"""The 24 fps timeline: index/weight maps and the lazy, two-frame streaming resampler."""

from __future__ import annotations

import weakref
from collections.abc import Iterator

import numpy as np
import pytest

from clipforge.video import SourceSample, cross_fade, resample, source_sample, timeline_map

PAIRS = [(81, 121), (9, 241), (1, 121), (200, 121), (121, 121), (2, 3), (49, 241), (5, 1)]


@pytest.mark.parametrize(("src", "dst"), PAIRS)
def test_map_shape_and_endpoints(src: int, dst: int) -> None:
    samples = timeline_map(src, dst)
    assert len(samples) == dst
    assert samples[0] == SourceSample(0, 0, 0.0)
    if dst > 1:
        assert samples[-1] == SourceSample(src - 1, src - 1, 0.0)


@pytest.mark.parametrize(("src", "dst"), PAIRS)
def test_map_positions_are_normalised(src: int, dst: int) -> None:
    for i, sample in enumerate(timeline_map(src, dst)):
        expected = i * (src - 1) / (dst - 1) if dst > 1 else 0.0
        assert sample.lower + sample.weight == pytest.approx(expected)
        assert 0.0 <= sample.weight < 1.0
        assert sample.upper == (sample.lower if sample.weight == 0 else sample.lower + 1)
        assert 0 <= sample.lower <= sample.upper < src


@pytest.mark.parametrize(("src", "dst"), PAIRS)
def test_map_never_goes_back(src: int, dst: int) -> None:
    lowers = [s.lower for s in timeline_map(src, dst)]
    assert lowers == sorted(lowers)


def test_81_to_121_values() -> None:
    samples = timeline_map(81, 121)
    assert samples[1] == SourceSample(0, 1, pytest.approx(2 / 3))
    assert samples[2] == SourceSample(1, 2, pytest.approx(1 / 3))
    assert samples[3] == SourceSample(2, 2, 0.0)
    assert samples[60] == SourceSample(40, 40, 0.0)


def test_9_to_241_values() -> None:
    samples = timeline_map(9, 241)
    assert samples[15] == SourceSample(0, 1, 0.5)
    assert samples[30] == SourceSample(1, 1, 0.0)
    assert samples[239] == SourceSample(7, 8, pytest.approx(29 / 30))
    # 30 output frames per source interval: every source frame lands exactly on one.
    assert [s.lower for s in samples if s.weight == 0] == list(range(9))


def test_1_to_121_is_all_the_first_frame() -> None:
    assert set(timeline_map(1, 121)) == {SourceSample(0, 0, 0.0)}


def test_200_to_121_downsamples() -> None:
    samples = timeline_map(200, 121)
    assert samples[1] == SourceSample(1, 2, pytest.approx(79 / 120))
    assert samples[60] == SourceSample(99, 100, pytest.approx(0.5))
    assert len({s.lower for s in samples}) == 121


def test_identity_map() -> None:
    assert timeline_map(121, 121) == [SourceSample(i, i, 0.0) for i in range(121)]


def test_nearest() -> None:
    assert SourceSample(3, 4, 0.49).nearest == 3
    assert SourceSample(3, 4, 0.5).nearest == 4


@pytest.mark.parametrize(("src", "dst"), [(0, 10), (10, 0), (-1, 5)])
def test_bad_counts_raise(src: int, dst: int) -> None:
    with pytest.raises(ValueError):
        timeline_map(src, dst)


def test_source_sample_index_out_of_range() -> None:
    with pytest.raises(ValueError):
        source_sample(121, 81, 121)


def _flat_frames(values: list[int], size: tuple[int, int] = (4, 6)) -> Iterator[np.ndarray]:
    for value in values:
        yield np.full((*size, 3), value, np.uint8)


def test_resample_blends_neighbours() -> None:
    values = [0, 30, 90, 250]
    out = [int(f[0, 0, 0]) for f in resample(_flat_frames(values), 4, 7)]
    # Positions 0, .5, 1, 1.5, 2, 2.5, 3.
    assert out == [0, 15, 30, 60, 90, 170, 250]


def test_resample_rounds_to_nearest_level() -> None:
    out = [int(f[0, 0, 0]) for f in resample(_flat_frames([0, 10]), 2, 4)]
    assert out == [0, 3, 7, 10]  # 3.33 and 6.67 rounded


def test_resample_nearest_without_blend() -> None:
    values = [0, 30, 90, 250]
    out = [int(f[0, 0, 0]) for f in resample(_flat_frames(values), 4, 7, blend=False)]
    assert out == [0, 30, 30, 90, 90, 250, 250]


def test_resample_output_dtype_and_count() -> None:
    frames = list(resample(_flat_frames(list(range(0, 90, 10))), 9, 241))
    assert len(frames) == 241
    assert all(f.dtype == np.uint8 and f.shape == (4, 6, 3) for f in frames)


def test_resample_single_source_frame() -> None:
    frames = list(resample(_flat_frames([77]), 1, 121))
    assert len(frames) == 121
    assert all(int(f[0, 0, 0]) == 77 for f in frames)


def test_resample_downsampling_reads_every_source_frame() -> None:
    pulled: list[int] = []

    def source() -> Iterator[np.ndarray]:
        for i in range(200):
            pulled.append(i)
            yield np.full((2, 2, 3), i % 256, np.uint8)

    frames = list(resample(source(), 200, 121))
    assert len(frames) == 121
    assert pulled == list(range(200))
    assert int(frames[-1][0, 0, 0]) == 199


class _Tracked:
    """A source that records how many frames were pulled and which are still alive."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.pulled = 0
        self.refs: list[weakref.ref[np.ndarray]] = []

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(self.count):
            frame = np.full((8, 8, 3), i, np.uint8)
            self.refs.append(weakref.ref(frame))
            self.pulled += 1
            yield frame
            del frame

    def alive(self) -> int:
        return sum(ref() is not None for ref in self.refs)


@pytest.mark.parametrize(
    ("src", "dst", "blend"), [(81, 121, True), (9, 241, False), (200, 121, True)]
)
def test_resample_is_lazy_and_holds_two_frames(src: int, dst: int, blend: bool) -> None:
    source = _Tracked(src)
    stream = resample(source, src, dst, blend)
    assert source.pulled == 0  # nothing is read before the first frame is asked for
    samples = timeline_map(src, dst)
    for i, frame in enumerate(stream):
        needed = samples[i].upper if blend else samples[i].nearest
        assert source.pulled == needed + 1, f"output {i} read ahead of what it needs"
        assert source.alive() <= 2
        del frame
    assert source.pulled == src


def test_resample_too_short_raises() -> None:
    stream = resample(_flat_frames([0, 10, 20]), 5, 9)
    with pytest.raises(ValueError, match="yielded 3 frames, expected 5"):
        list(stream)


def test_resample_rejects_non_uint8() -> None:
    with pytest.raises(ValueError, match="uint8"):
        list(resample(iter([np.zeros((2, 2, 3), np.float32)]), 1, 2))


def test_repeated_frames_are_read_only() -> None:
    frames = resample(_flat_frames([5, 6]), 2, 5, blend=False)
    first = next(frames)
    with pytest.raises(ValueError):
        first[0, 0, 0] = 1


def test_cross_fade() -> None:
    a = np.zeros((2, 2, 3), np.uint8)
    b = np.full((2, 2, 3), 255, np.uint8)
    assert int(cross_fade(a, b, 0.25)[0, 0, 0]) == 64
    assert cross_fade(a, b, 0.0).tolist() == a.tolist()
    with pytest.raises(ValueError):
        cross_fade(a, np.zeros((3, 2, 3), np.uint8), 0.5)
