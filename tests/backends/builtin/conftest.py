"""The shipped built-in model, loaded once per module that asks for it."""

from __future__ import annotations

import pytest

from clipforge.backends.builtin.backend import BuiltinBackend
from clipforge.backends.registry import default_registry
from clipforge.settings import Settings


@pytest.fixture(scope="module")
def shipped() -> BuiltinBackend:
    created = default_registry().create("builtin", Settings(backend="builtin"))
    assert isinstance(created, BuiltinBackend)
    return created
