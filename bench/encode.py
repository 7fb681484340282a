"""Video layer: render speed and memory for 1080p, the largest output of API.md.

(a) Speed: render_video turns 81 native 832x480 frames (a moving synthetic pattern) into a
    5 s 1920x1088 clip of 121 frames, watermark on; wall seconds against the clip's 5 s of real
    time (target: at most 1.5x real time).
(b) Memory: a child process renders a 10 s clip (241 frames) from the same kind of source; its
    RSS high-water (VmHWM) after rendering against its RSS after imports and set-up, measured
    in the same run (target: under 2 GiB beyond that baseline). Not getrusage's ru_maxrss:
    Linux carries the parent's high-water into a child across fork and exec, so the child
    would report the parent's peak. The high-water is reset just before rendering, so the
    set-up's own temporaries do not hide the render's peak.

(c) With --uhd: memory of a 15 s 4k clip (3840x2160, 361 frames) with a 15 s sound track,
    measured as (b): the encoder streams at 4k too (issue 28: target under 2 GiB beyond the
    baseline; the whole clip would be 8.4 GiB).

    python bench/encode.py [--repeat 3] [--preset veryfast] [--crf 20] [--uhd] [--record]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import machine_description, record_rows

from clipforge.schemas import AspectRatio, Resolution, frame_count, frame_size
from clipforge.video import DEFAULT_CRF, DEFAULT_PRESET, render_video
from clipforge.video.sound import Sound

NATIVE_W, NATIVE_H, NATIVE_FRAMES = 832, 480, 81
WIDTH, HEIGHT = frame_size(Resolution.P1080, AspectRatio.WIDE)
SPEED_TARGET = 1.5
MEMORY_TARGET_MIB = 2048
STEP = 6  # pixels the pattern scrolls per native frame


def _texture() -> np.ndarray:
    """Colour waves plus fixed fine grain, large enough to scroll across for every frame."""
    rows, cols = NATIVE_H + STEP * NATIVE_FRAMES, NATIVE_W + STEP * NATIVE_FRAMES
    y = np.arange(rows, dtype=np.float32)[:, None]
    x = np.arange(cols, dtype=np.float32)[None, :]
    waves = (np.sin(x / 37) + 0.3 * np.sin(y / 5), np.sin(y / 23), np.sin((x + y) / 51))
    rng = np.random.default_rng(0)
    texture = np.empty((rows, cols, 3), np.uint8)
    for channel, wave in enumerate(waves):
        grain = rng.normal(0, 0.06, (rows, cols)).astype(np.float32)
        texture[..., channel] = np.clip(127.5 + 110 * (wave + grain), 0, 255)
    return texture


def native_source(texture: np.ndarray, count: int = NATIVE_FRAMES) -> Iterator[np.ndarray]:
    """Frames made one at a time: the texture pans diagonally and a white square crosses."""
    side = NATIVE_H // 5
    for i in range(count):
        frame = texture[STEP * i : STEP * i + NATIVE_H, STEP * i : STEP * i + NATIVE_W].copy()
        x = (NATIVE_W - side) * i // (count - 1)
        frame[NATIVE_H // 2 - side // 2 : NATIVE_H // 2 + side // 2, x : x + side] = 255
        yield frame


UHD_W, UHD_H = frame_size(Resolution.P4K, AspectRatio.WIDE)
UHD_SECONDS = 15


def _render(
    texture: np.ndarray, out: Path, frames: int, preset: str, crf: int, uhd: bool = False
) -> float:
    started = time.perf_counter()
    width, height = (UHD_W, UHD_H) if uhd else (WIDTH, HEIGHT)
    rate = 48_000
    tone = np.sin(2 * np.pi * 440 * np.arange(UHD_SECONDS * rate) / rate).astype(np.float32)
    render_video(
        native_source(texture),
        src_count=NATIVE_FRAMES,
        out_path=out,
        width=width,
        height=height,
        num_frames=frames,
        watermark=True,
        preset=preset,
        crf=crf,
        metadata={"clipforge_prompt": "benchmark"},
        sound=Sound(0.2 * tone, rate) if uhd else None,
    )
    return time.perf_counter() - started


def measure_speed(repeat: int, preset: str, crf: int) -> tuple[list[float], int]:
    """Wall seconds of each 5 s 1080p render, and the size of the file in bytes."""
    texture = _texture()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "speed.mp4"
        walls = [_render(texture, out, frame_count(5), preset, crf) for _ in range(repeat)]
        return walls, out.stat().st_size


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # the kernel reports kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_high_water() -> bool:
    """Restart VmHWM from the current RSS (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child_memory(preset: str, crf: int, uhd: bool) -> None:
    """Run in the child process: print the baseline and peak RSS as JSON."""
    texture = _texture()
    baseline = _status_mib("VmRSS")
    if not _reset_high_water():  # then set-up spikes count in the baseline too
        baseline = _status_mib("VmHWM")
    frames = frame_count(UHD_SECONDS if uhd else 10)
    with tempfile.TemporaryDirectory() as folder:
        wall = _render(texture, Path(folder) / "memory.mp4", frames, preset, crf, uhd)
    peak = _status_mib("VmHWM")
    print(json.dumps({"baseline_mib": baseline, "peak_mib": peak, "wall_s": wall}))


def measure_memory(preset: str, crf: int, uhd: bool = False) -> dict[str, float]:
    """Baseline and peak RSS of a fresh process rendering a 10 s 1080p clip (or, with `uhd`,
    a 15 s 4k clip with sound)."""
    command = [sys.executable, __file__, "--child-memory", "--preset", preset, "--crf", str(crf)]
    command += ["--uhd"] if uhd else []
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _machine() -> str:
    return f"{machine_description()}, PyAV {av.__version__}, FFmpeg {av.ffmpeg_version_info}"


def _rows(
    walls: list[float], size: int, memory: dict[str, float], args: argparse.Namespace
) -> list[list[str]]:
    wall = statistics.median(walls)
    real = frame_count(5) / 24
    beyond = memory["peak_mib"] - memory["baseline_mib"]
    clip_mib = frame_count(10) * WIDTH * HEIGHT * 3 / 2**20
    setting = f"{args.preset}, crf {args.crf}"
    return [
        [
            f"(a) speed: 5 s {WIDTH}x{HEIGHT}, 121 frames from 81 at {NATIVE_W}x{NATIVE_H}",
            setting,
            f"{wall:.2f} s (median of {len(walls)}; best {min(walls):.2f})",
            f"{wall / real:.2f}x real time",
            f"<= {SPEED_TARGET}x",
            "met" if wall / real <= SPEED_TARGET else "MISSED",
        ],
        [
            f"(b) memory: 10 s {WIDTH}x{HEIGHT}, 241 frames from 81 at {NATIVE_W}x{NATIVE_H}",
            setting,
            f"{beyond:.0f} MiB beyond a {memory['baseline_mib']:.0f} MiB baseline",
            f"{beyond / clip_mib:.3f}x the whole clip ({clip_mib:.0f} MiB)",
            f"< {MEMORY_TARGET_MIB} MiB",
            "met" if beyond < MEMORY_TARGET_MIB else "MISSED",
        ],
        [
            "(a) output file",
            setting,
            f"{size / 2**20:.2f} MiB",
            f"{size * 8 / real / 1e6:.1f} Mbit/s",
            "",
            "",
        ],
    ]


def _uhd_row(memory: dict[str, float], args: argparse.Namespace) -> list[str]:
    beyond = memory["peak_mib"] - memory["baseline_mib"]
    frames = frame_count(UHD_SECONDS)
    clip_mib = frames * UHD_W * UHD_H * 3 / 2**20
    return [
        f"(c) memory: {UHD_SECONDS} s {UHD_W}x{UHD_H} + AAC, {frames} frames from 81",
        f"{args.preset}, crf {args.crf}",
        f"{beyond:.0f} MiB beyond a {memory['baseline_mib']:.0f} MiB baseline "
        f"({memory['wall_s']:.0f} s wall)",
        f"{beyond / clip_mib:.3f}x the whole clip ({clip_mib:.0f} MiB)",
        f"< {MEMORY_TARGET_MIB} MiB",
        "met" if beyond < MEMORY_TARGET_MIB else "MISSED",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--preset", default=DEFAULT_PRESET)
    parser.add_argument("--crf", type=int, default=DEFAULT_CRF)
    parser.add_argument("--record", action="store_true", help="append to docs/BENCHMARKS.md")
    parser.add_argument("--uhd", action="store_true", help="also (c): 4k 15 s with sound")
    parser.add_argument("--child-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_memory:
        child_memory(args.preset, args.crf, args.uhd)
        return
    walls, size = measure_speed(args.repeat, args.preset, args.crf)
    memory = measure_memory(args.preset, args.crf)
    columns = ["case", "x264", "measured", "ratio", "target", "verdict"]
    rows = _rows(walls, size, memory, args)
    if args.uhd:
        rows.append(_uhd_row(measure_memory(args.preset, args.crf, uhd=True), args))
    print(f"machine: {_machine()}")
    for row in rows:
        print(" | ".join(cell for cell in row if cell))
    if args.record:
        record_rows("Video render (bench/encode.py)", columns, rows, _machine())


if __name__ == "__main__":
    main()
