"""LoRA adapters on a warm diffusers pipeline: loaded once, switched per job, never reloading
the base model.

The operator declares adapters per set of weights (CLIPFORGE_LORAS: a name, a source, a
default scale; docs/LORA.md). `Adapters.warm()` loads each one when the worker warms the model,
through diffusers' own `load_lora_weights`, which reads diffusers/PEFT files and converts the
layouts its Wan and LTX loaders know (ComfyUI, kohya, lightx2v: `lora_conversion_utils`). An
adapter that fails (no file, shapes or keys of another model) is recorded with the reason and
the rest go on: `failures` says which, for `/readyz` and `/v1/models`.

Per job `activate(choices)` makes exactly the chosen adapters active at their scales
(`set_adapters`); no choice disables every LoRA layer, so the transformer computes the base
layers alone and the clip is the base model's, bit for bit. At most `max_loaded` adapters stay
loaded: past that the least recently used is unloaded and loaded again when a job names it.
A model whose adapters never change (`fixed`: CLIPFORGE_LORA_FIXED) gets them fused into its
weights at warm-up and the LoRA layers dropped, so a step costs what the base model's does.

`load_adapter(pipeline, spec)` is the one call that loads an operator's adapter. A sampling
profile's LoRA is none of these: it never changes per job, so `recipes.apply_profile` fuses it
into the weights before warm-up and drops its LoRA layers ("no adapter" here then leaves it on).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from huggingface_hub import constants as hub_constants

from clipforge.errors import AdapterUnavailable, GenerationFailed
from clipforge.schemas import LoraChoice
from clipforge.settings import Settings
from clipforge.settings.loras import LoraAdapter

log = logging.getLogger(__name__)


def load_adapter(pipeline: Any, spec: LoraAdapter) -> None:
    """Load `spec` into `pipeline` under its name; AdapterUnavailable saying why otherwise
    (diffusers leaves nothing of a failed load behind)."""
    source, keywords = _where(spec)
    if spec.transformer_2:
        keywords["load_into_transformer_2"] = True
    try:
        pipeline.load_lora_weights(source, adapter_name=spec.name, **keywords)
    except Exception as exc:
        why = _why(exc)
        if keywords.get("local_files_only"):
            why += " (HF_HUB_OFFLINE is set: only the local Hugging Face cache was searched)"
        raise AdapterUnavailable(f"adapter {spec.name!r} ({spec.source}): {why}") from exc


class Adapters:
    """The declared adapters of one loaded pipeline, which are loaded and which are active."""

    def __init__(
        self,
        pipeline: Any,
        declared: Iterable[LoraAdapter],
        max_loaded: int = 8,
        fixed: bool = False,
    ) -> None:
        self.pipeline = pipeline
        self.declared: Mapping[str, LoraAdapter] = {spec.name: spec for spec in declared}
        self.max_loaded = max_loaded
        self.fixed = fixed
        self.failures: dict[str, str] = {}
        """Adapter name -> why it could not be loaded."""
        self.loads = 0
        """Adapter files loaded (a switch between loaded adapters loads none)."""
        self._loaded: OrderedDict[str, None] = OrderedDict()  # least recently used first
        self._active: tuple[LoraChoice, ...] | None = None

    @classmethod
    def from_settings(cls, pipeline: Any, settings: Settings) -> Adapters:
        declared, fixed = settings.adapters_for(settings.model)
        return cls(pipeline, declared, settings.lora_max_loaded, fixed)

    @property
    def loaded(self) -> tuple[str, ...]:
        return tuple(self._loaded)

    def status(self) -> dict[str, str | None]:
        """Every declared adapter -> None when it loads, else why it does not."""
        return {name: self.failures.get(name) for name in self.declared}

    def warm(self) -> None:
        """Load every declared adapter (the worker stays up whatever fails), keeping the most
        recently declared within `max_loaded`; fuse them when they are fixed."""
        for spec in self.declared.values():
            try:
                self._load(spec)
            except AdapterUnavailable as exc:
                self.failures[spec.name] = str(exc)
                log.error("LoRA %s", exc)
        if self.fixed and self._loaded:
            self._fuse()
        elif self._loaded:
            self.pipeline.disable_lora()
            self._active = ()

    def activate(self, choices: Sequence[LoraChoice]) -> None:
        """Make exactly `choices` active (none: the base model); AdapterUnavailable for a name
        that failed, GenerationFailed for one never declared."""
        if self.fixed:
            if choices:
                raise GenerationFailed("this model's adapters are fixed: a job chooses none")
            return
        wanted = tuple(choices)
        if wanted == self._active:
            return
        for choice in wanted:
            self._ensure(choice.name, keep={c.name for c in wanted})
        if not wanted:
            if self._loaded:
                self.pipeline.disable_lora()
        else:
            self.pipeline.enable_lora()
            names = [c.name for c in wanted]
            self.pipeline.set_adapters(names, adapter_weights=[c.scale for c in wanted])
        self._active = wanted

    def _ensure(self, name: str, keep: set[str]) -> None:
        if name in self._loaded:
            self._loaded.move_to_end(name)
            return
        if name in self.failures:
            raise AdapterUnavailable(self.failures[name])
        spec = self.declared.get(name)
        if spec is None:
            raise GenerationFailed(f"no LoRA adapter {name!r} is declared for this model")
        self._load(spec, keep)

    def _load(self, spec: LoraAdapter, keep: set[str] | frozenset[str] = frozenset()) -> None:
        self._active = None  # a load, even a failed one, changes PEFT's active adapters
        load_adapter(self.pipeline, spec)
        self.loads += 1
        self._loaded[spec.name] = None
        while len(self._loaded) > self.max_loaded and not self.fixed:  # fixed: all, fused
            victim = next((n for n in self._loaded if n not in keep and n != spec.name), None)
            if victim is None:
                break
            self.pipeline.delete_adapters(victim)
            del self._loaded[victim]

    def _fuse(self) -> None:
        names = list(self._loaded)
        scales = [self.declared[name].scale for name in names]
        components = ["transformer"]
        if any(self.declared[name].transformer_2 for name in names):
            components.append("transformer_2")
        self.pipeline.set_adapters(names, adapter_weights=scales)
        self.pipeline.fuse_lora(components=components, lora_scale=1.0, adapter_names=names)
        self.pipeline.unload_lora_weights()  # the fused weights stay; the LoRA layers go
        self._loaded.clear()
        self._active = ()
        log.info("LoRA adapters fused into the weights: %s", ", ".join(names))


def _where(spec: LoraAdapter) -> tuple[str, dict[str, Any]]:
    """load_lora_weights' source and keywords for `spec`: a local file or folder (refused
    clearly when absent), or a hub id (only the local cache under HF_HUB_OFFLINE)."""
    keywords: dict[str, Any] = {}
    if spec.weight_name:
        keywords["weight_name"] = spec.weight_name
    path = Path(spec.source).expanduser()
    if path.is_file():
        return str(path), keywords
    if path.is_dir():
        if not spec.weight_name:
            keywords["weight_name"] = _only_file(path, spec)
        return str(path), keywords
    if _looks_like_path(spec.source):
        raise AdapterUnavailable(f"adapter {spec.name!r}: no file at {spec.source!r}")
    keywords["local_files_only"] = bool(hub_constants.HF_HUB_OFFLINE)
    return spec.source, keywords


def _only_file(folder: Path, spec: LoraAdapter) -> str:
    files = sorted(p.name for p in folder.glob("*.safetensors"))
    if len(files) == 1:
        return files[0]
    problem = "no .safetensors file" if not files else f"{len(files)} .safetensors files"
    raise AdapterUnavailable(
        f"adapter {spec.name!r}: {problem} in {spec.source!r}; name one with weight_name"
    )


def _looks_like_path(source: str) -> bool:
    """A hub id is `owner/name`; anything else is meant as a path on this machine."""
    return (
        source.startswith((".", "/", "~"))
        or source.count("/") != 1
        or source.endswith(".safetensors")
    )


def _why(exc: Exception) -> str:
    """One line on a failed load, in words an operator acts on."""
    name = type(exc).__name__
    text = " ".join(str(exc).split())
    if name == "NoMatchingPeftModuleError" or "not found in the base model" in text:
        return "its keys match no layer of this model (an adapter for another base model?)"
    if "size mismatch" in text:
        first = text.split("size mismatch for ", 1)[1].split(". ", 1)[0]
        return f"its shapes do not fit this model (another size of it?): {first[:240]}"
    return f"{name}: {text[:300]}"
