"""The calibrated step cache (`@cached`: MagCache at its published ratios) and int8 weight-only
quantization, on a tiny Wan 2.1 1.3B twin on the CPU: the work each saves, and how far the clip
moves from the plain run.

Tolerances (uint8 levels, random tiny weights, 9 frames of 32 x 64): MagCache at the published
1.3B setting (threshold 0.12, K 4, retention 0.2) over 50 guided steps runs the blocks on 21 of
the 50 steps of each pass (measured: 84 of 200 block calls), mean change 0.11, worst 3; int8
weights: mean 0.05, worst 1. The bounds below leave room for other CPUs: mean 1, worst 12."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.memory import weight_bytes
from clipforge.backends.diffusers.quantize import check_quantize, mode_for
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.errors import ModelUnavailable
from clipforge.schemas import GenerationRequest
from tests.conftest import make_tiny_settings

REQUEST = GenerationRequest(model="m", prompt="a red ball rolls", seed=3)
MEAN_LEVELS, WORST_LEVELS = 1.0, 12


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline("wan2.1-t2v-1.3b", tmp_path_factory.mktemp("speedups") / "w")


def _render(model: str, **settings: Any) -> tuple[np.ndarray, int, DiffusersBackend]:
    """Frames and the number of block computations (self-attention calls) of one job."""
    backend = DiffusersBackend.from_settings(make_tiny_settings(model, **settings))
    calls: list[int] = []
    for block in backend.pipeline.transformer.blocks:
        block.attn1.register_forward_hook(lambda *args: calls.append(1))
    frames = np.stack(list(backend.generate(REQUEST, lambda s, t: None).frames))
    return frames.astype(np.int16), len(calls), backend


def _close(first: np.ndarray, second: np.ndarray) -> None:
    change = np.abs(first - second)
    assert change.mean() < MEAN_LEVELS and change.max() <= WORST_LEVELS


def test_magcache_skips_blocks_and_stays_close(small: Path) -> None:
    plain, plain_calls, _ = _render(str(small), num_inference_steps=None)
    cached, cached_calls, backend = _render(f"{small}@cached", num_inference_steps=None)
    assert backend.plan(REQUEST).steps == 50  # the published sampling, with the cache
    assert plain_calls == 50 * 2 * 2  # steps x guided passes x blocks
    assert cached_calls < 0.5 * plain_calls  # measured: 84
    _close(plain, cached)
    # A job at another step count gets the ratios interpolated to it, as MagCache does.
    assert backend._magcache is not None
    backend.generate(REQUEST.model_copy(update={"num_inference_steps": 20}), lambda s, t: None)
    assert backend._magcache.steps == 20


def test_int8_weights_take_a_quarter_of_float32_and_stay_close(small: Path) -> None:
    pytest.importorskip("torchao")
    plain, _, base = _render(str(small))
    quantized, _, backend = _render(str(small), quantize={"*": "int8"})
    linear = backend.pipeline.transformer.blocks[0].attn1.to_q.weight
    assert type(linear).__name__ == "Int8Tensor"
    before = weight_bytes(base.pipeline.transformer)
    after = weight_bytes(backend.pipeline.transformer)
    assert after < 0.35 * before  # int8 linears plus scales; norms and embeddings stay float32
    assert backend.memory._offloadable() == after  # the memory plan counts stored bytes
    _close(plain, quantized)


def test_quantize_settings_are_checked_before_loading() -> None:
    assert mode_for({"wan2.1-t2v-1.3b": "int8"}, "/m/x", "wan2.1-t2v-1.3b") == "int8"
    assert mode_for({"*": "fp8", "/m/x": "none"}, "/m/x", None) == "none"
    with pytest.raises(ModelUnavailable, match="not one of"):
        mode_for({"*": "int4"}, "/m/x", None)
    with pytest.raises(ModelUnavailable, match=r"compute capability 8\.9"):
        check_quantize("fp8", torch.device("cpu"))
