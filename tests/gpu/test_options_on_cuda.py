"""Every GPU option once, on a tiny real pipeline on a CUDA device (`pytest -m gpu`; skipped
where torch sees no CUDA device): each option renders frames close to the plain CUDA run,
a cancelled job leaves the device memory where it was, and a real CUDA out-of-memory gives
the job back to the queue (the same mapping is checked on the CPU in tests/worker/test_runner.py
by raising torch.cuda.OutOfMemoryError).

The options' behaviour (calls saved, tiles decoded, compile equal to eager) is checked on the
CPU in tests/backends/test_diffusers_options.py; here: that they run where they are meant to.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.errors import JobCancelled
from clipforge.files.local import LocalStorage
from clipforge.schemas import GenerationRequest, JobStatus, Resolution
from clipforge.settings import Settings
from clipforge.store import SQLiteJobStore
from clipforge.worker.runner import Worker
from tests.conftest import make_tiny_settings

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

REQUEST = GenerationRequest(model="m", prompt="a red ball", seed=3)
CUDA = {"device": "cuda", "num_inference_steps": 6}

# option settings -> the largest frame difference (levels of 255) from the plain run allowed
OPTIONS: dict[str, tuple[dict[str, Any], float | None]] = {
    "offload-model": ({"offload": "model"}, 2),
    "offload-group": ({"offload": "group"}, 2),
    "vae-tiling-slicing": ({"vae_tiling": True, "vae_slicing": True}, 2),  # one tile at 32 px
    "compile": ({"compile": True, "compile_mode": "default"}, 2),
    "attention-cudnn": ({"attention_backend": "_native_cudnn"}, 4),
    "attention-flash": ({"attention_backend": "_native_flash"}, 8),  # half precision inside
    "first-block-cache": ({"step_cache": "first_block", "step_cache_threshold": 0.3}, None),
    "taylorseer": ({"step_cache": "taylorseer"}, None),
    "cache-dit": ({"step_cache": "cache_dit"}, None),
    "bfloat16": ({"dtype": "bfloat16"}, None),
    "compile-group-offload-cache": (
        {"compile": True, "offload": "group", "step_cache": "first_block"},
        None,
    ),
}


def _frames(backend: DiffusersBackend, progress: Callable[[int, int], None] | None = None) -> Any:
    clip = backend.generate(REQUEST, progress or (lambda s, t: None))
    return np.stack(list(clip.frames)).astype(float)


@pytest.fixture(scope="module")
def plain(tiny_wan_path: Path) -> np.ndarray:
    return _frames(DiffusersBackend.from_settings(make_tiny_settings(tiny_wan_path, **CUDA)))


@pytest.mark.parametrize("name", list(OPTIONS))
def test_each_option_runs_on_cuda(name: str, tiny_wan_path: Path, plain: np.ndarray) -> None:
    overrides, tolerance = OPTIONS[name]
    if overrides.get("step_cache") == "cache_dit" and not importlib.util.find_spec("cache_dit"):
        pytest.skip("cache-dit is an optional package, not installed here")
    backend = DiffusersBackend.from_settings(
        make_tiny_settings(tiny_wan_path, **{**CUDA, **overrides})
    )
    try:
        frames = _frames(backend)
        assert frames.shape == plain.shape and frames.std() > 1
        difference = np.abs(frames - plain)
        if tolerance is not None:
            assert difference.max() <= tolerance, (name, difference.max())
        else:  # lossy by design: still the same picture
            assert difference.mean() <= 8, (name, difference.mean())
    finally:
        backend.close()
        torch._dynamo.reset()


def test_a_cancel_leaves_the_device_memory_where_it_was(tiny_wan_path: Path) -> None:
    settings = make_tiny_settings(tiny_wan_path, **{**CUDA, "num_inference_steps": 20})
    backend = DiffusersBackend.from_settings(settings)
    _frames(backend)  # warm: the allocator's own caches are made
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()

    def cancel_at_3(step: int, total: int) -> None:
        if step == 3:
            raise JobCancelled("cancelled")

    for _ in range(3):  # a leak per cancel would add up
        with pytest.raises(JobCancelled):
            backend.generate(REQUEST, cancel_at_3)
    torch.cuda.synchronize()
    assert torch.cuda.memory_allocated() <= before + (1 << 20), (
        torch.cuda.memory_allocated(),
        before,
    )
    backend.close()
    assert torch.cuda.memory_allocated() < before  # and closing gives the weights back


def test_a_cuda_out_of_memory_gives_the_job_back(tiny_wan_path: Path, tmp_path: Path) -> None:
    """The first load leaves 1 MiB free under a per-process cap: the job runs out of memory,
    goes back to the queue uncounted as the job's fault, and the reloaded backend (cap lifted)
    completes it."""
    settings = Settings(data_dir=tmp_path, heartbeat_seconds=0.05, lease_seconds=30)
    tiny = make_tiny_settings(tiny_wan_path, **CUDA)
    store = SQLiteJobStore(settings.data_dir / "jobs.db")
    storage = LocalStorage(
        settings.videos_dir, secret=b"k", public_base_url="http://x", ttl_seconds=60
    )
    loads: list[DiffusersBackend] = []
    total = torch.cuda.get_device_properties(0).total_memory

    def load() -> DiffusersBackend:
        torch.cuda.set_per_process_memory_fraction(1.0)
        backend = DiffusersBackend.from_settings(tiny)
        if not loads:
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            cap = torch.cuda.memory_allocated() + (1 << 20)
            torch.cuda.set_per_process_memory_fraction(cap / total)
        loads.append(backend)
        return backend

    request = GenerationRequest(
        model="bytedance/seedance-1-0-pro-t2v", prompt="a red ball", resolution=Resolution.P480
    )
    job = store.create(request)
    worker = Worker(store, storage, load, settings, "host:1:boot:0")
    try:
        worker.run_once()
        requeued = store.get(job.id)
        assert requeued is not None and requeued.status is JobStatus.QUEUED, requeued
        assert requeued.error_name is None
        worker.run_once()
        done = store.get(job.id)
        assert done is not None and done.status is JobStatus.COMPLETED, done
        assert len(loads) == 2
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        worker.close()
