"""Evaluate the built-in model through its backend (what `clipforge serve` runs): n prompts
per suite, every figure with a 95% Wilson interval.

    python -m training.eval [--n 64] [--seconds 2] [--weights DIR] [--out scores.json]

Each case is a request to `BuiltinBackend` (480p, 16:9: native 342 x 192); the reading comes
from `interpret`, the frames from `generate` (before the lossy encoding).
- templated / paraphrase: the reading (shape, motion, colour, background, tone) is the
  prompt's, and the picture is (the asked colour as one clean object in >= 95% of frames,
  moving as asked): "all" is every check at once;
- colour_held_out: table names no training caption used; the object's rendered colour within
  CIEDE2000 15 of the named one;
- clean_frames: every --every-th frame of the three suites above: the pixels within
  CIEDE2000 15 of the asked colour form one compact blob (the largest component fills >= 35%
  of its box, other pixels of that colour < 5% of it);
- reading_matches_frame: the reading describes the frame, whatever was asked: an object of the
  reported colour (CIEDE2000 <= 15), the reported tone covering >= 25% of the frame away from
  it (stripes and checks are half tone, half shade), and a plain background exactly when no
  other colour covers >= 2% of the frame;
- camerafixed: prompts that ask for a pan or a zoom over a pattern, with camera_fixed: every
  pixel away from the object is the same in every frame;
- first_last_frames: `scenes.py` frames as image_url and last_image_url (each case both, or
  one): PSNR of the clip's first / last frame against the image fitted to the native size.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from scipy import ndimage

from clipforge.backends.base import ImageInput
from clipforge.backends.builtin.backend import BuiltinBackend
from clipforge.backends.builtin.v2.colours import colour_table
from clipforge.schemas import GenerationRequest
from clipforge.settings import Settings
from clipforge.video.resize import resize_frame
from training.captions import BACKGROUND_PHRASES, PARAPHRASE_MOTIONS, PARAPHRASE_SHAPES
from training.measures import (
    CLOSE,
    background_colours,
    distance,
    figure,
    motion_of,
    near,
    object_blob,
    psnr,
)
from training.scenes import random_scene, render_scene
from training.v2_captions import HELD_OUT_COLOURS, TRAIN_COLOURS
from training.vocabulary import MOTION_PHRASES

APART = 40.0  # CIEDE2000 between the object's colour and the background's two
MOTIONS = tuple(MOTION_PHRASES)
BACKGROUNDS = ("plain", "stripes", "checker", "dots")
MODEL = "bytedance/seedance-1-0-pro-t2v"


def request(prompt: str, seed: int, seconds: int, **fields: object) -> GenerationRequest:
    values = {"model": MODEL, "prompt": prompt, "seed": seed, "resolution": "480p"}
    return GenerationRequest.model_validate({**values, "frame_count": seconds * 24 + 1, **fields})


def pick_tone(rng: np.random.Generator, rgb: tuple[int, int, int]) -> str:
    """A table colour for the background far from the object's, pattern shade included."""
    table = colour_table().names
    while True:
        tone = TRAIN_COLOURS[int(rng.integers(len(TRAIN_COLOURS)))]
        value = np.array(table[tone], dtype=float)
        shade = value * 0.75 if value.mean() > 128 else np.clip(value * 1.6 + 25, 0, 255)
        if min(distance(value, rgb), distance(shade, rgb)) > APART and " " not in tone:
            return tone


def cases(n: int, seed: int, colours: list[str], paraphrase: bool) -> list[dict]:
    rng = np.random.default_rng(seed)
    table = colour_table().names
    out = []
    for index in range(n):
        name = colours[int(rng.integers(len(colours)))]
        shape = ("circle", "square", "triangle", "cross")[index % 4]
        motion = MOTIONS[int(rng.integers(len(MOTIONS)))]
        background = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
        tone = pick_tone(rng, table[name])
        place = BACKGROUND_PHRASES[background][0].format(tone=tone)
        if paraphrase:
            words = (
                f"a clip showing one {name} {PARAPHRASE_SHAPES[shape]} {PARAPHRASE_MOTIONS[motion]}"
            )
        else:
            words = f"a {name} {shape} {MOTION_PHRASES[motion][0]}"
        out.append(
            {
                "prompt": f"{words} on {place}",
                "colour": name,
                "rgb": table[name],
                "shape": shape,
                "motion": motion,
                "background": background,
                "tone": tone,
            }
        )
    return out


