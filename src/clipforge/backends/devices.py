"""The torch device a backend runs on, from CLIPFORGE_DEVICE: one rule for every backend."""

from __future__ import annotations

import torch

from clipforge.errors import ModelUnavailable


def resolve_device(name: str) -> torch.device:
    """`auto` is CUDA when available, else the CPU; anything else is a torch device string."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ModelUnavailable(f"CLIPFORGE_DEVICE={name!r} is not a torch device: {exc}") from exc
