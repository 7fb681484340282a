"""Shared test set-up: one torch thread (two threads on a busy 2-core box are 10x slower)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

try:
    import torch
except ImportError:  # the API-only install has no torch
    torch = None  # type: ignore[assignment]
else:
    torch.set_num_threads(1)