def name(value: str) -> str:
    """A reading's value without its "(not said)" note."""
    return value.split(" (")[0]


def run_case(backend: BuiltinBackend, case: dict, seed: int, args: argparse.Namespace) -> dict:
    req = request(case["prompt"], seed, args.seconds)
    read = {k: name(v) for k, v in backend.interpret(req).attributes.items()}
    clip = backend.generate(req, lambda done, total: None)
    frames = np.stack(list(clip.frames))[:: args.every]
    verdicts = [object_blob(f, case["rgb"]) for f in frames]
    found = [v[1] for v in verdicts]
    blobs = [f for f in found if f is not None]
    x, y = (int(v) for v in blobs[0][:2]) if blobs else (0, 0)
    drawn = frames[0, y, x] if blobs else np.zeros(3)
    checks = {
        # Colours by value: the table has names with the same words ("purple/pink").
        "reading": all(read[k] == case[k] for k in ("shape", "motion", "background"))
        and all(_same_colour(read[k], case[k]) for k in ("colour", "tone")),
        "clean_clip": float(np.mean([v[0] for v in verdicts])) >= 0.95,
        "motion": motion_of(found, clip.width, clip.height) == case["motion"],
        "colour": bool(blobs) and float(distance(drawn, case["rgb"])) <= CLOSE,
    }
    checks["all"] = all(checks.values())
    checks["reading_matches_frame"] = matches_frame(read, frames[0])
    return {"checks": checks, "read": read, "clean": [bool(v[0]) for v in verdicts]}


def matches_frame(read: dict[str, str], frame: np.ndarray) -> bool:
    """The reading describes the frame, asked or not: an object of the reported colour, the
    reported tone covering >= 25% of the rest, and a pattern exactly when it reports one."""
    table = colour_table().names
    rgb = table.get(read["colour"], (0, 0, 0))
    tone = table.get(read["tone"], (0, 0, 0))
    colours = background_colours(frame, rgb)
    return (
        object_blob(frame, rgb)[1] is not None
        and any(share >= 0.25 and float(distance(c, tone)) <= CLOSE for c, share in colours)
        and (read["background"] == "plain") == (len(colours) == 1)
    )


def _same_colour(read: str, asked: str) -> bool:
    table = colour_table().names
    return read in table and float(distance(table[read], table[asked])) <= CLOSE


def still_case(backend: BuiltinBackend, case: dict, index: int, args: argparse.Namespace) -> dict:
    """camera_fixed on a prompt asking for a pan or a zoom: every pixel away from the object
    is the same in every frame."""
    if case["background"] == "plain":
        case = {**case, "prompt": case["prompt"].replace("plain ", "striped ")}
    camera = ("the camera pans left", "the camera pans right", "the camera zooms in")[index % 3]
    req = request(f"{case['prompt']}, {camera}", index, args.seconds, camera_fixed=True)
    frames = np.stack(list(backend.generate(req, lambda d, t: None).frames)).astype(int)
    seen = np.any(near(frames, case["rgb"]), axis=0)  # the object, ever
    away = ~ndimage.binary_dilation(seen, iterations=2)  # and its soft edge
    changed = np.abs(frames - frames[:1]).max(axis=(0, 3))[away]
    return {"still": bool(away.any()) and float((changed <= 8).mean()) >= 0.99}


