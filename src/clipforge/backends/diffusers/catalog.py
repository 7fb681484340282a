"""The open video models ClipForge knows by name, as data (no torch import).

Each `CatalogEntry` names a published diffusers pipeline (hub id and pipeline class), the
`ModelFamily` rules that plan and sample it with the values its authors publish (each value's
source is in `rules.sources`), and the `Signature` that recognises its weights from their own
config files (`config`): a renamed folder or a Hugging Face cache snapshot gets the
same rules as the catalogue name. Only checkpoints with identical configs (Wan 2.1 I2V 480P
and 720P) are told apart by name; unnamed, they get the first such entry.

An operator picks an entry with `CLIPFORGE_MODEL=<name>` (or a folder / hub id); which entry
serves which API id under `CLIPFORGE_MODEL=catalogue` is the model routing's
(`clipforge/routing.py`).
"""

from __future__ import annotations

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
from clipforge.backends.diffusers.rules import (
    CatalogEntry,
    ModelFamily,
    family_of_class,
)


def find_entry(weights: str) -> CatalogEntry | None:
    """The entry named `weights`, or whose hub id or hub repository name it is (a folder made
    by `hf download --local-dir` carries that name); case-insensitive; else None."""
    key = weights.strip().lower()
    for entry in ENTRIES:
        hub_id = entry.hub_id.lower()
        if key in (entry.name, hub_id, hub_id.split("/")[-1]):
            return entry
    return None


def identify(
    config: WeightsConfig, hints: Sequence[str] = (), repositories: Sequence[str] = ()
) -> CatalogEntry | None:
    """The entry whose signature the config matches; a name among `hints` chooses between
    entries with identical configs. A config no entry matches takes a named entry of the same
    pipeline kind (a fine-tune keeps its base model's rules), else None.

    Weights that name a hub repository outside the catalogue (`repositories`: a hub id, a
    cache path) get None, whatever their config looks like: LTX-Video 0.9.7 dev has the
    distilled model's configs but wants 30+ guided steps, not 8 unguided ones. Their
    pipeline class's generic rules are the safer guess."""
    if any(find_entry(name) is None for name in repositories):
        return None
    named = [e for e in (find_entry(h) for h in hints) if e is not None]
    candidates = [e for e in ENTRIES if e.signature.matches(config)]
    for entry in named:
        if entry in candidates:
            return entry
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
    rules = rules_for(*lookup(weights))
    if rules is None:
        return Capabilities(fps=16, description="A diffusers text-to-video pipeline.")
    return Capabilities(
        fps=rules.fps,
        first_frame=rules.first_frame,
        last_frame=rules.last_frame,
        text_to_video=not rules.needs_image,
        needs_last_frame=rules.needs_last_frame,
        reference_images=rules.reference_images,
        negative_prompt=True,
        sampling_steps=True,
        guidance=True,
        description=rules.description,
    )
