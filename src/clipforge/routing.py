"""Model routing: which weights serve each API model id, through which backend, and what
that backend can do with them. The one place that decides it, for

- the API: which ids are served, which take images, the longest clip (a request beyond
  what the backend can do is refused before a job exists);
- `clipforge serve`'s in-process workers and `clipforge worker`: which weights to load for
  a job's model id (`ModelRouting.for_workers`).

Weights for an id come from CLIPFORGE_MODEL_MAP (an id -> a catalogue name, folder or hub
id), else, under CLIPFORGE_MODEL=catalogue, from DEFAULT_MODEL_MAP, else CLIPFORGE_MODEL
itself (one set of weights for every id). The backend is CLIPFORGE_BACKEND; `auto` is
diffusers when weights are named (CLIPFORGE_MODEL or CLIPFORGE_MODEL_MAP), else the
built-in model. What a backend can do is declared as data by the backend
(`backends/registry.py`): nothing is loaded to find it out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from types import MappingProxyType
from typing import Protocol

from clipforge.backends.base import Backend, Capabilities
from clipforge.backends.registry import BackendRegistry, default_registry
from clipforge.errors import InvalidField
from clipforge.schemas import IMAGE_TO_VIDEO_MODELS, GenerationRequest, LoraChoice
from clipforge.seedance_models import MODEL_IDS, MODELS, FirstFrame, ModelSpec, spec_for
from clipforge.settings import Settings
from clipforge.settings.loras import LoraAdapter

CATALOGUE_KEYWORD = "catalogue"
"""CLIPFORGE_MODEL value that serves every Seedance id from DEFAULT_MODEL_MAP."""

SOUND_MODEL_MAP: Mapping[str, str] = MappingProxyType(
    {
        "bytedance/seedance-1-5-pro": "ltx-2.3",
        "bytedance/seedance-2-0": "ltx-2.3",
        "bytedance/seedance-2-0-fast": "ltx-2.3-distilled",
        "bytedance/dreamina-seedance-2-0-mini": "ltx-2.3-distilled",
        "bytedance/seedance-2-5": "ltx-2.3",
        "bytedance/dreamina-seedance-2-5": "ltx-2.3",
    }
)
"""The ids that make sound by default (1.5 and 2.x) and the LTX-2 entry (joint video and
sound) behind each under CLIPFORGE_MODEL=catalogue: the guided 40-step LTX-2.3, or its 8-step
distilled checkpoint for the fast and mini ids."""

DEFAULT_MODEL_MAP: Mapping[str, str] = MappingProxyType(
    {
        "bytedance/seedance-1-0-lite-t2v": "wan2.1-t2v-1.3b",
        "bytedance/seedance-1-0-pro-fast": "wan2.2-ti2v-5b",
        "bytedance/seedance-1-0-pro-t2v": "wan2.2-t2v-a14b",
        "bytedance/seedance-1-0-lite-i2v": "wan2.2-ti2v-5b",
        "bytedance/seedance-1-0-pro-i2v": "wan2.2-i2v-a14b",
        # 1.5 and 2.x make sound by default (and take text, a first and a last frame): LTX-2.
        **SOUND_MODEL_MAP,
    }
)
"""Which catalogue entry serves each Seedance id under CLIPFORGE_MODEL=catalogue: lite -> the
small Wan 2.1 model, pro-fast -> Wan 2.2 5B, pro -> Wan 2.2 A14B; image-to-video: lite-i2v ->
Wan 2.2 TI2V 5B (the pro-fast weights: no reload), pro-i2v -> Wan 2.2 I2V A14B (a first frame;
map it to wan2.1-flf2v-14b-720p for first + last frames). (The Ark surface stores its dated
ids, such as seedance-1-0-pro-250528, as these ids.)"""

LITE = "bytedance/seedance-1-0-lite-t2v"

DEFAULT_REFERENCE_MAP: Mapping[str, str] = MappingProxyType(
    {
        spec.id: "wan2.1-vace-1.3b" if spec.id.endswith(("-fast", "-mini")) else "wan2.1-vace-14b"
        for spec in MODELS
        if spec.references
    }
)
"""Which catalogue entry serves a request with reference images (`image_urls`, Ark
`reference_image`) under CLIPFORGE_MODEL=catalogue: Wan VACE, the open model that takes them
(1.3B for the fast and mini ids, 14B for the others); the same id without references keeps
DEFAULT_MODEL_MAP's weights. CLIPFORGE_REFERENCE_MODEL_MAP overrides it per id."""

