"""Settings of the LoRA adapters an operator declares per weights, which of them always
apply, and how many a worker keeps loaded (docs/LORA.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import NoDecode

ADAPTER_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""What an adapter's name may be: a short word, never a path or a URL."""


class LoraAdapter(BaseModel):
    """One LoRA adapter an operator declares for a model (CLIPFORGE_LORAS; docs/LORA.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=ADAPTER_NAME, description="What requests call it (`loras`).")
    source: str = Field(
        min_length=1,
        description="A local .safetensors file, a folder holding one, or a hub id (the hub "
        "is asked only where it can be reached: HF_HUB_OFFLINE reads the local cache).",
    )
    weight_name: str | None = Field(
        None, description="The file in a folder or hub repository holding several."
    )
    scale: float = Field(1.0, ge=-10, le=10, description="Scale when a request names none.")
    transformer_2: bool = Field(
        False,
        description="Wan 2.2 A14B: load it into the low-noise expert (`transformer_2`), as the "
        "low-noise file of a two-file release (Wan2.2-Lightning) is meant.",
    )


class LoraFields(BaseModel):
    """The LoRA fields of `Settings` (CLIPFORGE_<NAME>)."""

    loras: dict[str, list[LoraAdapter]] = Field(
        default_factory=dict,
        description="JSON object: weights (as CLIPFORGE_MODEL or CLIPFORGE_MODEL_MAP name "
        'them) -> their LoRA adapters, e.g. {"wan2.1-t2v-1.3b": [{"name": "pixel", "source": '
        '"/loras/pixel.safetensors", "scale": 0.8}]}; requests choose among them by name.',
    )
    lora_fixed: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated weights (keys of CLIPFORGE_LORAS) whose adapters always "
        "apply at their scales, fused into the weights once: requests may not choose (`loras` "
        "is a 400 there) and each step costs what the base model's does.",
    )
    lora_max_loaded: int = Field(
        8,
        ge=1,
        le=64,
        description="Adapters a worker keeps loaded beside its model; beyond, the least "
        "recently used is unloaded (and loaded again when a request names it).",
    )

    @field_validator("loras")
    @classmethod
    def _unique_adapter_names(
        cls, value: dict[str, list[LoraAdapter]]
    ) -> dict[str, list[LoraAdapter]]:
        for weights, adapters in value.items():
            names = [adapter.name for adapter in adapters]
            twice = sorted({name for name in names if names.count(name) > 1})
            if twice:
                raise ValueError(f"{weights}: adapter names must differ ({', '.join(twice)})")
        return value

    def adapters_for(self, weights: str | None) -> tuple[tuple[LoraAdapter, ...], bool]:
        """The LoRA adapters declared for `weights` (CLIPFORGE_LORAS) and whether they are
        fixed (CLIPFORGE_LORA_FIXED: always on, fused; only where any are declared). The API's
        routing and the worker's backend both ask here, so they agree on what a request may
        choose."""
        adapters = tuple(self.loras.get(weights or "", ()))
        return adapters, bool(adapters) and (weights or "") in self.lora_fixed
