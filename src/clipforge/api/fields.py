"""Integer field types shared by every surface: bounded, and integers only.

A JSON number with a fraction or an exponent (`5.0`, `1e400`) is refused for an integer field
on every surface, the way Ark's own validation refuses it (a 400 naming the field), rather
than accepted on some fields and refused on others. Each field's range is in its type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field, PlainValidator, StrictInt, WithJsonSchema
from pydantic_core import PydanticCustomError

from clipforge.schemas import DURATIONS, FPS, SEED_MAX

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