DEFAULT_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "sora-2": "bytedance/seedance-1-0-pro-fast",
        "sora-2-pro": "bytedance/seedance-1-0-pro-t2v",
    }
)
"""Model names of other dialects and the served ids they stand for (CLIPFORGE_MODEL_ALIASES
adds or replaces entries). Dated names (`sora-2-2025-10-06`) stand for their undated one."""

IMAGE_COUNTERPARTS: Mapping[str, str] = MappingProxyType(
    {
        "bytedance/seedance-1-0-pro-t2v": "bytedance/seedance-1-0-pro-i2v",
        "bytedance/seedance-1-0-pro-fast": "bytedance/seedance-1-0-pro-i2v",
        "bytedance/seedance-1-0-lite-t2v": "bytedance/seedance-1-0-lite-i2v",
    }
)
"""The image-to-video id of each text-to-video id's family (a request with a first frame)."""
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")

WeightsFor = Callable[[str], str | None]
"""API model id -> the weights (catalogue name, folder, hub id; None: the default) serving it."""
WeightsLoader = Callable[[str | None], Backend]
"""Weights -> a loaded, warm backend."""


@dataclass(frozen=True)
class WeightsRouting:
    """How a worker finds and loads the weights for a job's model id (`worker/warm.py`
    keeps the loaded one warm)."""

    weights_for: WeightsFor
    load: WeightsLoader
    model_ids: tuple[str, ...]
    """The ids served; the first is the one loaded when a worker warms up."""
    reference_weights_for: WeightsFor = lambda model_id: None
    """The weights of a request with reference images, where they are others (None: the
    id's own)."""

    @classmethod
    def single(cls, load_backend: Callable[[], Backend]) -> WeightsRouting:
        """One backend serves every id: nothing to prefer, nothing to reload."""
        return cls(lambda model_id: None, lambda weights: load_backend(), ())


def weights_for_model(
    model: str | None, model_map: Mapping[str, str], api_model: str, fast_profile: bool = False
) -> str | None:
    """The weights (catalogue name, folder or hub id) that serve the API id `api_model`.

    An id in `model_map` wins; under CLIPFORGE_MODEL=catalogue an id falls back to
    DEFAULT_MODEL_MAP (ids it does not list use the lite entry), a `-fast` id with its entry's
    fast profile (`<entry>@fast`) where `fast_profile` (CLIPFORGE_FAST_PROFILE) asks for it
    and the entry has one; otherwise `model` serves all.
    """
    if api_model in model_map:
        return model_map[api_model]
    if model is not None and model.strip().lower() == CATALOGUE_KEYWORD:
        entry = DEFAULT_MODEL_MAP.get(api_model, DEFAULT_MODEL_MAP[LITE])
        return with_fast_profile(entry) if fast_profile and is_fast_id(api_model) else entry
    return model


def is_fast_id(api_model: str) -> bool:
    """A Seedance id of the fast tier (seedance-1-0-pro-fast, seedance-2-0-fast, ...)."""
    return api_model.endswith("-fast")


def with_fast_profile(entry: str) -> str:
    """`entry@fast` where the catalogue publishes a fast profile for it, else `entry`."""
    from clipforge.backends.diffusers.profiles import FAST, PROFILE_SEPARATOR, profiles_of

    return f"{entry}{PROFILE_SEPARATOR}{FAST}" if FAST in profiles_of(entry) else entry


def reference_weights_for_model(
    model: str | None, reference_map: Mapping[str, str], api_model: str
) -> str | None:
    """The weights serving `api_model`'s requests with reference images, where they differ
    from its own: CLIPFORGE_REFERENCE_MODEL_MAP's, else under catalogue DEFAULT_REFERENCE_MAP's;
    None otherwise."""
    if api_model in reference_map:
        return reference_map[api_model]
    if model is not None and model.strip().lower() == CATALOGUE_KEYWORD:
        return DEFAULT_REFERENCE_MAP.get(api_model)
    return None


def backend_name(settings: Settings) -> str:
    """CLIPFORGE_BACKEND, with `auto` resolved (module docstring)."""
    if settings.backend != "auto":
        return settings.backend
    return "diffusers" if settings.model or settings.model_map else "builtin"


class AskedLora(Protocol):
    """One adapter as a request body names it (`api/accept/fields.py` LoraIn)."""

    @property
    def name(self) -> str: ...

    @property
    def scale(self) -> float | None: ...


