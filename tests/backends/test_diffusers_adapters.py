"""LoRA adapters on the tiny Wan and LTX pipelines: random rank-2 adapters built in code
(`tiny/lora.py`), loaded through diffusers' own loaders as CLIPFORGE_LORAS declares them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.backends.diffusers.tiny.lora import build_tiny_lora
from clipforge.errors import AdapterUnavailable, GenerationFailed
from clipforge.schemas import GenerationRequest, LoraChoice
from clipforge.settings.loras import LoraAdapter
from tests.conftest import make_tiny_settings

FUSED_TOLERANCE = 1e-4
"""Fused weights vs the same adapter as LoRA layers: float32 rounding of W + scale * B @ A."""


@dataclass
class Rig:
    """A warm tiny backend of one family with its declared adapters."""

    family: str
    folder: Path
    files: dict[str, Path]
    backend: DiffusersBackend


def _adapters(files: dict[str, Path]) -> list[dict[str, Any]]:
    return [{"name": name, "source": str(path)} for name, path in files.items()]


@pytest.fixture(scope="module", params=["wan", "ltx"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    family = request.param
    root = tmp_path_factory.mktemp(f"lora-{family}")
    folder = build_tiny_pipeline(family, root / "weights")
    other = build_tiny_pipeline("ltx" if family == "wan" else "wan", root / "other")
    files = {
        "style": build_tiny_lora(folder, root / "style.safetensors", seed=1),
        "other": build_tiny_lora(folder, root / "other.safetensors", seed=2),
        "comfy": build_tiny_lora(folder, root / "comfy.safetensors", seed=1, layout="comfy"),
        "missing": root / "nowhere" / "gone.safetensors",
        "foreign": build_tiny_lora(other, root / "foreign.safetensors"),
        "shapes": _wrong_shapes(folder, root / "shapes.safetensors"),
    }
    hub = {"name": "hub", "source": "someone/not-in-the-cache", "weight_name": "lora.safetensors"}
    declared = {str(folder): [*_adapters(files), hub]}  # the tests run with HF_HUB_OFFLINE=1
    settings = make_tiny_settings(folder, loras=declared)
    backend = DiffusersBackend.from_settings(settings)
    yield Rig(family, folder, files, backend)
    backend.close()


def _wrong_shapes(folder: Path, path: Path) -> Path:
    """The style adapter with its down matrices a few columns too wide."""
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(build_tiny_lora(folder, path, seed=1)))
    wider = {k: torch.cat([v, v[:, :3]], 1) if "lora_A" in k else v for k, v in tensors.items()}
    save_file(wider, str(path))
    return path


def _render(backend: DiffusersBackend, *loras: tuple[str, float]) -> torch.Tensor:
    """The float frames of a fixed request with `loras` active (as generate() activates them)."""
    request = GenerationRequest(
        model="bytedance/seedance-1-0-lite-t2v",
        prompt="a red ball",
        seed=3,
        loras=tuple(LoraChoice(name=n, scale=s) for n, s in loras),
    )
    backend.adapters.activate(request.loras)
    arguments = backend.call_arguments(request, backend.plan(request), lambda step, total: None)
    with torch.inference_mode():
        return backend.pipeline(**arguments).frames


@pytest.fixture(scope="module")
def base(rig: Rig) -> torch.Tensor:
    return _render(rig.backend)


def test_an_adapter_changes_the_output_and_none_is_the_base_model_bit_for_bit(
    rig: Rig, base: torch.Tensor
) -> None:
    styled = _render(rig.backend, ("style", 1.0))
    assert (styled - base).abs().max() > 1e-2
    assert not torch.equal(_render(rig.backend, ("style", 0.5)), styled)  # the scale counts
    assert torch.equal(_render(rig.backend), base)  # adapters off: the base layers alone
    assert torch.equal(_render(rig.backend, ("style", 1.0)), styled)  # and back, exactly


def test_a_comfy_layout_is_converted_on_load(rig: Rig, base: torch.Tensor) -> None:
    """ComfyUI keys (Wan: kohya's lora_down/up/alpha under diffusion_model., lightx2v's
    layout; LTX: the trainer's) hold the same matrices as the diffusers file of the same
    seed: diffusers' converter maps them onto the same layers."""
    comfy = _render(rig.backend, ("comfy", 1.0))
    assert (comfy - base).abs().max() > 1e-2
    assert torch.allclose(comfy, _render(rig.backend, ("style", 1.0)), atol=1e-5)


def test_bad_adapters_are_recorded_and_the_rest_serve(rig: Rig) -> None:
    status = rig.backend.adapter_status()
    assert {name for name, why in status.items() if why is None} == {"style", "other", "comfy"}
    assert "no file at" in str(status["missing"])
    assert "match no layer of this model" in str(status["foreign"])
    assert "shapes do not fit" in str(status["shapes"])
    assert "only the local Hugging Face cache" in str(status["hub"])
    with pytest.raises(AdapterUnavailable, match="shapes"):
        rig.backend.adapters.activate([LoraChoice(name="shapes", scale=1.0)])
    with pytest.raises(GenerationFailed, match="no LoRA adapter 'ghost'"):
        rig.backend.adapters.activate([LoraChoice(name="ghost", scale=1.0)])


def test_two_adapters_together_and_switching_loads_nothing(rig: Rig, base: torch.Tensor) -> None:
    loads = rig.backend.adapters.loads
    both = _render(rig.backend, ("style", 1.0), ("other", 1.0))
    assert not torch.equal(both, _render(rig.backend, ("other", 1.0)))
    assert torch.equal(_render(rig.backend), base)
    assert rig.backend.adapters.loads == loads


def test_fused_equals_unfused_within_tolerance(rig: Rig) -> None:
    unfused = _render(rig.backend, ("style", 0.8))
    spec = LoraAdapter(name="style", source=str(rig.files["style"]), scale=0.8)
    fixed = DiffusersBackend.from_settings(
        make_tiny_settings(
            rig.folder, loras={str(rig.folder): [spec.model_dump()]}, lora_fixed=[str(rig.folder)]
        )
    )
    try:
        assert not fixed.pipeline.get_list_adapters()  # fused in: no LoRA layer is left
        fused = _render(fixed)
        assert (fused - unfused).abs().max() < FUSED_TOLERANCE
        with pytest.raises(GenerationFailed, match="fixed"):
            fixed.adapters.activate([LoraChoice(name="style", scale=1.0)])
    finally:
        fixed.close()


def test_past_the_bound_the_least_recently_used_is_unloaded(rig: Rig) -> None:
    files = {name: rig.files[name] for name in ("style", "other")}
    settings = make_tiny_settings(
        rig.folder, loras={str(rig.folder): _adapters(files)}, lora_max_loaded=1
    )
    backend = DiffusersBackend.from_settings(settings)
    try:
        adapters = backend.adapters
        assert adapters.loaded == ("other",) and adapters.loads == 2  # both checked at warm-up
        for name in ("style", "other", "other", "style"):
            adapters.activate([LoraChoice(name=name, scale=1.0)])
            assert adapters.loaded == (name,)
        assert adapters.loads == 5
    finally:
        backend.close()


def test_wan_a14b_takes_one_adapter_per_expert(tmp_path: Path) -> None:
    """A two-file release (Wan2.2-Lightning): one file per expert, the second declared with
    transformer_2; both active together, each changing the output, none the base model."""
    folder = build_tiny_pipeline("wan2.2-t2v-a14b", tmp_path / "weights")
    files = {
        "high": build_tiny_lora(folder, tmp_path / "high.safetensors", seed=1),
        "low": build_tiny_lora(folder, tmp_path / "low.safetensors", seed=2),
    }
    declared = _adapters(files)
    declared[1]["transformer_2"] = True
    backend = DiffusersBackend.from_settings(
        make_tiny_settings(folder, loras={str(folder): declared})
    )
    try:
        assert backend.pipeline.get_list_adapters() == {
            "transformer": ["high"],
            "transformer_2": ["low"],
        }
        base = _render(backend)
        both = _render(backend, ("high", 1.0), ("low", 1.0))
        assert (both - base).abs().max() > 1e-2
        assert (both - _render(backend, ("high", 1.0))).abs().max() > 1e-2
        assert torch.equal(_render(backend), base)
    finally:
        backend.close()
