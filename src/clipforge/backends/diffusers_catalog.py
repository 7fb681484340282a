"""The open text-to-video models ClipForge knows by name, as data (no torch import).

Each `CatalogEntry` names a published diffusers pipeline (hub id and pipeline class) and the
rules that plan a request for it (`ModelFamily`: frame rate, frame-count rule, size multiple,
native short side, sampling defaults). Facts checked against the diffusers pipelines
(`WanPipeline`, `LTXPipeline`, `LTXConditionPipeline` of diffusers 0.42), their docs, and the
upstream Wan 2.1/2.2 inference configs (`sample_fps`, `frame_num`, `sample_steps`,
`sample_guide_scale`, `vae_stride`).

An operator picks an entry with `CLIPFORGE_MODEL=<name>` (or a folder / hub id); which entry
serves which API id under `CLIPFORGE_MODEL=catalogue` is the model routing's
(`clipforge/routing.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from clipforge.backends.base import Capabilities

WAN_NEGATIVE_PROMPT = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, "
    "images, static, overall gray, worst quality, low quality, JPEG compression residue, ugly, "
    "incomplete, extra fingers, poorly drawn hands, poorly drawn faces, deformed, disfigured, "
    "misshapen limbs, fused fingers, still picture, messy background, three legs, many people "
    "in the background, walking backwards"
)
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"


@dataclass(frozen=True)
class ModelFamily:
    """The facts about one family of pipelines that planning and sampling need."""

    name: str
    pipeline_classes: tuple[str, ...]
    """Pipeline class names (or base class names) that belong to the family."""
    fps: float
    frame_step: int
    """Valid frame counts are frame_step * k + 1 (the VAE's temporal compression)."""
    size_multiple: int
    """Width and height must be multiples of this (VAE spatial compression x patch size)."""
    short_side: int
    steps: int
    guidance_scale: float | None = None
    """None: the pipeline's own default."""
    negative_prompt: str | None = None
    fps_argument: str | None = None
    """Name of the pipeline argument that takes the frame rate, if it has one."""
    description: str = ""
    guidance_scale_2: float | None = None
    """Wan 2.2 A14B: guidance of the second (low-noise) expert."""
    extra_arguments: Mapping[str, float] = field(default_factory=dict)
    """Further pipeline arguments (LTX: decode_timestep, decode_noise_scale)."""


WAN = ModelFamily(
    name="wan",
    pipeline_classes=("WanPipeline",),
    fps=16,
    frame_step=4,
    size_multiple=16,
    short_side=480,
    steps=50,
    guidance_scale=5.0,
    negative_prompt=WAN_NEGATIVE_PROMPT,
    description="Wan 2.1/2.2 text-to-video through diffusers.",
)
LTX = ModelFamily(
    name="ltx",
    pipeline_classes=("LTXPipeline", "LTXConditionPipeline"),
    fps=24,
    frame_step=8,
    size_multiple=32,
    short_side=512,
    steps=50,
    guidance_scale=3.0,
    negative_prompt=LTX_NEGATIVE_PROMPT,
    fps_argument="frame_rate",
    description="LTX-Video text-to-video through diffusers.",
)
FAMILIES: tuple[ModelFamily, ...] = (WAN, LTX)


@dataclass(frozen=True)
class CatalogEntry:
    """One published model: where its weights are and how to sample it."""

    name: str
    hub_id: str
    pipeline_class: str
    parameters: str
    native_sizes: tuple[tuple[int, int], ...]
    """(width, height) landscape sizes the model was trained at; the first is the default."""
    rules: ModelFamily
    distilled: bool = False

    @property
    def default_frames(self) -> int:
        """Frames of a 5 s clip under the entry's frame rule (81 Wan 2.1, 121 LTX)."""
        step = self.rules.frame_step
        return round(5 * self.rules.fps / step) * step + 1


def _wan(short_side: int, **changes: object) -> ModelFamily:
    values: dict[str, object] = {"short_side": short_side} | changes
    return ModelFamily(**{**WAN.__dict__, **values})  # type: ignore[arg-type]


def _ltx(**changes: object) -> ModelFamily:
    return ModelFamily(**{**LTX.__dict__, **changes})  # type: ignore[arg-type]


ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "wan2.1-t2v-1.3b",
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
        "WanPipeline",
        "1.3B",
        ((832, 480),),
        _wan(480, description="Wan 2.1 T2V 1.3B: 480p, 16 fps; fits a 24 GB GPU."),
    ),
    CatalogEntry(
        "wan2.1-t2v-14b",
        "Wan-AI/Wan2.1-T2V-14B-Diffusers",
        "WanPipeline",
        "14B",
        ((1280, 720), (832, 480)),
        _wan(720, description="Wan 2.1 T2V 14B: 720p or 480p, 16 fps."),
    ),
    CatalogEntry(
        "wan2.2-ti2v-5b",
        "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        "WanPipeline",
        "5B",
        ((1280, 704),),
        # Wan 2.2 VAE: 16x spatial (x2 patch = 32), 4x temporal; 121 frames at 24 fps.
        _wan(704, fps=24, size_multiple=32, description="Wan 2.2 TI2V 5B (text-to-video use)."),
    ),
    CatalogEntry(
        "wan2.2-t2v-a14b",
        "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
        "WanPipeline",
        "2x14B (MoE)",
        ((1280, 720), (832, 480)),
        # Two experts: guidance 4.0 on the high-noise one, 3.0 on the low-noise one; 40 steps.
        _wan(
            720,
            steps=40,
            guidance_scale=4.0,
            guidance_scale_2=3.0,
            description="Wan 2.2 T2V A14B (two 14B experts): 720p or 480p, 16 fps.",
        ),
    ),
    CatalogEntry(
        "ltx-video-0.9.5",
        "Lightricks/LTX-Video-0.9.5",
        "LTXConditionPipeline",
        "2B",
        ((768, 512),),
        _ltx(
            extra_arguments={"decode_timestep": 0.05, "decode_noise_scale": 0.025},
            description="LTX-Video 0.9.5 (2B): 768x512, 24 fps.",
        ),
    ),
    CatalogEntry(
        "ltx-video-0.9.7-distilled",
        "Lightricks/LTX-Video-0.9.7-distilled",
        "LTXConditionPipeline",
        "13B",
        ((768, 512),),
        # Step- and guidance-distilled: a few steps, guidance 1.0 (off), no negative prompt.
        _ltx(
            steps=8,
            guidance_scale=1.0,
            negative_prompt=None,
            extra_arguments={"decode_timestep": 0.05, "decode_noise_scale": 0.025},
            description="LTX-Video 0.9.7 distilled (13B): 8 steps, no guidance.",
        ),
        distilled=True,
    ),
)
CATALOGUE: Mapping[str, CatalogEntry] = MappingProxyType({e.name: e for e in ENTRIES})


def find_entry(weights: str) -> CatalogEntry | None:
    """The entry named `weights`, or whose hub id or hub repository name it is (a folder made
    by `hf download --local-dir` carries that name); case-insensitive; else None."""
    key = weights.strip().lower()
    for entry in ENTRIES:
        hub_id = entry.hub_id.lower()
        if key in (entry.name, hub_id, hub_id.split("/")[-1]):
            return entry
    return None


def capabilities_for(weights: str | None) -> Capabilities:
    """What the weights can do, from their catalogue entry (a folder or hub id the catalogue
    does not know gets the generic text-to-video capabilities)."""
    entry = (find_entry(weights) or find_entry(Path(weights).name)) if weights else None
    if entry is None:
        return Capabilities(fps=16, description="A diffusers text-to-video pipeline.")
    return Capabilities(fps=entry.rules.fps, description=entry.rules.description)
