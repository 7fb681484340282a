"""Backend registry: built-ins and third-party plugins register the same way.

A plugin package exposes an entry point in the group `clipforge.backends` whose value is a
callable `register(registry)`; the built-ins are registered by `register_builtins` below.
Factories take the settings and return a ready (loaded, warm) backend.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from clipforge.backends.base import Capabilities
from clipforge.errors import ModelUnavailable

if TYPE_CHECKING:
    from clipforge.backends.base import Backend
    from clipforge.settings import Settings

BackendFactory = Callable[["Settings"], "Backend"]
Describe = Callable[["Settings"], Capabilities]
"""What a backend can do with the weights in `settings.model`, without loading them."""


class BackendRegistry:
    """Names to factories and capabilities. A backend's heavy dependencies (torch) are
    imported by `create` only; `capabilities` reads data."""

    def __init__(self) -> None:
        self._factories: dict[str, BackendFactory] = {}
        self._describe: dict[str, Describe] = {}

    def register(
        self,
        name: str,
        factory: BackendFactory,
        capabilities: Capabilities | Describe = Capabilities(),
    ) -> None:
        """Register `factory` under `name`; `capabilities` is what it can do (the same for
        every weights, or a function of the settings that name them)."""
        self._factories[name] = factory
        fixed = capabilities
        self._describe[name] = (
            (lambda settings: fixed) if isinstance(fixed, Capabilities) else fixed
        )

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, settings: Settings) -> Backend:
        self._check(name)
        return self._factories[name](settings)

    def capabilities(self, name: str, settings: Settings) -> Capabilities:
        self._check(name)
        return self._describe[name](settings)

    def _check(self, name: str) -> None:
        if name not in self._factories:
            raise ModelUnavailable(
                f"no backend named {name!r}; known: {', '.join(self.names()) or 'none'}"
            )


def _diffusers(settings: Settings) -> Backend:
    from clipforge.backends.diffusers.backend import DiffusersBackend

    return DiffusersBackend.from_settings(settings)


def _builtin(settings: Settings) -> Backend:
    from clipforge.backends.builtin.backend import BuiltinBackend

    return BuiltinBackend.from_settings(settings)


def _testpattern(settings: Settings) -> Backend:
    from clipforge.backends.testpattern import TestPatternBackend

    return TestPatternBackend()


def _diffusers_capabilities(settings: Settings) -> Capabilities:
    from clipforge.backends.diffusers.catalog import capabilities_for

    return capabilities_for(settings.model)


def register_builtins(registry: BackendRegistry) -> None:
    from clipforge.backends.builtin.capabilities import CAPABILITIES as BUILTIN
    from clipforge.backends.testpattern import CAPABILITIES as TESTPATTERN

    registry.register("builtin", _builtin, BUILTIN)
    registry.register("diffusers", _diffusers, _diffusers_capabilities)
    registry.register("testpattern", _testpattern, TESTPATTERN)


def default_registry() -> BackendRegistry:
    """Built-ins plus every installed plugin."""
    registry = BackendRegistry()
    register_builtins(registry)
    for entry in entry_points(group="clipforge.backends"):
        entry.load()(registry)
    return registry
