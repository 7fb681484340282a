"""The open video models ClipForge knows by name, as data (no torch import).

Each `CatalogEntry` names a published diffusers pipeline (hub id and pipeline class), the
`ModelFamily` rules that plan and sample it with the values its authors publish (each value's
source is in `rules.sources`), and the `Signature` that recognises its weights from their own
config files (`config`): a renamed folder or a Hugging Face cache snapshot gets the
same rules as the catalogue name. Only checkpoints with identical configs (Wan 2.1 I2V 480P
and 720P; LTX-Video 13B dev and distilled) are told apart by name; unnamed, they get the first
such entry, the one whose recipe is valid for all of them (720P: both sizes; LTX: the dev
model's guided 30 steps, which a distilled model survives, where 7 unguided steps turn a dev
model's output to noise). A name saying `distilled` picks a distilled entry.

An operator picks an entry with `CLIPFORGE_MODEL=<name>` (or a folder / hub id); which entry
serves which API id under `CLIPFORGE_MODEL=catalogue` is the model routing's
(`clipforge/routing/weights.py`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from clipforge.backends.base import Capabilities
from clipforge.backends.diffusers.config import (
    WeightsConfig,
    name_hints,
    read_config,
    repository_names,
)
from clipforge.backends.diffusers.entries import ENTRIES
from clipforge.backends.diffusers.families import family_of_class
from clipforge.backends.diffusers.profile_entries import PROFILES
from clipforge.backends.diffusers.profiles import QUALITY, Profile, split_profile
from clipforge.backends.diffusers.rules import CatalogEntry, ModelFamily, TwoStage


def find_entry(weights: str) -> CatalogEntry | None:
    """The entry named `weights`, or whose hub id or hub repository name it is (a folder made
    by `hf download --local-dir` carries that name); case-insensitive; else None."""
    key = weights.strip().lower()
    for entry in ENTRIES:
        hub_id = entry.hub_id.lower()
        if key in (entry.name, hub_id, hub_id.split("/")[-1], *entry.aliases):
            return entry
    return None


def identify(
    config: WeightsConfig, hints: Sequence[str] = (), repositories: Sequence[str] = ()
) -> CatalogEntry | None:
    """The entry whose signature the config matches; a name among `hints` chooses between
    entries with identical configs. A config no entry matches takes a named entry of the same
    pipeline kind (a fine-tune keeps its base model's rules), else None.

    Weights that name a hub repository outside the catalogue (`repositories`: a hub id, a
    cache path) get None, whatever their config looks like: a fine-tune of an LTX 13B model
    may be either kind. Their pipeline class's generic rules are the safer guess."""
    if any(find_entry(name) is None for name in repositories):
        return None
    named = [e for e in (find_entry(h) for h in hints) if e is not None]
    candidates = [e for e in ENTRIES if e.signature.matches(config)]
    for entry in named:
        if entry in candidates:
            return entry
    if any("distill" in Path(hint).name.lower() for hint in hints):  # `my-ltxv-13b-distilled`
        candidates = [e for e in candidates if e.distilled] or candidates
    if candidates:
        return candidates[0]
    return next((e for e in named if config.pipeline_class in e.signature.pipeline_classes), None)


def lookup(weights: str | Path | None) -> tuple[CatalogEntry | None, WeightsConfig | None]:
    """The catalogue entry and saved config of `weights` (a name, folder, cache snapshot or
    hub id): from the config when it is on this machine, else from the name."""
    if not weights:
        return None, None
    hints = name_hints(weights)
    config = read_config(weights)
    named = find_entry(str(weights))
    if config is None and named is not None:
        config = read_config(named.hub_id)  # a catalogue name whose weights are in the cache
    if config is None:
        return next((e for e in map(find_entry, hints) if e is not None), None), None
    return identify(config, hints, repository_names(weights)), config


def rules_for(entry: CatalogEntry | None, config: WeightsConfig | None) -> ModelFamily | None:
    """The rules for weights: their entry's, else their pipeline class's generic family."""
    if entry is not None:
        return entry.rules
    return family_of_class(config.pipeline_class) if config else None


def capabilities_for(weights: str | None) -> Capabilities:
    """What the weights can do, from their own config (or their catalogue name when the
    weights are not on this machine); unknown weights get generic text-to-video ones."""
    name, profile_name = split_profile(weights)
    entry, config = lookup(name)
    rules = rules_for(entry, config)
    if rules is None:
        return Capabilities(fps=16, description="A diffusers text-to-video pipeline.")
    profile = PROFILES.get(entry.name if entry else "", {}).get(profile_name or QUALITY)
    return capabilities_of(rules, entry, profile, weights_notes(name, rules, config))


def capabilities_of(
    rules: ModelFamily,
    entry: CatalogEntry | None,
    profile: Profile | None,
    notes: tuple[str, ...] = (),
) -> Capabilities:
    """What weights sampled by `rules` (their entry's, else a generic family) under `profile`
    can do. The one place each capability is decided: the API's routing asks through
    `capabilities_for`, a loaded `DiffusersBackend` with its own family.

    A distilled model or schedule (a `fast` profile, LTX distilled, HunyuanVideo 1.5
    step-distilled) takes no step count, guidance or negative prompt from a request: they
    would replace what the model was trained to sample with (a 400 naming the field, never a
    silent change). A model published with guidance 1.0 (HunyuanVideo 1.5 CFG-distilled: its
    guider saved at 1.0) samples without classifier-free guidance: a request's guidance would
    turn it back on, and a negative prompt only acts through it; it takes its step count."""
    distilled = bool(
        rules.timesteps
        or rules.sigmas
        or (entry is not None and entry.distilled)  # HunyuanVideo 1.5 step-distilled: no list
        or (profile is not None and profile.schedule)
    )
    guidance = (profile.applied_to(rules) if profile else rules).guidance_scale
    unguided = distilled or (guidance is not None and guidance <= 1.0)
    return Capabilities(
        fps=rules.fps,
        first_frame=rules.first_frame,
        last_frame=rules.last_frame,
        text_to_video=not rules.needs_image,
        needs_last_frame=rules.needs_last_frame,
        reference_images=rules.reference_images,
        negative_prompt=not unguided,
        sampling_steps=not distilled,
        guidance=not unguided,
        audio=rules.audio,
        description=rules.description,
        notes=notes,
    )


def weights_notes(
    weights: str | None, rules: ModelFamily, config: WeightsConfig | None
) -> tuple[str, ...]:
    """What `clipforge models` says about weights that are here: a two-stage recipe that
    will run in one pass (no upsampler on this machine), as the worker warns at start."""
    if not weights or config is None or rules.two_stage is None:
        return ()
    path = Path(weights).expanduser()
    source = str(path) if path.is_dir() else weights
    stage = rules.two_stage
    if upsampler_place(source, path.is_dir(), stage) is not None:
        return ()
    return (no_upsampler_note(stage),)


def no_upsampler_note(stage: TwoStage) -> str:
    """The line that says the two-stage recipe is off, and where its upsampler was looked for."""
    beside = stage.upsampler_hub_id.split("/")[-1]
    return (
        f"two-stage: off, no latent_upsampler/ in the folder (nor a {beside} folder beside "
        f"it, nor {stage.upsampler_hub_id} in the local hub cache): one pass at the native size"
    )


def upsampler_place(weights: str, is_folder: bool, stage: TwoStage) -> tuple[str, str] | None:
    """Where a two-stage entry's latent upsampler is: (folder or hub id, subfolder). The
    weights' own `latent_upsampler/`, a folder beside them named like the upsampler's hub
    repository, the local hub cache; the hub itself only for weights that come from the hub
    and not under HF_HUB_OFFLINE (a folder never reaches for the network behind the
    operator's back). None: not here, one pass."""
    if is_folder:
        folder = Path(weights)
        sibling = folder.parent / stage.upsampler_hub_id.split("/")[-1]
        for place in (folder, sibling):
            if (place / "latent_upsampler" / "config.json").is_file():
                return str(place), "latent_upsampler"
        if (sibling / "config.json").is_file():  # saved as the model alone
            return str(sibling), ""
    if _cached(stage) or not (is_folder or hub_offline()):
        return stage.upsampler_hub_id, stage.upsampler_subfolder
    return None


def hub_offline() -> bool:
    """HF_HUB_OFFLINE as the hub client reads it (the environment where it is not installed)."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")
    return bool(constants.HF_HUB_OFFLINE)


def _cached(stage: TwoStage) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    name = f"{stage.upsampler_subfolder}/config.json".lstrip("/")
    return isinstance(try_to_load_from_cache(stage.upsampler_hub_id, name), str)
