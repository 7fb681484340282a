"""Shared test set-up. The suite runs in pytest-xdist workers (pyproject's addopts), one
process per core and one more (`pytest_xdist_auto_num_workers` below): each worker has one
torch thread (two threads on a busy 2-core box are 10x slower), its own PostgreSQL cluster
(`postgres`, started when a test first asks for it) and its own tiny pipelines (built under
the worker's own tmp_path_factory folder)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest

from clipforge.settings import Settings
from tests.postgres import postgres

__all__ = ["postgres"]  # one cluster per worker, for every test that asks for it

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

try:
    import torch
except ImportError:  # the API-only install has no torch
    torch = None  # type: ignore[assignment]
else:
    torch.set_num_threads(1)


# --- tiny diffusers pipelines (random weights, built offline once per session) ---------------

TINY_NATIVE: dict[str, Any] = {
    "native_short_side": 32,
    "native_max_frames": 9,
    "num_inference_steps": 2,
    "device": "cpu",
    "dtype": "float32",
}
"""What makes a tiny pipeline fast: 32 px short side, 9 frames, 2 steps, on the CPU."""
_LTX_13B_TWINS = (
    "ltx-video-0.9.7-distilled",
    "ltx-video-0.9.8-13b-dev",
    "ltx-video-0.9.8-13b-distilled",
)
UNNAMED_ENTRY: dict[str, str] = {"wan2.1-i2v-14b-480p": "wan2.1-i2v-14b-720p"}
UNNAMED_ENTRY |= dict.fromkeys(_LTX_13B_TWINS, "ltx-video-0.9.7-dev")
UNNAMED_ENTRY["ltx-2.3-distilled"] = "ltx-2.3"
"""The entry an unnamed copy of an entry's tiny twin is identified as, where configs are
identical (the first such entry); tests that run every entry's twin skip the LTX 13B ones,
whose unnamed copies run ltx-video-0.9.7-dev's rules anyway."""


def _build_tiny(
    family: Literal["wan", "ltx", "ltx-condition"], factory: pytest.TempPathFactory
) -> Path:
    pytest.importorskip("diffusers")
    from clipforge.backends.diffusers.tiny import build_tiny_pipeline

    return build_tiny_pipeline(family, factory.mktemp(f"tiny-{family}"))


@pytest.fixture(scope="session")
def tiny_wan_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny random-weight WanPipeline (skips when diffusers is not installed)."""
    return _build_tiny("wan", tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_ltx_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny random-weight LTXPipeline (skips when diffusers is not installed)."""
    return _build_tiny("ltx", tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_ltx_condition_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny LTXConditionPipeline, the class LTX-Video 0.9.5+ folders are saved as."""
    return _build_tiny("ltx-condition", tmp_path_factory)


def make_tiny_settings(model: Path | str, **overrides: Any) -> Settings:
    """Settings serving `model` with the diffusers backend at TINY_NATIVE size."""
    return Settings(backend="diffusers", model=str(model), **{**TINY_NATIVE, **overrides})


@pytest.fixture(scope="session")
def tiny_settings() -> Callable[..., Settings]:
    """make_tiny_settings: `tiny_settings(tiny_wan_path, data_dir=tmp_path)`."""
    return make_tiny_settings


# --- scheduling: the longest modules first --------------------------------------------------

LONG_SECONDS = 120
"""What a `slow` mark counts for when ordering (a longer `timeout` mark counts as itself)."""


def _expected_seconds(item: pytest.Item) -> int:
    timeout = item.get_closest_marker("timeout")
    seconds = int(timeout.args[0]) if timeout and timeout.args else 0
    return max(seconds, LONG_SECONDS if item.get_closest_marker("slow") else 0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with long tests (a `slow` or a longer `timeout` mark) run first, the longest
    first, each module's tests kept together and in order: xdist's worksteal hands each worker
    a contiguous share and then steals from the ends of the queues, so the short tests at the
    end fill the gaps and both cores finish together (a long test left to the end would run
    on one core while the other idles)."""
    modules: dict[str, int] = {}
    for item in items:
        name = item.nodeid.split("::")[0]
        modules[name] = max(modules.get(name, 0), _expected_seconds(item))
    rank = {name: place for place, name in enumerate(modules)}
    items.sort(
        key=lambda item: (-modules[item.nodeid.split("::")[0]], rank[item.nodeid.split("::")[0]])
    )


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than there are cores. Many tests wait on a subprocess, a
    server or PostgreSQL: with one worker per core the two cores of the CI machine were ~16%
    idle (659 s for the suite); a third worker fills that (597-604 s, docs/BENCHMARKS.md)."""
    return (os.cpu_count() or 1) + 1
