"""The one model a worker keeps loaded between jobs, and which queued jobs it serves.

Several API model ids may be served by different weights (settings.model_map, or
CLIPFORGE_MODEL=catalogue). A worker holds one set of weights on its device; a job for other
weights closes them and loads those. To reload as rarely as the queue allows, the worker's
claim prefers jobs for the ids its loaded weights serve (`WarmBackend.preferred`).
"""

from __future__ import annotations

from collections.abc import Sequence

from clipforge.backends.base import Backend
from clipforge.routing.workers import WeightsRouting


class WarmBackend:
    """A worker's loaded backend and the weights it was loaded with."""

    def __init__(self, routing: WeightsRouting) -> None:
        self._routing = routing
        self._backend: Backend | None = None
        self._weights: str | None = None
        self.loads = 0
        """How many times weights were loaded (a reload means a model switch or a failure)."""

    def for_model(self, model_id: str, references: bool = False) -> Backend:
        """The backend for `model_id`'s weights (for a request with reference images, the
        id's reference weights where it has any): the warm one, or freshly loaded."""
        weights = self._routing.reference_weights_for(model_id) if references else None
        weights = weights or self._routing.weights_for(model_id)
        if self._backend is not None and weights == self._weights:
            return self._backend
        self.close()
        self._backend = self._routing.load(weights)
        self._weights = weights
        self.loads += 1
        return self._backend

    def warm_up(self) -> Backend:
        """Load the weights of the first served id (or the only backend) now."""
        if self._backend is not None:
            return self._backend
        ids = self._routing.model_ids
        return self.for_model(ids[0] if ids else "")

    @property
    def backend(self) -> Backend | None:
        """The loaded backend, if any (never loads)."""
        return self._backend

    @property
    def weights(self) -> str | None:
        """What the loaded backend was loaded with: a catalogue name, a folder, a hub id, or
        the backend's name where it has no weights to choose; None while nothing is loaded."""
        if self._backend is None:
            return None
        return self._weights or self._backend.name

    def preferred(self) -> Sequence[str] | None:
        """The model ids whose jobs need no reload; None when nothing is loaded."""
        if self._backend is None:
            return None
        ids = self._routing.model_ids
        return [m for m in ids if self._routing.weights_for(m) == self._weights]

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
        self._backend, self._weights = None, None
