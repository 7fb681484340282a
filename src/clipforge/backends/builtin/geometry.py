"""Native sizes of the built-in model: short side fixed, long side by the request's ratio."""

from __future__ import annotations

SHORT_SIDE = 32
SIZE_MULTIPLE = 4


def native_size(width: int, height: int, short_side: int = SHORT_SIDE) -> tuple[int, int]:
    """(width, height) with the given short side and the long side rounded to SIZE_MULTIPLE."""
    scale = short_side / min(width, height)

    def side(value: int) -> int:
        return max(SIZE_MULTIPLE, round(value * scale / SIZE_MULTIPLE) * SIZE_MULTIPLE)

    return side(width), side(height)