@dataclass(frozen=True)
class ServedModel:
    """One API model id: its backend, its weights and what they can do."""

    id: str
    backend: str
    weights: str | None
    capabilities: Capabilities
    adapters: tuple[LoraAdapter, ...] = ()
    """The LoRA adapters declared for its weights (CLIPFORGE_LORAS)."""
    fixed_adapters: bool = False
    """They always apply, fused (CLIPFORGE_LORA_FIXED): requests choose none."""
    reference_weights: str | None = None
    """Other weights for its requests with reference images (Wan VACE under catalogue)."""
    reference_capabilities: Capabilities | None = None

    def with_references(self) -> ServedModel:
        """The model a request with reference images is served by: the reference weights
        and what they can do (sound, frames), where the id has any; else itself."""
        if self.reference_weights is None or self.reference_capabilities is None:
            return self
        # Adapters are declared per weights: those of the id's own do not reach these.
        return ServedModel(
            self.id, self.backend, self.reference_weights, self.reference_capabilities
        )

    @property
    def spec(self) -> ModelSpec:
        """What the id takes and its defaults (`seedance_models.py`)."""
        return spec_for(self.id)

    @property
    def image_input(self) -> bool:
        """An image-to-video id: a first frame is required (its weights take one)."""
        return self.id in IMAGE_TO_VIDEO_MODELS

    @property
    def takes_images(self) -> bool:
        """Takes a first frame: required (image-to-video ids) or optional (1.5 and 2.x, where
        the backend takes one)."""
        optional = self.spec.first_frame == "optional" and self.capabilities.first_frame
        return self.image_input or optional

    @property
    def first_frame(self) -> FirstFrame:
        """`image_url` as this server takes it for the id: required, optional or none."""
        return "required" if self.image_input else "optional" if self.takes_images else "none"

    @property
    def last_frame(self) -> bool:
        """Also takes a last frame."""
        return self.takes_images and self.capabilities.last_frame

    @property
    def references(self) -> int:
        """How many reference images it takes (0: none): the id's, where the backend (or the
        id's reference weights) takes any."""
        served = self.with_references()
        return self.spec.references if served.capabilities.reference_images else 0

    @property
    def audio(self) -> bool:
        """Makes sound by default: the id's default (1.5 on), where the backend makes any."""
        return self.spec.audio and self.capabilities.audio

    def audio_for(self, asked: bool | None, field: str = "generate_audio") -> bool:
        """`generate_audio` as the job records it. Absent: the served model's default (sound
        where the id and its backend make it). True on a model that makes no sound: a 400
        naming the field, never a silent clip that was asked to have sound."""
        if asked is None:
            return self.audio
        if asked and not self.audio:
            why = "makes no sound" if self.spec.audio else "has no sound track"
            raise InvalidField(field, f"model {self.id!r} {why} here (false only)")
        return asked

    @property
    def needs_last_frame(self) -> bool:
        return self.image_input and self.capabilities.needs_last_frame


