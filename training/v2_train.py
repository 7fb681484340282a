"""Train the v2 built-in model (issue 30) from scratch: one command, fixed seed, resumable.

    python -m training.v2_train [--device cuda] [--parser-steps 4000] [--generator-steps 3000]

Stage 1 fits the parser's heads over frozen MiniLM (cross-entropy on labelled captions);
stage 2 the generator's track (pixel loss through its own renderer against `scenes.py`
renders, plus the track's values). A checkpoint (both stages, optimisers, steps) goes to
--checkpoints/latest.pt every --save-minutes and at the end, and is copied to
training/v2_checkpoint/ (tracked: ~6 MB) for the next session; rerunning the same command
resumes. Each step's data comes from a generator seeded with (seed, stage, step), so a resumed
run draws what an uninterrupted one would. --export writes the weights into the package.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from clipforge.backends.builtin.text import TextEncoder
from clipforge.backends.builtin.v2.generator import LayeredGenerator, render
from clipforge.backends.builtin.v2.heads import ParserHeads
from clipforge.backends.builtin.v2.parser import PromptParser, save_heads
from training.v2_data import CaptionPool, generator_batch

HERE = Path(__file__).resolve().parent
CHECKPOINTS = HERE / "checkpoints" / "v2"
TRACKED = HERE / "v2_checkpoint"
PACKAGE_WEIGHTS = HERE.parent / "src" / "clipforge" / "backends" / "builtin" / "v2" / "weights"
# The object is ~5% of a frame but carries the prompt's colour, shape and motion.
OBJECT_WEIGHT = 5.0
# Track values (fractions of the frame) are supervised directly: the pixel loss alone has no
# gradient while the drawn and the true object do not overlap.
TRACK_WEIGHT = 10.0


def parser_step(state: dict, pool: CaptionPool, args: argparse.Namespace) -> float:
    pool.replace([int(i) for i in pool.rng.integers(len(pool.mask), size=args.pool_refresh)])
    batch = pool.batch(args.parser_batch)
    heads = state["heads"].train()
    logits = heads(batch["states"].to(args.device), batch["mask"].to(args.device))
    loss = sum(F.cross_entropy(logits[n], t.to(args.device)) for n, t in batch["targets"].items())
    if len(batch["roles"]):
        roles = heads.roles(
            batch["states"].to(args.device),
            batch["mask"].to(args.device),
            batch["rows"].to(args.device),
            batch["spans"].to(args.device),
        )
        loss = loss + F.cross_entropy(roles, batch["roles"].to(args.device))
    _step(state["parser_optimizer"], heads, loss)
    state["parser_step"] += 1
    return loss.item()


def generator_step(state: dict, args: argparse.Namespace) -> tuple[float, float]:
    rng = np.random.default_rng([args.seed, 2, state["generator_step"]])
    batch = generator_batch(rng, args.generator_batch, args.frames)
    device = torch.device(args.device)
    model = state["generator"].train()
    cond = _to(batch["condition"], device)
    latent = batch["latent"].to(device)
    t = torch.linspace(0.0, 1.0, args.frames, device=device)
    track = model.tracks(cond, latent, t)
    clips, _ = render(cond, track, *batch["size"])
    weight = 1 + OBJECT_WEIGHT * F.max_pool2d(batch["masks"].flatten(0, 1), 3, 1, 1).view_as(
        batch["masks"]
    ).to(device)
    pixels = ((clips - batch["clips"].to(device)).square() * weight).mean() / weight.mean()
    tracks = F.mse_loss(track, batch["tracks"].to(device))
    _step(state["generator_optimizer"], model, pixels + TRACK_WEIGHT * tracks)
    state["generator_step"] += 1
    return pixels.item(), tracks.item()


def _to(cond, device):
    from dataclasses import fields, replace

    return replace(cond, **{f.name: getattr(cond, f.name).to(device) for f in fields(cond)})


def _step(optimizer: torch.optim.Optimizer, model: torch.nn.Module, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def start(args: argparse.Namespace) -> dict:
    torch.manual_seed(args.seed)
    heads, generator = ParserHeads().to(args.device), LayeredGenerator().to(args.device)
    state = {
        "heads": heads,
        "generator": generator,
        "parser_optimizer": torch.optim.AdamW(heads.parameters(), lr=1e-3, weight_decay=0.01),
        "generator_optimizer": torch.optim.AdamW(generator.parameters(), lr=1e-3),
        "parser_step": 0,
        "generator_step": 0,
    }
    for path in (args.checkpoints / "latest.pt", args.tracked / "latest.pt"):
        if path.exists():
            saved = torch.load(path, map_location=args.device, weights_only=False)
            for key, value in saved.items():
                if hasattr(state[key], "load_state_dict"):
                    state[key].load_state_dict(value)
                else:
                    state[key] = value
            print(
                f"resumed from {path}: parser step {state['parser_step']}, "
                f"generator step {state['generator_step']}",
                flush=True,
            )
            break
    return state


def save(state: dict, args: argparse.Namespace) -> None:
    args.checkpoints.mkdir(parents=True, exist_ok=True)
    saved = {k: v.state_dict() if hasattr(v, "state_dict") else v for k, v in state.items()}
    partial = args.checkpoints / "latest.pt.tmp"
    torch.save(saved, partial)
    partial.replace(args.checkpoints / "latest.pt")
    args.tracked.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.checkpoints / "latest.pt", args.tracked / "latest.pt.tmp")
    (args.tracked / "latest.pt.tmp").replace(args.tracked / "latest.pt")


def train(args: argparse.Namespace) -> None:
    """Both stages step in turn (the parser ends first), so a short session moves both."""
    torch.set_num_threads(args.threads)
    state = start(args)
    parser = PromptParser(TextEncoder(args.device), state["heads"])
    # Drawn from (seed, step): a resumed run renews its pool as a fresh one would.
    pool = CaptionPool(
        parser, np.random.default_rng([args.seed, 1, state["parser_step"]]), args.pool
    )
    log = args.log or args.checkpoints / "log.tsv"
    log.parent.mkdir(parents=True, exist_ok=True)
    saved_at, started = time.time(), time.time()
    losses: dict[str, list] = {"parser": [], "generator": []}
    while (
        state["parser_step"] < args.parser_steps or state["generator_step"] < args.generator_steps
    ):
        if state["parser_step"] < args.parser_steps:
            losses["parser"].append((parser_step(state, pool, args),))
            _log(log, "parser", state["parser_step"], losses["parser"], started, args)
        if state["generator_step"] < args.generator_steps:
            losses["generator"].append(generator_step(state, args))
            _log(log, "generator", state["generator_step"], losses["generator"], started, args)
        if time.time() - saved_at > args.save_minutes * 60:
            save(state, args)
            saved_at = time.time()
    save(state, args)


def _log(
    log: Path, stage: str, step: int, losses: list, started: float, args: argparse.Namespace
) -> None:
    """Every --log-every steps: the stage's mean losses since the last line (the generator's:
    pixel, track)."""
    if step % args.log_every:
        return
    means = "\t".join(f"{v:.5f}" for v in np.mean(losses, axis=0))
    line = f"{stage}\t{step}\t{means}\t{time.time() - started:.0f}s"
    print(line, flush=True)
    with log.open("a") as out:
        out.write(line + "\n")
    losses.clear()


def export(args: argparse.Namespace) -> None:
    state = start(args)
    args.export_to.mkdir(parents=True, exist_ok=True)
    save_heads(state["heads"], args.export_to / "parser.safetensors")
    from safetensors.torch import save_file

    tensors = {k: v.detach().contiguous() for k, v in state["generator"].state_dict().items()}
    save_file(
        tensors,
        str(args.export_to / "generator.safetensors"),
        metadata={
            "parser_steps": str(state["parser_step"]),
            "generator_steps": str(state["generator_step"]),
        },
    )
    print(f"exported to {args.export_to}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=30)
    parser.add_argument("--parser-steps", type=int, default=4000)
    parser.add_argument("--parser-batch", type=int, default=64)
    parser.add_argument("--pool", type=int, default=512, help="encoded captions kept")
    parser.add_argument("--pool-refresh", type=int, default=8, help="captions renewed a step")
    parser.add_argument("--generator-steps", type=int, default=3000)
    parser.add_argument("--generator-batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--save-minutes", type=float, default=3.0)
    parser.add_argument("--checkpoints", type=Path, default=CHECKPOINTS)
    parser.add_argument(
        "--tracked", type=Path, default=TRACKED, help="where the checkpoint is copied for git"
    )
    parser.add_argument("--log", type=Path)
    parser.add_argument("--export", action="store_true")
    parser.add_argument(
        "--export-to", type=Path, default=PACKAGE_WEIGHTS, help="--export's folder (the package)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    export(args) if args.export else train(args)


if __name__ == "__main__":
    main()
