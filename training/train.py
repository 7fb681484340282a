"""Train the built-in text-to-video model. Resumable: rerun the same command to go on.

    python training/train.py --steps 20000 [--device cuda] [--batch 32]
    python training/train.py --export      # EMA weights -> src/clipforge/backends/builtin/weights/
    python training/train.py --init-from src/clipforge/backends/builtin/weights   # no checkpoint

Checkpoints (model, EMA, optimiser, step) go to <--checkpoints>/latest.pt
every --save-every steps; a log line per --log-every steps (step, denoising loss, attribute
loss, seconds) goes to <--checkpoints>/log.tsv.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from clipforge.backends.builtin.model import BuiltinConfig, ClipUNet
from clipforge.backends.builtin.text import TextEncoder
from clipforge.backends.builtin.weights import (
    WEIGHTS_DIR,
    load_model,
    read_metadata,
    save_weights,
)
from training.attributes import ATTRIBUTES, attribute_loss, attribute_targets
from training.data import Batch, ClipPool

HERE = Path(__file__).resolve().parent

CHECKPOINTS = HERE / "checkpoints"
GUIDANCE_DROPOUT = 0.1
# The object covers ~5% of a frame but carries everything the prompt asks for (colour, shape,
# motion): its pixels weigh this much more than the background's in the loss.
OBJECT_WEIGHT = 5.0
# A velocity error is the clean-clip error divided by t, so the plain velocity loss weighs a
# sample at t = 0.1 a hundred times one at t = 1: nearly all the gradient went to removing the
# last grain, little to the high-noise steps where only the prompt says where the object goes
# (at step 11,650 the net still drew "left" and "right" alike). Capping each sample's weight
# in clean-clip terms at this value (min-SNR weighting) evens that out.
MAX_CLEAN_WEIGHT = 5.0
# The attribute reader's summed cross-entropy (~7 at the start, near 0 once learned) against a
# denoising loss of ~0.2: strong enough to train the reader within a few hundred steps.
ATTRIBUTE_WEIGHT = 0.1
# Share of captioned rows whose prompt reaches the net through the attribute reader alone
# (`ClipUNet.forward`): at step 16,000 the reader read paraphrased shapes 82% right, yet the
# net drew them 38% right, misled by the raw MiniLM paths it relied on.
READER_ONLY_SHARE = 0.25


def to_tensor(clips: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 (B, T, H, W, 3) -> float (B, 3T, H, W) in [-1, 1]."""
    x = torch.from_numpy(clips).to(device).permute(0, 1, 4, 2, 3).float() / 127.5 - 1.0
    return x.flatten(1, 2)


def training_loss(
    model: ClipUNet,
    encoder: TextEncoder,
    batch: Batch,
    device: torch.device,
    bf16: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(denoising loss, attribute loss) of one batch."""
    x0 = to_tensor(batch.clips, device)
    b = x0.shape[0]
    text = encoder.encode(batch.captions)
    keep = torch.rand(b, device=device) >= GUIDANCE_DROPOUT
    text = text.where(keep, model.null_text(b))
    targets = attribute_targets(batch.described, device, batch.names_background)
    assert model.attribute_reader is not None
    attributes = attribute_loss(model.attribute_reader, text, targets, keep)
    camera = torch.from_numpy(batch.camera_fixed).to(device)
    # Half logit-normal (most of the work mid-way), half uniform: the last, low-noise steps
    # must learn to remove fine grain, which logit-normal alone almost never shows them.
    mid = torch.sigmoid(torch.randn(b, device=device))
    t = torch.where(torch.rand(b, device=device) < 0.5, mid, torch.rand(b, device=device))
    noise = torch.randn_like(x0)
    xt = (1 - t.view(-1, 1, 1, 1)) * x0 + t.view(-1, 1, 1, 1) * noise
    reader_only = torch.rand(b, device=device) < READER_ONLY_SHARE
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        velocity = model.velocity(xt, t, text, camera, reader_only)
    weight = object_weight(batch.masks, device)
    error = (velocity.float() - (noise - x0)).square() * weight
    per_sample = error.flatten(1).sum(1) / weight.flatten(1).sum(1)
    denoising = (per_sample * (MAX_CLEAN_WEIGHT * t.square()).clamp(max=1.0)).mean()
    return denoising, attributes


def object_weight(masks: np.ndarray, device: torch.device) -> torch.Tensor:
    """(B, T, H, W) uint8 coverage -> (B, 3T, H, W) loss weights, the object's edge included."""
    coverage = torch.from_numpy(masks).to(device).float() / 255.0
    coverage = F.max_pool2d(coverage, kernel_size=3, stride=1, padding=1)
    weight = 1.0 + OBJECT_WEIGHT * coverage
    return weight.repeat_interleave(3, dim=1)


def load_or_start(
    config: BuiltinConfig,
    device: torch.device,
    lr: float,
    checkpoints: Path,
    init_from: Path | None = None,
) -> dict:
    """The latest checkpoint; else exported weights (`init_from`) with a fresh optimiser; else
    a new model. Exported weights are committed, checkpoints are not: a lost checkpoint folder
    costs the optimiser state, not the training."""
    model = ClipUNet(config).to(device)
    state = {
        "model": model,
        "ema": copy.deepcopy(model).requires_grad_(False),
        "optimizer": torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01),
        "step": 0,
    }
    path = checkpoints / "latest.pt"
    if path.exists():
        saved = torch.load(path, map_location=device, weights_only=False)
        for key in CHECKPOINTED:
            state[key].load_state_dict(saved[key])
        state["step"] = saved["step"]
        print(f"resumed at step {state['step']}", flush=True)
    elif init_from is not None:
        exported = load_model(init_from, device)
        model.load_state_dict(exported.state_dict())
        state["ema"].load_state_dict(exported.state_dict())
        state["step"] = int(read_metadata(init_from).get("steps", 0))
        print(f"started from exported weights at step {state['step']}", flush=True)
    return state


