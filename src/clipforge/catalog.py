"""Which API model ids this server serves, and with which backend (plain data, no torch)."""

from __future__ import annotations

from dataclasses import dataclass

from clipforge.backends.diffusers_catalog import weights_for_model
from clipforge.errors import InvalidField
from clipforge.schemas import IMAGE_TO_VIDEO_MODELS, SEEDANCE_MODELS
from clipforge.settings import Settings


@dataclass(frozen=True)
class ServedModel:
    id: str
    backend: str
    weights: str | None
    image_input: bool = False


class ModelCatalog:
    """Model ids mapped to backends. Every text-to-video Seedance id maps to the configured
    backend; the image-to-video ids are served only by a backend that takes images."""

    def __init__(self, models: list[ServedModel]) -> None:
        self._models = {model.id: model for model in models}

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelCatalog:
        served = [
            ServedModel(
                model_id,
                settings.resolved_backend,
                weights_for_model(settings.model, settings.model_map, model_id),
            )
            for model_id in SEEDANCE_MODELS
            if model_id not in IMAGE_TO_VIDEO_MODELS
        ]
        return cls(served)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._models.values())

    def require(self, model_id: str) -> ServedModel:
        """The served model, or a 400 naming the field and the ids this server serves."""
        try:
            return self._models[model_id]
        except KeyError:
            problem = f"model {model_id!r} is not served here"
            if model_id in IMAGE_TO_VIDEO_MODELS:
                problem += " (no image-to-video backend is configured)"
            raise InvalidField("model", problem, allowed=list(self._models)) from None
