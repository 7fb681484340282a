"""What a worker is handed to find and load the weights of a job's model id (built by
`ModelRouting.for_workers`, or `WeightsRouting.single` where one backend serves all)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clipforge.backends.base import Backend

WeightsFor = Callable[[str], str | None]
"""API model id -> the weights (catalogue name, folder, hub id; None: the default) serving it."""
WeightsLoader = Callable[[str | None], Backend]
"""Weights -> a loaded, warm backend."""


@dataclass(frozen=True)
class WeightsRouting:
    """How a worker finds and loads the weights for a job's model id (`worker/warm.py`
    keeps the loaded one warm)."""

    weights_for: WeightsFor
    load: WeightsLoader
    model_ids: tuple[str, ...]
    """The ids served; the first is the one loaded when a worker warms up."""
    reference_weights_for: WeightsFor = lambda model_id: None
    """The weights of a request with reference images, where they are others (None: the
    id's own)."""

    @classmethod
    def single(cls, load_backend: Callable[[], Backend]) -> WeightsRouting:
        """One backend serves every id: nothing to prefer, nothing to reload."""
        return cls(lambda model_id: None, lambda weights: load_backend(), ())
