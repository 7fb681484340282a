"""Fit the attribute reader alone, the rest of the model frozen, inside a training checkpoint.

For when the reader's design or the caption vocabulary changes: training then resumes with a
reader that already reads the prompt, instead of one whose random output would feed the UNet
noise through the condition and undo what it learnt. The reader's embedding into the
condition is kept as trained (the UNet learnt to use it), so only how the prompt is read
changes. Parameters whose shape changed start fresh; the optimiser state starts fresh.

    python training/refit_reader.py [--checkpoints DIR] [--steps 600]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from clipforge.backends.builtin.attributes import AttributeReader
from clipforge.backends.builtin.model import BuiltinConfig, ClipUNet
from clipforge.backends.builtin.text import TextEncoder
from training.attributes import ATTRIBUTES, attribute_loss, attribute_targets
from training.data import ClipPool
from training.train import CHECKPOINTS, save_checkpoint

HERE = Path(__file__).resolve().parent


def load_matching(model: ClipUNet, saved: dict[str, torch.Tensor]) -> list[str]:
    """Loads every saved tensor whose name and shape still fit; returns the names that
    start fresh."""
    own = model.state_dict()
    fits = {k: v for k, v in saved.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(fits, strict=False)
    return sorted(set(own) - set(fits))


def fit_reader(
    reader: AttributeReader, encoder: TextEncoder, pool: ClipPool, steps: int, batch: int
) -> float:
    """Cross-entropy training of everything in the reader but its embedding; returns the last
    step's loss."""
    parameters = [p for name, p in reader.named_parameters() if not name.startswith("embedding")]
    optimizer = torch.optim.AdamW(parameters, lr=2e-3)
    keep = torch.ones(batch, dtype=torch.bool)
    loss = torch.zeros(())
    for _ in range(steps):
        drawn = pool.batch(batch)
        targets = attribute_targets(drawn.described, torch.device("cpu"), drawn.names_background)
        loss = attribute_loss(reader, encoder.encode(drawn.captions), targets, keep)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return float(loss.detach())


def refit(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    path = args.checkpoints / "latest.pt"
    saved = torch.load(path, map_location="cpu", weights_only=False)
    config = BuiltinConfig.from_dict({**saved["config"], "attributes": ATTRIBUTES})
    model, ema = ClipUNet(config), ClipUNet(config)
    fresh = load_matching(model, saved["model"])
    load_matching(ema, saved["ema"])
    print(f"fitting the reader; fresh: {', '.join(fresh) or 'nothing'}", flush=True)
    assert model.attribute_reader is not None and ema.attribute_reader is not None
    pool = ClipPool(config.frames, args.pool, seed=args.seed)
    loss = fit_reader(model.attribute_reader, TextEncoder(), pool, args.steps, args.batch)
    print(f"reader loss after {args.steps} steps: {loss:.4f}", flush=True)
    fitted = model.attribute_reader.state_dict()
    read_part = {k: v for k, v in fitted.items() if not k.startswith("embedding.")}
    ema.attribute_reader.load_state_dict(read_part, strict=False)
    state = {
        "model": model,
        "ema": ema.requires_grad_(False),
        "optimizer": torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01),
        "step": saved["step"],
    }
    save_checkpoint(state, config, args.checkpoints)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoints", type=Path, default=CHECKPOINTS)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--pool", type=int, default=100, help="scenes per native size")
    parser.add_argument("--lr", type=float, default=4e-4, help="of the fresh optimiser")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    refit(parser.parse_args(argv))


if __name__ == "__main__":
    main()
