"""Request body rules shared by every surface: JSON null means absent, an unknown field is
refused, and integer fields are bounded and integers only.

`Body` is the base of every request body: a key whose value is null is dropped before
validation (the BytePlus and Volcengine SDKs send every unset argument as null), any
other key the body does not declare is a 400 naming it (a field accepted and ignored is a
defect), and every string in it is held to `checks.text_problem` (no control characters,
no bidi overrides), whatever field it is in.

A JSON number with a fraction or an exponent (`5.0`, `1e400`) is refused for an integer field
on every surface, the way Ark's own validation refuses it (a 400 naming the field), rather
than accepted on some fields and refused on others. Each field's range is in its type.
Integer query parameters (`QueryInt`) follow the same rule: ASCII digits only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from clipforge.api.accept.checks import text_problem
from clipforge.schemas import DURATIONS, FPS, MAX_SECONDS, SEED_MAX


class Body(BaseModel):
    """A request body: null means absent, unknown fields are refused (module docstring)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        """Every string of every body: no control characters, no bidi overrides (checks.py).
        A data: URL is left to image intake, which decodes it (and may be megabytes long)."""
        for text in value if isinstance(value, list) else (value,):
            plain = isinstance(text, str) and not text.startswith("data:")
            problem = text_problem(text) if plain else None
            if problem:
                raise PydanticCustomError("text_control", problem)
        return value


def _ascii_digits(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,15}", value):
        raise PydanticCustomError("int_parsing", "Input should be a whole number in digits")
    return value


QueryInt = Annotated[int, BeforeValidator(_ascii_digits)]
"""An integer query parameter: `5`, never `5.0`, `1e3`, `+5` or non-ASCII digits (the
rule of the bodies)."""


EXPIRES_AFTER_MAX = 259_200
"""Longest execution_expires_after (72 h), as Ark documents it."""


def int_choice(values: Sequence[int]) -> Any:
    """An integer that must be one of `values` (`5.0` is refused, not read as 5)."""
    allowed = tuple(values)

    def check(value: object) -> int:
        if type(value) is not int or value not in allowed:  # not a bool, not 5.0
            expected = " or ".join(str(v) for v in allowed)
            raise PydanticCustomError(
                "literal_error", "Input should be {expected}", {"expected": expected}
            )
        return value

    schema = {"type": "integer", "enum": list(allowed)}
    return Annotated[int, PlainValidator(check), WithJsonSchema(schema)]


Duration = int_choice(DURATIONS)
ArkDuration = Annotated[StrictInt, Field(ge=-1, le=MAX_SECONDS)]
"""Ark's seconds; which an id takes is its row's (`api/surfaces/ark/requests.py`)."""
ArkFrames = Annotated[
    StrictInt,
    Field(
        ge=29,
        le=289,
        description="Frames (at 24 fps), 25 + 4n from 29 to 289; instead of duration.",
    ),
]
Priority = Annotated[
    StrictInt, Field(ge=0, le=100, description="Higher first within a service tier (0-100).")
]
FramesPerSecond = int_choice((FPS,))
Seed = Annotated[
    StrictInt,
    Field(ge=-1, le=SEED_MAX, description="Same seed, same request: same video. -1: random."),
]
ExpiresAfter = Annotated[
    StrictInt,
    Field(
        ge=1,
        le=EXPIRES_AFTER_MAX,
        description="Seconds a task may wait in the queue before it ends expired (at most 72 h).",
    ),
]

NotSupported = Literal[False]
"""A flag no backend here supports: false (or null, or absent) only; true is a 400."""


def _json_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("float_type", "Input should be a number")
    return value


Number = Annotated[float, BeforeValidator(_json_number)]
"""A JSON number, whole or not (never a string or a boolean); one location in errors."""


class LoraIn(Body):
    """One LoRA adapter a request asks for, by the name the operator declared for the model
    (`GET /v1/models` lists them); a path or URL is no name (a 400)."""

    name: StrictStr = Field(min_length=1, max_length=200)
    scale: Number | None = Field(
        None, ge=-10, le=10, description="Default: the adapter's declared scale."
    )


Loras = Annotated[
    list[LoraIn],
    Field(
        max_length=16,
        description='LoRA adapters by name, e.g. [{"name": "pixel", "scale": 0.8}] (an '
        "extension; docs/LORA.md).",
    ),
]


class Sampling(Body):
    """The self-hosted peers' extension fields (native, AI/ML and OpenAI-style bodies),
    honoured where the model's backend takes them (`routing.ModelRouting.check`)."""

    negative_prompt: StrictStr | None = Field(None, max_length=4000)
    num_inference_steps: StrictInt | None = Field(None, ge=1, le=200)
    guidance_scale: StrictFloat | StrictInt | None = Field(None, ge=0, le=50)
    seed: Seed | None = None
    loras: Loras | None = None
