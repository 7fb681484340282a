"""Still images of a clip, taken from the frames as they are encoded (no second decode):
a small poster (WebP), a spritesheet of evenly spaced thumbnails (JPEG), and the last frame
in full (PNG, what Ark's `return_last_frame` hands out and what an extension starts from)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from clipforge.video.images import encode_png

POSTER_WIDTH = 640
SPRITE_COLUMNS, SPRITE_ROWS = 5, 2
SPRITE_WIDTH = 256
POSTER_AT = 1 / 3
"""Where the poster is taken: a third into the clip (past the first frame's stillness)."""

KINDS = ("poster", "sprites", "lastframe")
"""The stills of every finished job (storage keys `<job>.<kind>.<ext>`)."""


@dataclass
class Stills:
    """Collects the stills of a clip of `count` frames, one `add(index, frame)` at a time."""

    count: int
    _poster: np.ndarray | None = None
    _sprites: list[np.ndarray] = field(default_factory=list)
    _last: np.ndarray | None = None

    def add(self, index: int, frame: np.ndarray) -> None:
        if index == min(self.count - 1, int(self.count * POSTER_AT)):
            self._poster = _scaled(frame, POSTER_WIDTH)
        if index in self._sprite_indices():
            self._sprites.append(_scaled(frame, SPRITE_WIDTH))
        if index == self.count - 1:
            self._last = frame.copy()

    def encoded(self) -> dict[str, bytes]:
        """{kind: file bytes} for the stills taken (all three once every frame was added)."""
        out: dict[str, bytes] = {}
        if self._poster is not None:
            out["poster"] = _save(self._poster, "WEBP", quality=80)
        if self._sprites:
            out["sprites"] = _save(_grid(self._sprites), "JPEG", quality=85)
        if self._last is not None:
            out["lastframe"] = encode_png(self._last)
        return out

    def _sprite_indices(self) -> set[int]:
        cells = SPRITE_COLUMNS * SPRITE_ROWS
        return {round(i * (self.count - 1) / max(1, cells - 1)) for i in range(cells)}


def _scaled(frame: np.ndarray, width: int) -> np.ndarray:
    height = max(2, round(frame.shape[0] * width / frame.shape[1]))
    return np.asarray(Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR))


def _grid(tiles: list[np.ndarray]) -> np.ndarray:
    tile_h, tile_w = tiles[0].shape[:2]
    sheet = np.zeros((tile_h * SPRITE_ROWS, tile_w * SPRITE_COLUMNS, 3), np.uint8)
    for n, tile in enumerate(tiles[: SPRITE_COLUMNS * SPRITE_ROWS]):
        row, column = divmod(n, SPRITE_COLUMNS)
        sheet[row * tile_h : (row + 1) * tile_h, column * tile_w : (column + 1) * tile_w] = tile
    return sheet


def _save(pixels: np.ndarray, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=kind, **options)
    return out.getvalue()
