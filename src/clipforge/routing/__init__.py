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

This module holds `ModelRouting`, the table of served ids built from the settings; its
parts live beside it: `weights` (the catalogue defaults and which weights and backend serve
an id), `names` (aliases and dated names), `served` (one served id and what it can do),
`loras` (which adapters a request may name) and `workers` (what a worker is handed).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial

from clipforge.backends.base import Backend
from clipforge.backends.registry import BackendRegistry, default_registry
from clipforge.errors import InvalidField
from clipforge.routing.loras import AskedLora, choose_loras
from clipforge.routing.names import model_id_for
from clipforge.routing.served import ServedModel
from clipforge.routing.weights import (
    LITE,
    backend_name,
    reference_weights_for_model,
    weights_for_model,
)
from clipforge.routing.workers import WeightsRouting
from clipforge.schemas import IMAGE_TO_VIDEO_MODELS, GenerationRequest, LoraChoice
from clipforge.seedance_models import MODEL_IDS
from clipforge.settings import Settings


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
            adapters, fixed = settings.adapters_for(weights)
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
        naming the field otherwise (`routing/loras.py`)."""
        return choose_loras(model, asked, self.settings.lora_max_loaded, field)

    def unserved_adapter_keys(self) -> list[str]:
        """Keys of CLIPFORGE_LORAS that name no served model's weights (a typo, most likely:
        the key must be spelled as CLIPFORGE_MODEL or CLIPFORGE_MODEL_MAP spell them)."""
        served = {model.weights for model in self}
        return [key for key in self.settings.loras if key not in served]

    def resolve(self, name: str, with_image: bool = False, field: str = "model") -> ServedModel:
        """The served model a client's model name stands for: a served id, or an alias
        (`routing/names.py`); with an image, the family's image-to-video id."""
        return self.require(model_id_for(name, self.settings.model_aliases, with_image), field)

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
