"""Evaluate the built-in model: generate clips for prompts it never saw, analyse them, score.

    python training/eval.py [--n 64] [--weights DIR | --checkpoint] [--record]

Three suites, each over scenes whose (colour, shape, motion) combination was held out of
training (scenes.HELD_OUT):
- templated: the canonical caption ("a red circle moving to the left on ...");
- paraphrase: words and sentence frames never used in training ("a crimson orb drifting ...");
- camerafixed: templated captions of moving-camera scenes, generated with camera_fixed=true:
  the background must stay still.
A clip is correct when colour, shape and motion all match (training/analyse.py decides).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from clipforge.backends.builtin.backend import GUIDANCE, READER_ONLY
from clipforge.backends.builtin.model import BuiltinConfig, ClipUNet
from clipforge.backends.builtin.sampler import sample
from clipforge.backends.builtin.text import TextEncoder
from clipforge.backends.builtin.weights import WEIGHTS_DIR, load_model
from training.analyse import analyse, check
from training.captions import paraphrase_caption, template_caption
from training.scenes import Scene, random_scene

HERE = Path(__file__).resolve().parent

SIZES = [(56, 32), (32, 32), (32, 56)]
TEXTURED = ["stripes", "checker", "dots"]


def load(args: argparse.Namespace) -> ClipUNet:
    if not args.checkpoint:
        return load_model(Path(args.weights))
    saved = torch.load(HERE / "checkpoints" / "latest.pt", map_location="cpu", weights_only=False)
    model = ClipUNet(BuiltinConfig.from_dict(saved["config"]))
    model.load_state_dict(saved["ema"])
    print(f"checkpoint at step {saved['step']}")
    return model.eval()


def generate(
    model: ClipUNet,
    encoder: TextEncoder,
    prompts: list[str],
    camera_fixed: bool,
    size: tuple[int, int],
    steps: int,
    seed: int,
    reader_only: bool,
) -> np.ndarray:
    """uint8 clips (B, T, H, W, 3)."""
    width, height = size
    clips = sample(
        model,
        encoder.encode(prompts),
        torch.full((len(prompts),), camera_fixed),
        height=height,
        width=width,
        steps=steps,
        guidance=GUIDANCE,
        generator=torch.Generator().manual_seed(seed),
        reader_only=reader_only,
    )
    pixels = ((clips + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return pixels.permute(0, 1, 3, 4, 2).numpy()


def run_suite(
    name: str,
    scenes: list[Scene],
    caption: Callable[[Scene], str],
    camera_fixed: bool,
    make: Callable[[list[str], bool, tuple[int, int], int], np.ndarray],
    batch: int = 16,
) -> dict[str, float]:
    hits: dict[str, list[bool]] = {}
    for start in range(0, len(scenes), batch):
        chunk = scenes[start : start + batch]
        size = SIZES[(start // batch) % len(SIZES)]
        clips = make([caption(s) for s in chunk], camera_fixed, size, start)
        for scene, clip in zip(chunk, clips, strict=True):
            analysis = analyse(clip)
            verdict = check(analysis, scene, camera_fixed=camera_fixed)
            if camera_fixed:
                # A background drawn without its texture would look still whatever the camera
                # did: only a still background that shows its texture counts.
                still = verdict["camera_still"] and analysis.camera_observable
                verdict = {"camera_still": still, "textured": analysis.camera_observable}
            else:
                verdict = {k: v for k, v in verdict.items() if k != "camera_still"}
                verdict["all"] = all(verdict.values())
            for key, value in verdict.items():
                hits.setdefault(key, []).append(value)
    scores = {key: float(np.mean(values)) for key, values in hits.items()}
    print(name, json.dumps({k: round(v, 3) for k, v in scores.items()}), flush=True)
    return scores


def evaluate(
    model: ClipUNet, n: int, steps: int, seed: int = 1, reader_only: bool = READER_ONLY
) -> dict[str, dict[str, float]]:
    encoder = TextEncoder()
    rng = np.random.default_rng(seed)
    scenes = [random_scene(rng, held_out=True) for _ in range(n)]
    # Camera motion is visible only over a texture: the still-camera suite uses textured scenes.
    moving = [
        replace(s, camera=str(rng.choice(["pan", "zoom"])), background=str(rng.choice(TEXTURED)))
        for s in scenes
    ]

    def make(prompts: list[str], fixed: bool, size: tuple[int, int], offset: int) -> np.ndarray:
        return generate(model, encoder, prompts, fixed, size, steps, seed + offset, reader_only)

    return {
        "templated": run_suite("templated", scenes, template_caption, False, make),
        "paraphrase": run_suite("paraphrase", scenes, paraphrase_caption, False, make),
        "camerafixed": run_suite("camerafixed", moving, template_caption, True, make),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=64, help="scenes per suite")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--weights", default=str(WEIGHTS_DIR))
    parser.add_argument("--checkpoint", action="store_true", help="use the training EMA")
    parser.add_argument("--out", type=Path, help="write the scores as JSON here")
    parser.add_argument(
        "--reader-only",
        action=argparse.BooleanOptionalAction,
        default=READER_ONLY,
        help="the prompt reaches the net through its reader alone (as the backend samples)",
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    scores = evaluate(load(args), args.n, args.steps, reader_only=args.reader_only)
    if args.out:
        args.out.write_text(json.dumps(scores, indent=2) + "\n")


if __name__ == "__main__":
    main()
