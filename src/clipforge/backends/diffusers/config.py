"""What a diffusers pipeline folder is, read from its own config files (no torch, no weights).

`read_config(weights)` finds the saved configs of `weights` (a local folder, a Hugging Face
cache snapshot, or a hub id already in the local cache; never the network) and returns a
`WeightsConfig`: the pipeline class and its flags from `model_index.json`, and the facts of
the transformer and VAE configs that tell the published models apart (see
`catalog.identify`). `name_hints(weights)` gives the names the weights carry (the
folder name, or the `models--owner--name` component of a cache path), used only to choose
between checkpoints whose configs are identical (Wan 2.1 I2V 480P and 720P).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CACHE_REPO = re.compile(r"^models--(?P<owner>[^/]+?)--(?P<name>.+)$")


@dataclass(frozen=True)
class WeightsConfig:
    """The facts of a saved pipeline that decide how to run it."""

    pipeline_class: str
    boundary_ratio: float | None = None
    """Wan 2.2 A14B: where the second expert (`transformer_2`) takes over."""
    expand_timesteps: bool = False
    """Wan 2.2 TI2V 5B: per-token timesteps (the first frame can be held clean)."""
    has_transformer_2: bool = False
    has_image_encoder: bool = False
    transformer_class: str = ""
    heads: int = 0
    head_dim: int = 0
    layers: int = 0
    in_channels: int = 0
    image_dim: int | None = None
    """Wan 2.1 I2V/FLF2V: width of the CLIP image embeddings the transformer takes."""
    pos_embed_seq_len: int | None = None
    """Wan 2.1 FLF2V: the image-token position table (two images: first and last frame)."""
    vae_class: str = ""
    vae_z_dim: int = 0
    """Wan VAE latent channels: 16 (Wan 2.1 VAE) or 48 (Wan 2.2 VAE)."""
    vae_timestep_conditioning: bool = False
    """LTX-Video 0.9.1+ VAEs decode with a timestep."""
    vae_blocks: tuple[str, ...] = ()
    has_latent_upsampler: bool = False
    """An LTX `latent_upsampler/` folder beside the pipeline's components."""
    text_encoder_class: str = ""
    """The text encoder's class in model_index.json (LTX-2: Gemma3ForConditionalGeneration)."""
    modality_projections: bool = False
    """LTX-2.3 connectors (`connectors/config.json` per_modality_projections)."""
    target_size: int | None = None
    """HunyuanVideo 1.5: the pixel size its sizes are bucketed around (640: 480p, 960: 720p)."""
    use_meanflow: bool = False
    """HunyuanVideo 1.5 480p I2V step-distilled: the MeanFlow time embedding."""
    guider_scale: float | None = None
    """The saved guider's guidance scale (`guider/guider_config.json`; HunyuanVideo 1.5: 6.0,
    CFG-distilled 1.0)."""

    @property
    def width(self) -> int:
        return self.heads * self.head_dim


def read_config(weights: str | Path | None) -> WeightsConfig | None:
    """The saved configs of `weights`, or None when they are not on this machine."""
    folder = config_folder(weights)
    if folder is None:
        return None
    index = _json(folder / "model_index.json")
    if not index or "_class_name" not in index:
        return None
    transformer = _json(folder / "transformer" / "config.json")
    vae = _json(folder / "vae" / "config.json")
    connectors = _json(folder / "connectors" / "config.json")
    guider = _json(folder / "guider" / "guider_config.json")
    return WeightsConfig(
        pipeline_class=str(index["_class_name"]),
        boundary_ratio=index.get("boundary_ratio"),
        expand_timesteps=bool(index.get("expand_timesteps", False)),
        has_transformer_2=_component(index, "transformer_2"),
        has_image_encoder=_component(index, "image_encoder"),
        transformer_class=str(transformer.get("_class_name", "")),
        heads=int(transformer.get("num_attention_heads") or 0),
        head_dim=int(transformer.get("attention_head_dim") or 0),
        layers=int(transformer.get("num_layers") or 0),
        in_channels=int(transformer.get("in_channels") or 0),
        image_dim=transformer.get("image_dim"),
        pos_embed_seq_len=transformer.get("pos_embed_seq_len"),
        vae_class=str(vae.get("_class_name", "")),
        vae_z_dim=int(vae.get("z_dim") or vae.get("latent_channels") or 0),
        vae_timestep_conditioning=bool(vae.get("timestep_conditioning", False)),
        vae_blocks=tuple(vae.get("down_block_types") or ()),
        has_latent_upsampler=(folder / "latent_upsampler" / "config.json").is_file(),
        text_encoder_class=_class_of(index, "text_encoder"),
        modality_projections=bool(connectors.get("per_modality_projections", False)),
        target_size=transformer.get("target_size"),
        use_meanflow=bool(transformer.get("use_meanflow", False)),
        guider_scale=guider.get("guidance_scale"),
    )


def config_folder(weights: str | Path | None) -> Path | None:
    """The folder holding `model_index.json` for `weights`: the folder itself, or the hub
    cache snapshot of a hub id (looked up locally only)."""
    if not weights:
        return None
    path = Path(weights).expanduser()
    if path.is_dir():
        return path
    text = str(weights).strip()
    if text.count("/") != 1 or text.startswith((".", "/", "~")):
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # the API-only install has no hub client: names decide
        return None
    found = try_to_load_from_cache(text, "model_index.json")
    return Path(found).parent if isinstance(found, str) else None


def name_hints(weights: str | Path | None) -> list[str]:
    """Names `weights` carries, most specific first: the hub id itself, the `owner/name` of a
    hub cache path (`.../models--Wan-AI--Wan2.1-T2V-1.3B-Diffusers/snapshots/<hash>`), the
    folder's own name."""
    if not weights:
        return []
    text = str(weights).strip()
    hints = [text]
    path = Path(text).expanduser()
    for part in reversed(path.parts):
        match = _CACHE_REPO.match(part)
        if match:
            hints.append(f"{match['owner']}/{match['name']}")
            break
    hints.append(path.name)
    return list(dict.fromkeys(h for h in hints if h))


def repository_names(weights: str | Path | None) -> list[str]:
    """The hub repositories `weights` names for certain: itself when it is a hub id
    (`owner/name` that is no folder here), and the `owner/name` of a hub cache path. A
    folder's own name is not one: folders get renamed."""
    if not weights:
        return []
    text = str(weights).strip()
    path = Path(text).expanduser()
    names = []
    if text.count("/") == 1 and not text.startswith((".", "/", "~")) and not path.exists():
        names.append(text)
    for part in reversed(path.parts):
        match = _CACHE_REPO.match(part)
        if match:
            names.append(f"{match['owner']}/{match['name']}")
            break
    return names


def _component(index: dict[str, Any], name: str) -> bool:
    value = index.get(name)
    return isinstance(value, list) and len(value) == 2 and value[1] is not None


def _class_of(index: dict[str, Any], name: str) -> str:
    value = index.get(name)
    return str(value[1]) if isinstance(value, list) and len(value) == 2 and value[1] else ""


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
