"""The Seedance model ids this server answers and what each takes: one table (API.md
section 4b), read by the request checks of every surface, `GET /v1/models`, the CLI and the
studio. Torch-free data; what the *backend* serving an id can do is `routing/`'s business.

- `durations`: the seconds a client may ask for (1.0: 5 or 10; 1.5: 4-12; 2.0: 4-15; 2.5: 4-30).
  Ark's `duration: -1` means "the model picks": here, the id's default.
- `audio`: `generate_audio` defaults to true (1.5 on); whether sound is made still depends on
  the backend (`ModelRouting.audio_for`).
- `first_frame`: `required` (the 1.0 i2v ids), `optional` (1.5 and 2.x take `image_url` and
  `last_image_url` beside text) or `none`.
- `references`: how many reference images (`image_urls`, Ark `reference_image`) an id takes.
- `draft`: Ark's `draft` preview (1.5 and 2.x).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from clipforge.errors import InvalidField
from clipforge.schemas import SEEDANCE_MODELS, AspectRatio, Resolution

FirstFrame = Literal["required", "optional", "none"]

ALL_RATIOS = tuple(AspectRatio)
V2_RATIOS = tuple(r for r in AspectRatio if r is not AspectRatio.CINEMA_PORTRAIT)
"""2.x: 21:9 16:9 4:3 1:1 3:4 9:16 (no 9:21), as the AI/ML 2.0 page lists them."""
HD = (Resolution.P480, Resolution.P720, Resolution.P1080)
SD = (Resolution.P480, Resolution.P720)


@dataclass(frozen=True)
class ModelSpec:
    """One API model id: the values a client may send for it, and its defaults."""

    id: str
    durations: tuple[int, ...]
    default_duration: int
    resolutions: tuple[Resolution, ...]
    default_resolution: Resolution
    ratios: tuple[AspectRatio, ...] = ALL_RATIOS
    adaptive: bool = True
    audio: bool = True
    first_frame: FirstFrame = "optional"
    references: int = 0
    draft: bool = True
    ark_ids: tuple[str, ...] = ()

    @property
    def legacy(self) -> bool:
        """A Seedance 1.0 id: every rule it had before 1.5 existed stays as it was."""
        return self.id in SEEDANCE_MODELS

    def check_duration(self, seconds: int, field: str = "duration") -> int:
        if seconds not in self.durations:
            raise InvalidField(field, f"not offered by {self.id!r}", allowed=self.shown_durations)
        return seconds

    @property
    def shown_durations(self) -> list[str]:
        low, high = self.durations[0], self.durations[-1]
        if len(self.durations) == high - low + 1 and len(self.durations) > 2:
            return [f"{low}-{high}"]
        return [str(d) for d in self.durations]

    def check_resolution(self, resolution: Resolution, field: str = "resolution") -> Resolution:
        if resolution not in self.resolutions:
            problem = f"{resolution.value} is not offered by {self.id!r}"
            raise InvalidField(field, problem, allowed=[r.value for r in self.resolutions])
        return resolution

    def check_ratio(self, ratio: str, field: str = "aspect_ratio") -> str:
        allowed = [r.value for r in self.ratios] + (["adaptive"] if self.adaptive else [])
        if ratio not in allowed:
            raise InvalidField(field, f"{ratio} is not offered by {self.id!r}", allowed=allowed)
        return ratio


def _legacy(model_id: str) -> ModelSpec:
    required: FirstFrame = "required" if model_id.endswith("-i2v") else "none"
    return ModelSpec(
        model_id, (5, 10), 5, HD, Resolution.P1080, ALL_RATIOS, False, False, required, 0, False
    )


def _range(low: int, high: int) -> tuple[int, ...]:
    return tuple(range(low, high + 1))


MODELS: tuple[ModelSpec, ...] = (
    *(_legacy(model_id) for model_id in SEEDANCE_MODELS),
    ModelSpec(
        "bytedance/seedance-1-5-pro",
        _range(4, 12),
        5,
        HD,
        Resolution.P720,
        ark_ids=("seedance-1-5-pro-251215",),
    ),
    ModelSpec(
        "bytedance/seedance-2-0",
        _range(4, 15),
        5,
        (*HD, Resolution.P4K),
        Resolution.P720,
        V2_RATIOS,
        references=9,
        ark_ids=("dreamina-seedance-2-0-260128", "doubao-seedance-2-0-260128"),
    ),
    ModelSpec(
        "bytedance/seedance-2-0-fast",
        _range(4, 15),
        8,
        SD,
        Resolution.P720,
        V2_RATIOS,
        references=9,
        ark_ids=("dreamina-seedance-2-0-fast-260128", "doubao-seedance-2-0-fast-260128"),
    ),
    ModelSpec(
        "bytedance/dreamina-seedance-2-0-mini",
        _range(4, 15),
        5,
        SD,
        Resolution.P720,
        V2_RATIOS,
        references=9,
        ark_ids=("dreamina-seedance-2-0-mini-260615",),
    ),
    ModelSpec(
        "bytedance/seedance-2-5", _range(4, 30), 5, SD, Resolution.P720, V2_RATIOS, references=9
    ),
    ModelSpec(
        "bytedance/dreamina-seedance-2-5",
        _range(4, 30),
        5,
        SD,
        Resolution.P720,
        V2_RATIOS,
        references=9,
    ),
)

MODEL_IDS = tuple(spec.id for spec in MODELS)
SPECS: Mapping[str, ModelSpec] = MappingProxyType({spec.id: spec for spec in MODELS})
ARK_IDS: Mapping[str, str] = MappingProxyType(
    {ark_id: spec.id for spec in MODELS for ark_id in spec.ark_ids}
)
"""Ark's dated ids (BytePlus `dreamina-`/`seedance-`, Volcengine `doubao-`) -> the API ids."""

ARK_DURATION_PICKS = -1
"""Ark's `duration: -1`: the model picks the length (here: the id's default)."""


def spec_for(model_id: str) -> ModelSpec:
    """The table's row for a served id (every id the routing serves has one)."""
    return SPECS[model_id]
