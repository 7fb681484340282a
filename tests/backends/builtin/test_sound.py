"""The built-in model's sound, made from what it drew: pitch follows the object's height, a
knock at each bounce (no torch: synthetic frames stand in for the model's)."""

from __future__ import annotations

import numpy as np

from clipforge.backends.builtin.backend import BuiltinBackend
from clipforge.backends.builtin.capabilities import CAPABILITIES
from clipforge.backends.builtin.sound import SAMPLE_RATE, drawn_sound, heights
from clipforge.schemas import GenerationRequest


def _ball(rows: list[int], size: int = 32) -> list[np.ndarray]:
    frames = []
    for row in rows:
        frame = np.full((size, size, 3), 20, np.uint8)
        frame[row : row + 4, 14:18] = 240
        frames.append(frame)
    return frames


def _pitch(sound: np.ndarray, at: float) -> float:
    """Zero crossings per second around `at`, halved: the frequency there."""
    window = sound[round(at * SAMPLE_RATE) : round((at + 0.05) * SAMPLE_RATE)]
    crossings = np.count_nonzero(np.diff(np.signbit(window)))
    return crossings / 2 / 0.05


def test_pitch_follows_height_and_a_bounce_knocks() -> None:
    down_up = [2, 8, 14, 20, 26, 20, 14, 8, 2]  # falls to the floor, bounces back up
    frames = _ball(down_up)
    levels = heights(frames)
    assert levels[0] > levels[4] < levels[-1]
    sound = drawn_sound(frames, seconds=2.0)
    assert sound.dtype == np.float32 and sound.size == 2 * SAMPLE_RATE
    assert _pitch(sound, 0.0) > 1.5 * _pitch(sound, 0.95)  # high at the top, low at the floor
    bounce = round(1.0 * SAMPLE_RATE)  # frame 4 of 9, over 2 s
    knock = np.abs(sound[bounce : bounce + 1000]).max()
    assert knock > 0.3 > np.abs(sound[: bounce - 2000]).max()
    assert np.array_equal(sound, drawn_sound(frames, seconds=2.0))  # the same frames, same sound


def test_the_builtin_model_declares_sound() -> None:
    assert CAPABILITIES.audio


def test_the_builtin_model_makes_its_sound_when_asked(shipped: BuiltinBackend) -> None:
    asked = GenerationRequest(model="m", prompt="a red ball bouncing", seed=3, duration=4)
    silent = shipped.generate(asked, lambda step, total: None)
    assert silent.audio is None
    clip = shipped.generate(asked.model_copy(update={"generate_audio": True}), lambda s, t: None)
    assert clip.audio is not None and clip.audio.size == 4 * SAMPLE_RATE
    assert len(list(clip.frames)) == clip.num_frames
