"""A Hugging Face hub cache on disk, filled in code: what `hf download` leaves behind, so that a
profile's LoRA or distilled weights load through the real offline path (HF_HUB_OFFLINE)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

REVISION = "0" * 40


def put_in_hub_cache(cache: Path, repo_id: str, files: dict[str, Path]) -> Path:
    """Store `files` (name in the repository -> a local file or folder) as the snapshot of
    `repo_id` that `main` points at; returns the snapshot folder."""
    root = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = root / "snapshots" / REVISION
    for name, source in files.items():
        target = snapshot / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(REVISION)
    return snapshot


@contextmanager
def offline_hub(cache: Path) -> Iterator[None]:
    """Point the hub client at `cache`, offline, for the block."""
    from huggingface_hub import constants

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "HF_HUB_CACHE", str(cache))
        patch.setattr(constants, "HF_HUB_OFFLINE", True)
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_HUB_CACHE", str(cache))
        yield


def tiny_lora(transformer: torch.nn.Module, path: Path, seed: int, rank: int = 2) -> Path:
    """A PEFT-format LoRA (diffusers keys) on every block's self-attention query and output
    projections of `transformer`, random at a visible scale."""
    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, module in transformer.named_modules():
        wanted = name.endswith(("attn1.to_q", "ffn.net.2"))
        if not wanted or not isinstance(module, torch.nn.Linear):
            continue
        down = torch.randn(rank, module.in_features, generator=generator) * 0.5
        up = torch.randn(module.out_features, rank, generator=generator) * 0.5
        tensors[f"transformer.{name}.lora_A.weight"] = down
        tensors[f"transformer.{name}.lora_B.weight"] = up
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path))
    return path
