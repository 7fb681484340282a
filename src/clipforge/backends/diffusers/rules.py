"""The rules that plan and sample one family of diffusers video pipelines, as data (no torch).

`ModelFamily` holds what the backend needs to know about a model: frame rate and frame-count
rule, size multiple, the native short side for each requested resolution, sampling defaults
(steps, guidance, flow shift per native size), precision of the VAE, which images it takes,
and (LTX-Video 0.9.7 distilled) the two-stage recipe. A `CatalogEntry` is a published model:
its family with published values (`entries`) and the `Signature` its saved configs match
(`catalog`). The generic families, for pipelines the catalogue does not know, are `families`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from clipforge.backends.diffusers.config import WeightsConfig
from clipforge.backends.geometry import area_size, bucket_size, native_size


@dataclass(frozen=True)
class TwoStage:
    """LTX-Video 0.9.7 distilled's multi-scale recipe (configs/ltxv-13b-0.9.7-distilled.yaml,
    diffusers' LTX docs): render at `downscale` of the size, upsample the latents 2x with the
    spatial latent upsampler, then refine with a few steps."""

    upsampler_hub_id: str
    downscale: float
    refine_timesteps: tuple[float, ...]
    refine_strength: float
    adain_factor: float
    upsampler_class: str = "LTXLatentUpsamplerModel"
    """LTX-2: `LTX2LatentUpsamplerModel`; its `refine_timesteps` are the stage-2 sigmas."""
    refine_inference_steps: int = 0
    """Without `refine_timesteps` (a dev model): the refine pass's scheduler steps, of which
    `refine_strength` run (diffusers' LTX 0.9.7 dev example: 10 at 0.4, so 4)."""
    tone_map_compression_ratio: float = 0.0
    """LTX 0.9.8 distilled: the upsampler's tone mapping (0.6 in its yaml and diffusers' docs)."""
    upsampler_subfolder: str = "latent_upsampler"
    """Where the upsampler's config is in its hub repository ("" at the root)."""

    @property
    def refine_steps(self) -> int:
        """Steps the refine pass runs (LTXConditionPipeline.get_timesteps)."""
        count = len(self.refine_timesteps) or self.refine_inference_steps
        return min(int(count * self.refine_strength), count)


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
    """Native short side when `short_sides` does not name the request's resolution."""
    steps: int
    guidance_scale: float | None = None
    """None: the pipeline's own default."""
    negative_prompt: str | None = None
    fps_argument: str | None = None
    """Name of the pipeline argument that takes the frame rate, if it has one."""
    description: str = ""
    guidance_scale_2: float | None = None
    """Wan 2.2 A14B: guidance of the second (low-noise) expert."""
    extra_arguments: Mapping[str, Any] = field(default_factory=dict)
    """Further pipeline arguments (LTX: decode_timestep, decode_noise_scale, ...)."""
    short_sides: Mapping[str, int] = field(default_factory=dict)
    """Requested resolution ("480p", "720p", "1080p") -> the native short side rendered."""
    flow_shift: Mapping[int, float] = field(default_factory=dict)
    """Native short side -> the flow-matching scheduler's shift; empty: the saved scheduler's."""
    full_precision_vae: bool = False
    """Load the VAE (and image encoder) in float32 whatever CLIPFORGE_DTYPE says."""
    timesteps: tuple[float, ...] = ()
    """Custom timesteps (step-distilled models); used unless CLIPFORGE_NUM_INFERENCE_STEPS."""
    trained_frames: int | None = None
    """Clip length the model was trained on (longer requests render past it)."""
    first_frame: bool = False
    last_frame: bool = False
    needs_image: bool = False
    """The pipeline cannot render without a first frame (image-to-video weights)."""
    needs_last_frame: bool = False
    """First-last-frame weights (Wan 2.1 FLF2V): the last frame is required too."""
    two_stage: TwoStage | None = None
    pixel_areas: Mapping[int, int] = field(default_factory=dict)
    """Native short side -> the pixel area rendered at every aspect ratio (Wan's `max_area`
    rule); a short side not listed (an operator's CLIPFORGE_NATIVE_SHORT_SIDE) keeps the
    short-side rule."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Where each value comes from: field name -> the document that publishes it."""
    audio: bool = False
    """The pipeline returns a waveform beside the frames (LTX-2: joint audio and video)."""
    sigmas: tuple[float, ...] = ()
    """Custom sigmas (LTX-2 distilled); used unless CLIPFORGE_NUM_INFERENCE_STEPS, like
    `timesteps` (the LTX-2 pipelines take one or the other, never both)."""
    reference_images: bool = False
    """Takes reference images beside the prompt (Wan VACE: `reference_images`)."""
    bucket_bases: Mapping[int, int] = field(default_factory=dict)
    """Native short side -> the base of HunyuanVideo 1.5's aspect-ratio buckets (the
    transformer's `target_size`: 640 at 480, 960 at 720); non-empty: every size is a bucket."""

    def bucket_base(self, short_side: int) -> int:
        """The bucket base for a native short side (4/3 of it where the tier is not listed:
        480 -> 640, as the published tiers have it)."""
        default = round(short_side * 4 / 3 / self.size_multiple) * self.size_multiple
        return self.bucket_bases.get(short_side, default)

    def short_side_for(self, resolution: str) -> int:
        """The native short side rendered for a request at `resolution`."""
        return self.short_sides.get(resolution, self.short_side)

    def tier_size(self, size: tuple[int, int], short_side: int) -> tuple[int, int]:
        """The native (width, height) for an output `size` at the native `short_side` tier."""
        if self.bucket_bases:
            return bucket_size(*size, self.bucket_base(short_side), self.size_multiple)
        area = self.pixel_areas.get(short_side)
        if area is None:
            return native_size(*size, short_side, self.size_multiple)
        return area_size(*size, area, self.size_multiple)

    def shift_for(self, short_side: int) -> float | None:
        """The flow shift for the native short side (nearest listed size), or None."""
        if not self.flow_shift:
            return None
        nearest = min(self.flow_shift, key=lambda side: abs(side - short_side))
        return self.flow_shift[nearest]

    def with_changes(self, **changes: Any) -> ModelFamily:
        return replace(self, **changes)


@dataclass(frozen=True)
class Signature:
    """What an entry's saved configs say (None: not looked at)."""

    pipeline_classes: tuple[str, ...]
    heads: int | None = None
    head_dim: int | None = None
    in_channels: int | None = None
    two_experts: bool | None = None
    expand_timesteps: bool | None = None
    image_encoder: bool | None = None
    first_last: bool | None = None
    vae_z_dim: int | None = None
    vae_timestep_conditioning: bool | None = None
    text_encoder: str | None = None
    """The text encoder's class (LTX-2.0/2.3: Gemma 3; 2.5: Gemma 4)."""
    modality_projections: bool | None = None
    """LTX-2.3: the text connectors project per modality (2.0: one shared projection)."""
    target_size: int | None = None
    use_meanflow: bool | None = None
    guider_scale: float | None = None

    def matches(self, config: WeightsConfig) -> bool:
        facts = {
            "heads": config.heads,
            "head_dim": config.head_dim,
            "in_channels": config.in_channels,
            "two_experts": config.has_transformer_2 and config.boundary_ratio is not None,
            "expand_timesteps": config.expand_timesteps,
            "image_encoder": config.has_image_encoder and config.image_dim is not None,
            "first_last": config.pos_embed_seq_len is not None,
            "vae_z_dim": config.vae_z_dim,
            "vae_timestep_conditioning": config.vae_timestep_conditioning,
            "text_encoder": config.text_encoder_class,
            "modality_projections": config.modality_projections,
            "target_size": config.target_size,
            "use_meanflow": config.use_meanflow,
            "guider_scale": config.guider_scale,
        }
        if config.pipeline_class not in self.pipeline_classes:
            return False
        return all(getattr(self, k) in (None, v) for k, v in facts.items())


@dataclass(frozen=True)
class CatalogEntry:
    """One published model: where its weights are, how to recognise and sample them."""

    name: str
    hub_id: str
    pipeline_class: str
    parameters: str
    native_sizes: tuple[tuple[int, int], ...]
    """(width, height) landscape sizes the model was trained at; the first is the default."""
    rules: ModelFamily
    signature: Signature
    distilled: bool = False
    aliases: tuple[str, ...] = ()
    """Other names the weights go by (Lightricks' checkpoint names: `ltxv-13b-0.9.7-dev`)."""

    @property
    def default_frames(self) -> int:
        """Frames of a 5 s clip under the entry's frame rule (81 Wan 2.1, 121 LTX)."""
        step = self.rules.frame_step
        return round(5 * self.rules.fps / step) * step + 1
