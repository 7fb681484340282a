"""Backend registry: built-ins and third-party plugins register the same way.

A plugin package exposes an entry point in the group `clipforge.backends` whose value is a
callable `register(registry)`; the built-ins are registered by `register_builtins` below.
Factories take the settings and return a ready (loaded, warm) backend.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from clipforge.errors import ModelUnavailable

if TYPE_CHECKING:
    from clipforge.backends.base import Backend
    from clipforge.settings import Settings

BackendFactory = Callable[["Settings"], "Backend"]


class BackendRegistry:
    """Names to factories. Importing a backend's heavy dependencies waits for `create`."""

    def __init__(self) -> None:
        self._factories: dict[str, BackendFactory] = {}

    def register(self, name: str, factory: BackendFactory) -> None:
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, settings: Settings) -> Backend:
        try:
            factory = self._factories[name]
        except KeyError:
            raise ModelUnavailable(
                f"no backend named {name!r}; known: {', '.join(self.names()) or 'none'}"
            ) from None
        return factory(settings)


def _diffusers(settings: Settings) -> Backend:
    from clipforge.backends.diffusers_backend import DiffusersBackend

    return DiffusersBackend.from_settings(settings)


def _builtin(settings: Settings) -> Backend:
    from clipforge.backends.builtin.backend import BuiltinBackend

    return BuiltinBackend.from_settings(settings)


def _testpattern(settings: Settings) -> Backend:
    from clipforge.backends.testpattern import TestPatternBackend

    return TestPatternBackend()


def register_builtins(registry: BackendRegistry) -> None:
    registry.register("builtin", _builtin)
    registry.register("diffusers", _diffusers)
    registry.register("testpattern", _testpattern)


def default_registry() -> BackendRegistry:
    """Built-ins plus every installed plugin."""
    registry = BackendRegistry()
    register_builtins(registry)
    for entry in entry_points(group="clipforge.backends"):
        entry.load()(registry)
    return registry
