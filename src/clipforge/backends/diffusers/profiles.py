"""Named sampling profiles of a catalogue entry (`quality`, `cached`, `fast`), as data (no torch).

A profile sets together what only works together: the step count, guidance, flow shift, the
sampler and its timesteps, the adapter (LoRA) or distilled weights it needs, and the step
cache calibrated for it. An operator picks one by appending it to the weights:
`CLIPFORGE_MODEL=wan2.1-t2v-14b@fast`, or per API id in CLIPFORGE_MODEL_MAP (with
CLIPFORGE_FAST_PROFILE, the `-fast` Seedance ids take it under `catalogue`). Without a suffix
an entry samples as its authors publish for the base model (`quality`).

The published values and their sources are in `profile_entries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from clipforge.backends.diffusers.rules import ModelFamily
from clipforge.errors import GenerationFailed, ModelUnavailable

QUALITY, CACHED, FAST = "quality", "cached", "fast"
PROFILE_SEPARATOR = "@"


@dataclass(frozen=True)
class Adapter:
    """A LoRA a profile loads: a file in a hub repository, into one of the denoisers."""

    name: str
    hub_id: str
    weight_name: str
    scale: float = 1.0
    component: Literal["transformer", "transformer_2"] = "transformer"


@dataclass(frozen=True)
class DistilledSampler:
    """The few-step sampler a step-distilled Wan was trained with.

    `timesteps` as the source publishes them (0-1000). `warp`: they index the 1000-step table
    shifted by `shift` (LightX2V, Wan2.2-Lightning: t=750 is sigma shift(0.75) = 0.9375, and
    the model sees 937.5); otherwise the model sees them as they are and the sigma is the
    nearest one of that shifted table (FastVideo's DMD sampler). `renoise`: each step predicts
    the clean latents and noises them afresh to the next sigma (DMD, LightX2V's 4-step
    scheduler); otherwise a first-order Euler step (Wan2.2-Lightning)."""

    timesteps: tuple[float, ...]
    shift: float
    warp: bool
    renoise: bool


@dataclass(frozen=True)
class MagCache:
    """MagCache's published magnitude ratios for one checkpoint and sampler (one ratio per
    step, from the first step; the conditional pass's) and the setting it was shown with."""

    ratios: tuple[float, ...]
    threshold: float
    max_skip_steps: int
    retention_ratio: float


@dataclass(frozen=True)
class Profile:
    """How one profile samples; None fields keep the entry's own value."""

    name: str
    steps: int | None = None
    guidance_scale: float | None = None
    guidance_scale_2: float | None = None
    flow_shift: float | None = None
    sampler: DistilledSampler | None = None
    timesteps: tuple[float, ...] = ()
    """Timesteps handed to the pipeline (LTX distilled), published."""
    weights: str | None = None
    """Distilled weights that replace the entry's (a hub id: FastWan)."""
    adapters: tuple[Adapter, ...] = ()
    magcache: MagCache | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def schedule(self) -> tuple[float, ...]:
        """The published timesteps this profile samples (empty: the scheduler's own)."""
        return self.sampler.timesteps if self.sampler else self.timesteps

    def applied_to(self, family: ModelFamily) -> ModelFamily:
        """`family` sampling as this profile says (its values cited beside the family's)."""
        changes: dict[str, object] = {"sources": {**family.sources, **self.sources}}
        for name in ("steps", "guidance_scale", "guidance_scale_2"):
            if getattr(self, name) is not None:
                changes[name] = getattr(self, name)
        if self.timesteps:
            changes["timesteps"] = self.timesteps
        if self.flow_shift is not None:
            changes["flow_shift"] = {side: self.flow_shift for side in family.flow_shift or {0: 0}}
        if self.guidance_scale is not None and self.guidance_scale <= 1.0:
            changes["negative_prompt"] = None  # guidance off: a negative prompt does nothing
        return family.with_changes(**changes)


def split_profile(weights: str | None) -> tuple[str | None, str | None]:
    """`name@profile` -> (name, profile); a name without a suffix -> (name, None). A folder
    path may contain `@`: only the text after the last one counts, and only when it names a
    profile."""
    if not weights or PROFILE_SEPARATOR not in weights:
        return weights, None
    base, _, suffix = weights.rpartition(PROFILE_SEPARATOR)
    if suffix.strip().lower() not in (QUALITY, CACHED, FAST):
        return weights, None
    return base, suffix.strip().lower()


def profile_for(entry_name: str | None, name: str | None) -> Profile | None:
    """The profile `name` of the entry (None: no profile asked for). ModelUnavailable when the
    entry has no such profile (or the weights are no catalogue entry)."""
    from clipforge.backends.diffusers.profile_entries import PROFILES

    if name is None:
        return None
    known = PROFILES.get(entry_name or "", {})
    if name == QUALITY and name not in known:
        return Profile(QUALITY)
    if name not in known:
        have = ", ".join([QUALITY, *[n for n in known if n != QUALITY]])
        what = f"catalogue entry {entry_name!r}" if entry_name else "weights outside the catalogue"
        raise ModelUnavailable(
            f"profile {name!r} (CLIPFORGE_MODEL ...@{name}) is not published for {what}; "
            f"profiles here: {have}"
        )
    return known[name]


def profiles_of(entry_name: str) -> tuple[str, ...]:
    """The profile names an entry has (always `quality`)."""
    from clipforge.backends.diffusers.profile_entries import PROFILES

    return tuple(dict.fromkeys((QUALITY, *PROFILES.get(entry_name, {}))))


def nearest_subset(timesteps: tuple[float, ...], count: int | None) -> tuple[float, ...]:
    """`count` of the published `timesteps`, spread evenly and always the first (the pure
    noise step); all of them when `count` is None or their number. ModelUnavailable when
    more are asked for than are published: a distilled model has no steps in between."""
    total = len(timesteps)
    if count is None or count == total:
        return timesteps
    if count > total or count < 1:
        raise ModelUnavailable(
            f"{count} steps asked on a schedule of {total} published timesteps "
            f"{list(timesteps)}: at most {total}"
        )
    if count == 1:
        return timesteps[:1]
    return tuple(timesteps[round(i * (total - 1) / (count - 1))] for i in range(count))


def step_count(asked: int | None, schedule: tuple[float, ...], default: int) -> int:
    """A job's step count: the one asked for (request, then setting), else the model's; on a
    published `schedule` at most its length (fewer take its nearest subset)."""
    steps = asked or (len(schedule) if schedule else default)
    if schedule and steps > len(schedule):
        raise GenerationFailed(
            f"num_inference_steps={steps}: this model samples {len(schedule)} published "
            f"timesteps {list(schedule)}; at most {len(schedule)}"
        )
    return steps