def frames_case(
    backend: BuiltinBackend, index: int, rng: np.random.Generator, args: argparse.Namespace
) -> dict:
    """`scenes.py` frames as the first and/or last image (both, first, last in turn): the
    PSNR of the clip's first / last frame against the image fitted to the native size."""
    scene = replace(random_scene(rng), camera="fixed")
    shots = render_scene(scene, 854, 480, 2)
    given = ("both", "first", "last")[index % 3]
    images = ImageInput(
        shots[0] if given != "last" else None, shots[1] if given != "first" else None
    )
    prompt = f"a {scene.colour} {scene.shape} {MOTION_PHRASES[scene.motion][0]}"
    clip = backend.generate(request(prompt, index, args.seconds), lambda d, t: None, images)
    frames = np.stack(list(clip.frames))
    out = {}
    for name, image, frame in (("first", images.first, 0), ("last", images.last, -1)):
        if image is not None:
            out[f"{name}_psnr"] = psnr(frames[frame], resize_frame(image, clip.width, clip.height))
    return out


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "min": round(min(values), 2),
        "median": round(float(np.median(values)), 2),
        "n": len(values),
    }


SUITES = (
    ("templated", 1, TRAIN_COLOURS, False),
    ("paraphrase", 2, TRAIN_COLOURS, True),
    ("colour_held_out", 3, sorted(HELD_OUT_COLOURS), False),
)


def evaluate(backend: BuiltinBackend, args: argparse.Namespace, log: Callable = print) -> dict:
    """Case i of every suite before case i + 1 of any, each case logged as one JSON line
    (`records`): a run stopped early still gives every suite its share (`summarise`)."""
    suites = {name: cases(args.n, seed, colours, para) for name, seed, colours, para in SUITES}
    still = cases(args.n, 4, TRAIN_COLOURS, False)
    rng = np.random.default_rng(5)
    records = []
    for index in range(args.n):
        if index < getattr(args, "start", 0):
            random_scene(rng)  # the frames case's draw: later cases stay the same
            continue
        found = [
            {
                "suite": name,
                "prompt": suite[index]["prompt"],
                **run_case(backend, suite[index], index, args),
            }
            for name, suite in suites.items()
        ]
        found.append({"suite": "camerafixed", **still_case(backend, still[index], index, args)})
        found.append({"suite": "first_last_frames", **frames_case(backend, index, rng, args)})
        for record in found:
            log(json.dumps({"case": index, **record}))
        records.extend(found)
    return summarise(records)


def summarise(records: list[dict]) -> dict:
    """The figures of issue 30 from per-case records (as `evaluate` logs them)."""
    scores: dict[str, object] = {}
    for name, *_ in SUITES:
        rows = [r for r in records if r["suite"] == name]
        keys = rows[0]["checks"] if rows else {}
        scores[name] = {k: figure([r["checks"][k] for r in rows]) for k in keys}
    picture = [r for r in records if "checks" in r]
    scores["clean_frames"] = figure([c for r in picture for c in r["clean"]])
    scores["reading_matches_frame"] = figure(
        [r["checks"]["reading_matches_frame"] for r in picture]
    )
    scores["camerafixed"] = figure([r["still"] for r in records if r["suite"] == "camerafixed"])
    firsts = [r["first_psnr"] for r in records if "first_psnr" in r]
    lasts = [r["last_psnr"] for r in records if "last_psnr" in r]
    scores["first_last_frames"] = {
        "first_psnr_db": _spread(firsts),
        "last_psnr_db": _spread(lasts),
        "first_at_least_30db": figure([v >= 30 for v in firsts]),
        "last_at_least_25db": figure([v >= 25 for v in lasts]),
    }
    return scores


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=64, help="cases per suite")
    parser.add_argument("--seconds", type=int, default=2, help="each clip's length")
    parser.add_argument("--every", type=int, default=3, help="frames sampled: every k-th")
    parser.add_argument(
        "--start", type=int, default=0, help="skip the cases before this index (a resumed run)"
    )
    parser.add_argument("--weights", help="a folder with parser and generator weights")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", help="write the scores as JSON here")
    parser.add_argument(
        "--summarise", help="only the figures of a (partial) run's log of JSON case lines"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.summarise:
        with open(args.summarise) as lines:
            records = [json.loads(line) for line in lines if line.startswith('{"case"')]
        scores = summarise(records)
    else:
        import torch

        torch.set_num_threads(args.threads)
        backend = BuiltinBackend.from_settings(Settings(backend="builtin", model=args.weights))
        scores = evaluate(backend, args, log=lambda line: print(line, flush=True))
    text = json.dumps(scores, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text + "\n")
    return scores


if __name__ == "__main__":
    main()
