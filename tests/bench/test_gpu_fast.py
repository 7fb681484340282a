"""bench/gpu_fast.py: the GPU check's fast rows load the 1.3B fast profile from a hub cache the
check fills itself (the device reaches no hub), here at tiny size on the CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.gpu_fast import fast_model, fast_options

from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.errors import ModelUnavailable
from clipforge.schemas import GenerationRequest
from tests.conftest import make_tiny_settings


def test_the_fast_rows_load_the_profile_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    for name in ("HF_HUB_CACHE", "HF_HUB_OFFLINE"):  # restored after the test
        monkeypatch.setattr(constants, name, getattr(constants, name))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = build_tiny_pipeline("wan2.1-t2v-1.3b", tmp_path / "Wan2.1-T2V-1.3B-Diffusers")
    model = fast_model(folder, cache=tmp_path / "hub")
    backend = DiffusersBackend.from_settings(
        make_tiny_settings(model, **fast_options(compile=False))
    )
    request = GenerationRequest(model="m", prompt="a red ball", seed=1)
    assert backend.plan(request).steps == 3 and backend.family.guidance_scale == 1.0
    assert len(list(backend.generate(request, lambda s, t: None).frames)) == 9
    with pytest.raises(ModelUnavailable, match="compute capability"):  # fp8: H100 and newer
        DiffusersBackend.from_settings(make_tiny_settings(model, **fast_options(fp8=True)))