def save_checkpoint(state: dict, config: BuiltinConfig, checkpoints: Path) -> None:
    checkpoints.mkdir(parents=True, exist_ok=True)
    partial = checkpoints / "latest.pt.tmp"
    saved = {key: state[key].state_dict() for key in CHECKPOINTED}
    torch.save({**saved, "step": state["step"], "config": config.to_dict()}, partial)
    partial.replace(checkpoints / "latest.pt")


CHECKPOINTED = ("model", "ema", "optimizer")


@torch.no_grad()
def update_ema(ema: ClipUNet, model: ClipUNet, decay: float) -> None:
    for target, source in zip(ema.parameters(), model.parameters(), strict=True):
        target.lerp_(source, 1 - decay)


def train_step(state: dict, encoder: TextEncoder, batch: Batch, args: argparse.Namespace) -> tuple:
    """One optimiser step; returns the denoising and attribute losses."""
    model, optimizer = state["model"], state["optimizer"]
    denoising, attribute = training_loss(
        model, encoder, batch, torch.device(args.device), args.bf16
    )
    optimizer.zero_grad(set_to_none=True)
    (denoising + ATTRIBUTE_WEIGHT * attribute).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    state["step"] += 1
    update_ema(state["ema"], model, min(args.ema, (1 + state["step"]) / (10 + state["step"])))
    return denoising.item(), attribute.item()


def train(args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed + int(time.time()))
    config = BuiltinConfig(attributes=ATTRIBUTES)
    state = load_or_start(config, device, args.lr, args.checkpoints, args.init_from)
    encoder = TextEncoder(device)
    pool = ClipPool(config.frames, args.pool, seed=args.seed + state["step"])
    args.checkpoints.mkdir(parents=True, exist_ok=True)
    log = (args.checkpoints / "log.tsv").open("a")
    started, losses = time.time(), []
    while state["step"] < args.steps:
        losses.append(train_step(state, encoder, pool.batch(args.batch), args))
        pool.refresh(args.refresh)
        if state["step"] % args.log_every == 0:
            denoising, attribute = np.mean(losses, axis=0)
            line = f"{state['step']}\t{denoising:.4f}\t{attribute:.4f}\t{time.time() - started:.0f}"
            print(line, flush=True)
            log.write(line + "\n")
            log.flush()
            losses = []
        if state["step"] % args.save_every == 0:
            save_checkpoint(state, config, args.checkpoints)
    save_checkpoint(state, config, args.checkpoints)


def export(args: argparse.Namespace) -> None:
    saved = torch.load(args.checkpoints / "latest.pt", map_location="cpu", weights_only=False)
    config = BuiltinConfig.from_dict(saved["config"])
    model = ClipUNet(config)
    which = "model" if args.raw else "ema"
    model.load_state_dict(saved[which])
    metadata = {"steps": str(saved["step"]), "weights": which}
    path = save_weights(model, args.export_to, metadata=metadata)
    print(f"exported the {which} weights of step {saved['step']} to {path}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=4e-4)
    parser.add_argument("--ema", type=float, default=0.999)
    parser.add_argument("--pool", type=int, default=1500, help="clips kept per native size")
    parser.add_argument("--refresh", type=int, default=4, help="clips re-rendered per step")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--save-every", type=int, default=250)
    parser.add_argument("--export", action="store_true")
    parser.add_argument("--export-to", type=Path, default=WEIGHTS_DIR)
    parser.add_argument(
        "--raw",
        action="store_true",
        help="export the trained weights, not their EMA (which lags ~1,000 steps behind)",
    )
    parser.add_argument("--checkpoints", type=Path, default=CHECKPOINTS)
    parser.add_argument(
        "--init-from", type=Path, help="exported weights to start from when no checkpoint exists"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    export(args) if args.export else train(args)


if __name__ == "__main__":
    main()
