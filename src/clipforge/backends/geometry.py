"""The native-size rule every backend renders by (no torch): the request's aspect ratio at
the backend's own short side, each side a multiple of what its model needs. The video layer
then scales the frames to the exact API size."""

from __future__ import annotations


def native_size(width: int, height: int, short_side: int, multiple: int) -> tuple[int, int]:
    """(width, height) with the aspect ratio of width x height and the short side `short_side`,
    each side rounded to a multiple of `multiple` (at least one); never square unless asked."""
    scale = short_side / min(width, height)
    w, h = (max(multiple, round(side * scale / multiple) * multiple) for side in (width, height))
    if w == h and width != height:  # at tiny sizes rounding can square a 4:3 frame
        return (w + multiple, h) if width > height else (w, h + multiple)
    return w, h