class ModelRouting:
    """The served ids (in the order of `seedance_models.MODELS`), their weights, backend and
    capabilities."""

    def __init__(self, settings: Settings, registry: BackendRegistry | None = None) -> None:
        self.settings = settings
        self.registry = registry or default_registry()
        self.backend = backend_name(settings)
        models = []
        for model_id in MODEL_IDS:
            weights = weights_for_model(
                settings.model, settings.model_map, model_id, settings.fast_profile
            )
            with_weights = settings.model_copy(update={"model": weights})
            capabilities = self.registry.capabilities(self.backend, with_weights)
            if model_id in IMAGE_TO_VIDEO_MODELS and not capabilities.first_frame:
                continue  # an image-to-video id needs weights that take images
            if model_id not in IMAGE_TO_VIDEO_MODELS and not capabilities.text_to_video:
                continue  # image-to-video weights do not serve the text-to-video ids
            if self.backend == "diffusers" and weights is None:
                continue  # no weights named for this id (CLIPFORGE_MODEL_MAP alone)
            adapters = tuple(settings.loras.get(weights or "", ()))
            fixed = bool(adapters) and weights in settings.lora_fixed
            served = ServedModel(model_id, self.backend, weights, capabilities, adapters, fixed)
            models.append(self._with_references(served))
        self._models = {model.id: model for model in models}

    def _with_references(self, served: ServedModel) -> ServedModel:
        """The id with its reference weights, where it has any that take references."""
        references = self.reference_weights_for(served.id)
        if references is None or references == served.weights:
            return served
        with_weights = self.settings.model_copy(update={"model": references})
        taken = self.registry.capabilities(self.backend, with_weights)
        if not taken.reference_images:
            return served
        return replace(served, reference_weights=references, reference_capabilities=taken)

    def __iter__(self) -> Iterator[ServedModel]:
        return iter(self._models.values())

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._models)

    def require(self, model_id: str, field: str = "model") -> ServedModel:
        """The served model, or a 400 naming the field and the ids this server serves."""
        try:
            return self._models[model_id]
        except KeyError:
            problem = f"model {model_id!r} is not served here"
            if model_id in IMAGE_TO_VIDEO_MODELS:
                problem += " (no image-to-video weights are configured)"
            allowed = list(self._models)
            raise InvalidField(field, problem, allowed=allowed, given=model_id) from None

    def check(self, request: GenerationRequest, field: str = "duration") -> None:
        """Refuse (400 naming the field) what the model's backend cannot do: a clip longer
        than it renders (`field` names the surface's length field), or a sampling override
        it does not take."""
        capabilities = self.require(request.model).capabilities
        longest = capabilities.longest  # in one pass, or in segments (image-led backends)
        if request.seconds > longest:
            raise InvalidField(field, f"at most {longest} seconds on model {request.model!r}")
        for name, taken in (
            ("negative_prompt", capabilities.negative_prompt),
            ("num_inference_steps", capabilities.sampling_steps),
            ("guidance_scale", capabilities.guidance),
        ):
            if getattr(request, name) is not None and not taken:
                raise InvalidField(name, f"model {request.model!r} does not take {name} here")

    def loras(
        self, model: ServedModel, asked: Sequence[AskedLora] | None, field: str = "loras"
    ) -> tuple[LoraChoice, ...]:
        """The adapters a request renders with: each asked `name` one the operator declared
        for the model (never a path or URL), its `scale` or the declared default; a 400
        naming the field otherwise."""
        if not asked:
            return ()
        if model.fixed_adapters:
            raise InvalidField(field, f"model {model.id!r} renders with fixed adapters here")
        declared = {adapter.name: adapter for adapter in model.adapters}
        if len(asked) > self.settings.lora_max_loaded:
            raise InvalidField(field, f"at most {self.settings.lora_max_loaded} adapters")
        chosen: list[LoraChoice] = []
        for index, item in enumerate(asked):
            name, where = item.name, f"{field}[{index}].name"
            if name not in declared:
                problem = (
                    f"{name!r} is no LoRA adapter of model {model.id!r} (adapters are chosen "
                    "by the names the operator declared, never by path or URL)"
                )
                raise InvalidField(where, problem, allowed=list(declared), given=name)
            if any(c.name == name for c in chosen):
                raise InvalidField(where, f"adapter {name!r} is named twice")
            scale = declared[name].scale if item.scale is None else float(item.scale)
            chosen.append(LoraChoice(name=name, scale=scale))
        return tuple(chosen)

    def unserved_adapter_keys(self) -> list[str]:
        """Keys of CLIPFORGE_LORAS that name no served model's weights (a typo, most likely:
        the key must be spelled as CLIPFORGE_MODEL or CLIPFORGE_MODEL_MAP spell them)."""
        served = {model.weights for model in self}
        return [key for key in self.settings.loras if key not in served]

    def resolve(self, name: str, with_image: bool = False, field: str = "model") -> ServedModel:
        """The served model a client's model name stands for: a served id, or an alias
        (module docstring); with an image, the family's image-to-video id."""
        aliases = {**DEFAULT_ALIASES, **self.settings.model_aliases}
        model_id = aliases.get(name) or aliases.get(_DATED.sub("", name)) or name
        if with_image:
            model_id = IMAGE_COUNTERPARTS.get(model_id, model_id)
        return self.require(model_id, field)

    def weights_for(self, model_id: str) -> str | None:
        settings = self.settings
        return weights_for_model(
            settings.model, settings.model_map, model_id, settings.fast_profile
        )

    def reference_weights_for(self, model_id: str) -> str | None:
        settings = self.settings
        return reference_weights_for_model(settings.model, settings.reference_model_map, model_id)

    def load(self, weights: str | None, device: str | None = None) -> Backend:
        """A loaded, warm backend for `weights` on `device` (None: CLIPFORGE_DEVICE); the
        worker's call, where torch and the weights are loaded."""
        update: dict[str, str | None] = {"model": weights}
        if device is not None:
            update["device"] = device
        return self.registry.create(self.backend, self.settings.model_copy(update=update))

    def for_workers(
        self, models: Sequence[str] | None = None, device: str | None = None
    ) -> WeightsRouting:
        """How a worker finds and loads the weights of a job's model id; `models` limits it
        to some served ids (`clipforge worker --model ID`); `device` is the worker's own
        (`backends/devices.py` worker_devices). The lite id comes first, so that a worker
        warms up with the small model."""
        ids = self.ids if not models else tuple(self.require(m).id for m in models)
        warm_first = tuple(sorted(ids, key=lambda model_id: model_id != LITE))
        load = partial(self.load, device=device)
        return WeightsRouting(self.weights_for, load, warm_first, self._served_reference_weights)

    def _served_reference_weights(self, model_id: str) -> str | None:
        served = self._models.get(model_id)
        return served.reference_weights if served is not None else None
