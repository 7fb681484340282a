"""Saving and loading the built-in model: safetensors weights plus a JSON config."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from clipforge.backends.builtin.model import BuiltinConfig, ClipUNet
from clipforge.errors import ModelUnavailable

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS_FILE = "builtin.safetensors"
CONFIG_FILE = "config.json"


def save_weights(model: ClipUNet, folder: Path, metadata: dict[str, str] | None = None) -> Path:
    """Half-precision weights (the model runs in fp32 or bf16; fp16 storage halves the size)."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    path = folder / WEIGHTS_FILE
    save_file(tensors, str(path), metadata=metadata or {})
    (folder / CONFIG_FILE).write_text(json.dumps(model.config.to_dict(), indent=2) + "\n")
    return path


def load_model(folder: Path = WEIGHTS_DIR, device: str | torch.device = "cpu") -> ClipUNet:
    """The model with its weights, in fp32 and eval mode."""
    weights, config_path = folder / WEIGHTS_FILE, folder / CONFIG_FILE
    if not weights.is_file() or not config_path.is_file():
        raise ModelUnavailable(
            f"built-in model weights not found in {folder} (expected {WEIGHTS_FILE} and "
            f"{CONFIG_FILE}); train them with `python -m training.train` and export with --export"
        )
    model = ClipUNet(BuiltinConfig.from_dict(json.loads(config_path.read_text())))
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    model.load_state_dict(state)
    return model.to(device).eval()


def read_metadata(folder: Path = WEIGHTS_DIR) -> dict[str, str]:
    """The metadata saved with the weights (training steps, ...); empty when there is none."""
    with safe_open(str(folder / WEIGHTS_FILE), framework="pt") as weights:
        return dict(weights.metadata() or {})
