"""One served API model id: its backend, its weights and what they can do, and what follows
for a request (images taken, sound, reference images)."""

from __future__ import annotations

from dataclasses import dataclass

from clipforge.backends.base import Capabilities
from clipforge.errors import InvalidField
from clipforge.schemas import IMAGE_TO_VIDEO_MODELS
from clipforge.seedance_models import FirstFrame, ModelSpec, spec_for
from clipforge.settings.loras import LoraAdapter


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
