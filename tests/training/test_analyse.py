"""The clip analyser against ground-truth renders of the procedural scenes."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from training.analyse import Analysis, analyse, analyse_video, check, main
from training.analyser_accuracy import SIZES
from training.resampling import downscale
from training.scenes import COLOURS, MOTIONS, SHAPES, Scene, random_scene, render_scene

FRAMES = 16
PER_SIZE = 80  # 320 scenes over four aspect ratios


@pytest.fixture(scope="module")
def verdicts() -> list[tuple[Scene, tuple[int, int], Analysis]]:
    rng = np.random.default_rng(20260101)
    out = []
    started = time.perf_counter()
    for index in range(PER_SIZE * len(SIZES)):
        scene = random_scene(rng)
        width, height = SIZES[index % len(SIZES)]
        out.append((scene, (width, height), analyse(render_scene(scene, width, height, FRAMES))))
    seconds = time.perf_counter() - started
    print(f"\n{len(out)} clips rendered and analysed in {seconds:.1f} s")
    return out


def _scores(verdicts, moving: bool) -> tuple[dict[str, float], Counter]:
    hits: dict[str, list[bool]] = {}
    misses: Counter = Counter()
    for scene, size, result in verdicts:
        if (scene.camera != "fixed") != moving:
            continue
        for key, ok in check(result, scene).items():
            hits.setdefault(key, []).append(ok)
            if not ok:
                truth = True if key == "camera_still" else getattr(scene, key)
                detail = f"{scene.background}/{scene.camera} {size[0]}x{size[1]}"
                misses[(key, truth, getattr(result, key), detail)] += 1
    return {key: float(np.mean(values)) for key, values in hits.items()}, misses


def _report(name: str, scores: dict[str, float], misses: Counter) -> None:
    print(f"{name}: " + "  ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    for (key, truth, got, detail), count in misses.most_common():
        print(f"  miss {key}: {truth} -> {got} ({detail}) x{count}")


@pytest.mark.slow
def test_fixed_camera_accuracy(verdicts) -> None:
    scores, misses = _scores(verdicts, moving=False)
    _report("fixed camera", scores, misses)
    assert scores["colour"] >= 0.97
    assert scores["shape"] >= 0.90
    assert scores["motion"] >= 0.90
    assert scores["camera_still"] >= 0.95


@pytest.mark.slow
def test_moving_camera_accuracy(verdicts) -> None:
    scores, misses = _scores(verdicts, moving=True)
    _report("pan/zoom camera", scores, misses)
    assert scores["colour"] >= 0.97
    assert scores["shape"] >= 0.90
    assert scores["motion"] >= 0.85


@pytest.mark.slow
def test_moving_camera_is_seen_over_texture(verdicts) -> None:
    """Over a textured background a pan or zoom is never taken for a still camera (over a
    plain one it cannot be seen at all)."""
    seen = [
        not result.camera_still
        for scene, _, result in verdicts
        if scene.camera != "fixed" and scene.background != "plain"
    ]
    assert len(seen) > 50
    assert np.mean(seen) >= 0.95


@pytest.mark.slow
def test_every_attribute_value_is_recognised(verdicts) -> None:
    got = {key: Counter() for key in ("colour", "shape", "motion")}
    for scene, _, result in verdicts:
        for key in got:
            got[key][getattr(scene, key)] += getattr(result, key) == getattr(scene, key)
    assert set(got["colour"]) == set(COLOURS)
    assert set(got["shape"]) == set(SHAPES)
    assert set(got["motion"]) == set(MOTIONS)
    for counter in got.values():
        assert min(counter.values()) > 0


def test_speed() -> None:
    clip = render_scene(random_scene(np.random.default_rng(3)), 56, 32, FRAMES)
    analyse(clip)
    started = time.process_time()  # CPU time: what the analyser costs, whatever else runs
    for _ in range(5):
        analyse(clip)
    assert (time.process_time() - started) / 5 < 0.5


@pytest.mark.parametrize("tone", [(0, 0, 0), (110, 110, 115), (220, 30, 30), (250, 250, 250)])
def test_blank_clip_has_no_object(tone) -> None:
    clip = np.empty((FRAMES, 32, 56, 3), dtype=np.uint8)
    clip[:] = tone
    result = analyse(clip)
    assert (result.colour, result.shape, result.motion) == (None, None, None)
    assert not result.found
    assert result.camera_still
    assert set(result.areas) == {0.0}


@pytest.mark.parametrize("seed", range(6))
def test_noise_gives_no_confident_object(seed) -> None:
    rng = np.random.default_rng(seed)
    uniform = rng.integers(0, 256, (FRAMES, 32, 56, 3), dtype=np.uint8)
    grey = np.clip(rng.normal(110, 40, (FRAMES, 32, 32, 3)), 0, 255).astype(np.uint8)
    for clip in (uniform, grey):
        result = analyse(clip)
        assert None in (result.colour, result.shape, result.motion)


def test_textured_background_alone_has_no_object() -> None:
    scene = Scene("red", "circle", "still", "checker", "grey", "pan", size=1e-6)
    result = analyse(render_scene(scene, 56, 32, FRAMES))
    assert result.colour is None
    assert not result.camera_still


def test_deterministic() -> None:
    rng = np.random.default_rng(11)
    for index in range(4):
        scene = replace(random_scene(rng), camera=("pan", "zoom", "fixed", "pan")[index])
        clip = render_scene(scene, *SIZES[index], FRAMES)
        first, second = analyse(clip), analyse(clip.copy())
        assert first == second
        assert first.found


def test_evidence() -> None:
    scene = Scene("blue", "square", "right", "stripes", "beige", "pan", pan_direction="right")
    result = analyse(render_scene(scene, 56, 32, FRAMES))
    assert (result.colour, result.shape, result.motion) == ("blue", "square", "right")
    assert len(result.areas) == len(result.track) == len(result.camera_zoom) == FRAMES
    # The view pans right by 0.35 short sides: the texture slides left about 11 pixels.
    assert result.camera_shift[-1][0] == pytest.approx(-0.35 * 32, abs=1.0)
    assert not result.camera_still and result.camera_observable
    on_screen = result.track[-1][0] - result.track[0][0]
    in_world = result.world_track[-1][0] - result.world_track[0][0]
    assert in_world == pytest.approx(0.56 * 56, abs=2.0)
    assert on_screen == pytest.approx(0.56 * 56 - 0.35 * 32, abs=2.0)


def test_plain_background_hides_the_camera() -> None:
    scene = Scene("green", "cross", "growing", "plain", "black", "zoom")
    result = analyse(render_scene(scene, 32, 32, FRAMES))
    assert result.camera_still and not result.camera_observable
    assert result.motion == "growing"


def test_check() -> None:
    scene = Scene("red", "circle", "left", "dots", "grey", "fixed")
    result = analyse(render_scene(scene, 56, 32, FRAMES))
    assert check(result, scene) == {
        "colour": True,
        "shape": True,
        "motion": True,
        "camera_still": True,
    }
    other = replace(scene, colour="blue", shape="cross", camera="zoom")
    assert check(result, other) == {"colour": False, "shape": False, "motion": True}
    assert check(result, other, camera_fixed=True)["camera_still"]


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        analyse(np.zeros((FRAMES, 32, 32), dtype=np.uint8))
    with pytest.raises(ValueError):
        analyse(np.zeros((FRAMES, 32, 32, 3), dtype=np.float32))


def test_downscale_is_an_area_average() -> None:
    clip = np.random.default_rng(0).integers(0, 256, (2, 64, 112, 3), dtype=np.uint8)
    small = downscale(clip, 32)
    assert small.shape == (2, 32, 56, 3)
    blocks = clip.reshape(2, 32, 2, 56, 2, 3).astype(float).mean(axis=(2, 4))
    assert np.abs(small.astype(float) - blocks).max() <= 0.5
    assert downscale(small, 32) is small


def test_large_clips_are_scaled_down() -> None:
    scene = Scene("orange", "triangle", "up", "checker", "navy", "zoom")
    large = render_scene(scene, 168, 96, FRAMES)
    result = analyse(large)
    assert (result.colour, result.shape, result.motion) == ("orange", "triangle", "up")
    assert not result.camera_still


def test_nine_frames() -> None:
    rng = np.random.default_rng(5)
    right = 0
    for index in range(24):
        scene = random_scene(rng)
        result = analyse(render_scene(scene, *SIZES[index % len(SIZES)], 9))
        right += all(check(result, scene).values())
    assert right >= 21


def test_analyse_video(tmp_path: Path) -> None:
    """Through the service's own H.264 encoder at 480p and back."""
    from clipforge.video.render import render_video

    rng = np.random.default_rng(8)
    outputs = {(56, 32): (840, 480), (32, 56): (480, 840), (32, 32): (480, 480)}
    for index, ((width, height), (out_w, out_h)) in enumerate(outputs.items()):
        scene = random_scene(rng)
        path = tmp_path / f"{index}.mp4"
        render_video(
            iter(render_scene(scene, width, height, FRAMES)),
            src_count=FRAMES,
            out_path=path,
            width=out_w,
            height=out_h,
            num_frames=48,
            watermark=index == 0,
        )
        result = analyse_video(path)
        assert len(result.areas) == FRAMES
        assert all(check(result, scene).values()), (scene, result)


def test_cli(capsys) -> None:
    main(["--check", "8"])
    out = capsys.readouterr().out
    assert "colour" in out and "motion" in out and "ms per clip" in out
