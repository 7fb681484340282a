"""`python -m clipforge.backends.diffusers.tiny KIND OUT_DIR [--seed N]`."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import torch
import transformers

from clipforge.backends.diffusers.tiny import KINDS, TRY_SETTINGS, build_tiny_pipeline


def main(argv: list[str] | None = None) -> None:
    """`python -m clipforge.backends.diffusers.tiny KIND OUT_DIR [--seed N]`."""
    parser = argparse.ArgumentParser(
        prog="python -m clipforge.backends.diffusers.tiny",
        description="Write a tiny random-weight diffusers pipeline (for tests; makes noise).",
    )
    parser.add_argument("family", choices=KINDS)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    transformers.utils.logging.disable_progress_bar()
    path = build_tiny_pipeline(args.family, args.out_dir, seed=args.seed)
    shown = str(path) if path.is_absolute() else f"./{path}"  # a folder, not a hub id
    print(f"tiny {args.family} pipeline written to {shown}")
    print(f"try it: {TRY_SETTINGS} clipforge serve --model {shlex.quote(shown)}")


if __name__ == "__main__":
    main()
