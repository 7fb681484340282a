"""Which LoRA adapters a request renders with: the names the operator declared for the
served model (CLIPFORGE_LORAS), never a path or URL, at the asked or declared scale."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from clipforge.errors import InvalidField
from clipforge.routing.served import ServedModel
from clipforge.schemas import LoraChoice


class AskedLora(Protocol):
    """One adapter as a request body names it (`api/accept/fields.py` LoraIn)."""

    @property
    def name(self) -> str: ...

    @property
    def scale(self) -> float | None: ...


def choose_loras(
    model: ServedModel, asked: Sequence[AskedLora] | None, most: int, field: str = "loras"
) -> tuple[LoraChoice, ...]:
    """The adapters a request renders with: each asked `name` one the operator declared
    for the model (never a path or URL), its `scale` or the declared default; at most
    `most` (CLIPFORGE_LORA_MAX_LOADED); a 400 naming the field otherwise."""
    if not asked:
        return ()
    if model.fixed_adapters:
        raise InvalidField(field, f"model {model.id!r} renders with fixed adapters here")
    declared = {adapter.name: adapter for adapter in model.adapters}
    if len(asked) > most:
        raise InvalidField(field, f"at most {most} adapters")
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
