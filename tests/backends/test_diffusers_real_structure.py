"""Every catalogue entry as a tiny pipeline with its real repository's structure, saved in the
diffusers format under a name that is not the catalogue's, served with its default profile
and with every profile docs/GPU.md documents: each combination completes a job or refuses at
start with a message that says why. This is what a first GPU run would otherwise discover."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from clipforge.backends.base import ImageInput
from clipforge.backends.diffusers import options as diffusers_options
from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.catalog import capabilities_for
from clipforge.backends.diffusers.entries import CATALOGUE
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.errors import ModelUnavailable
from clipforge.schemas import GenerationRequest
from clipforge.settings import Settings
from tests.conftest import TINY_NATIVE, UNNAMED_ENTRY
from tests.live import live_server, wait_for_job

# a first trace of a transformer class (the tuned and fast profiles): longer than 60 s
pytestmark = pytest.mark.timeout(180)
# LTX-2 (sound; at least 64 px a side): tests/backends/test_diffusers_ltx2.py; unnamed LTX 13B
# twins run ltx-video-0.9.7-dev's rules: once is enough
NAMES = [
    name
    for name, entry in CATALOGUE.items()
    if not entry.rules.audio and UNNAMED_ENTRY.get(name) != "ltx-video-0.9.7-dev"
]
SAME_STRUCTURE = {
    "hunyuanvideo-1.5-480p-i2v",
    "hunyuanvideo-1.5-720p-t2v",
    "hunyuanvideo-1.5-720p-i2v",
    "hunyuanvideo-1.5-480p-t2v-distilled",
    "hunyuanvideo-1.5-480p-i2v-distilled",
    "hunyuanvideo-1.5-720p-i2v-distilled",
}
"""HunyuanVideo 1.5 checkpoints whose modules are those of 480p-t2v or 480p-i2v-step-distilled
(only target_size and the guider's scale differ): each is identified and served below, the
profiles and offload hooks run once per structure (the CI's time)."""
PROFILED = [name for name in NAMES if name not in SAME_STRUCTURE]
NOT_APPLICABLE = {
    ("tuned", "hunyuanvideo"): "CLIPFORGE_STEP_CACHE=first_block does not apply to "
    "HunyuanVideo15Transformer3DModel",
}
"""Profiles a family refuses at start, and why (diffusers 0.42's first-block cache knows no
HunyuanVideo 1.5 block: docs/GPU.md says so)."""
GPU_PROFILES: dict[str, dict[str, Any]] = {
    # docs/GPU.md, "Fast profile for step-distilled weights"
    "fast": {
        "num_inference_steps": 4,
        "guidance_scale": 1.0,
        "compile": True,
        "attention_backend": "_native_cudnn",
    },
    # docs/GPU.md, "Tuned profile for 50-step models on one GPU"
    "tuned": {"compile": True, "attention_backend": "_native_cudnn", "step_cache": "first_block"},
    # docs/GPU.md, "Small GPUs"
    "small-gpu": {"offload": "group", "vae_tiling": True},
}


class _Folders(dict[str, Path]):
    """Tiny folders built when first asked for (each test waits for its own entry only)."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root

    def __missing__(self, name: str) -> Path:
        self[name] = build_tiny_pipeline(name, self.root / f"weights-{NAMES.index(name)}")
        return self[name]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny folder per entry, named `weights-N` (never the catalogue name)."""
    return _Folders(tmp_path_factory.mktemp("real-structure"))


@pytest.fixture(scope="module", autouse=True)
def _trace_compile_without_codegen() -> Iterator[None]:
    """Dynamo traces as on a GPU (the same graph breaks); inductor's code generation is
    checked once, in test_diffusers_options. The traces are kept across the module's tests,
    so that each transformer block class is traced once and later models of the class reuse
    it, with room for every class and variant here (the default limit of 8 recompiles per
    code object would silently run the rest eagerly)."""
    # dynamo's own patch: a monkeypatch of its config module deletes an entry on undo where
    # it read none, and every later compile in the worker then fails on the missing entry
    limits = torch._dynamo.config.patch(recompile_limit=64, accumulated_recompile_limit=1024)
    with pytest.MonkeyPatch.context() as patch, limits:
        patch.setattr(diffusers_options, "COMPILE_BACKEND", "eager")
        yield
    torch._dynamo.reset()


def _settings(folder: Path, **overrides: Any) -> Settings:
    return Settings(backend="diffusers", model=str(folder), **{**TINY_NATIVE, **overrides})


def _request(**fields: Any) -> GenerationRequest:
    values: dict[str, Any] = {"model": "m", "prompt": "a red ball rolls", "seed": 3}
    return GenerationRequest(**(values | fields))


def _images(backend: DiffusersBackend, request: GenerationRequest, seed: int = 0) -> ImageInput:
    width, height = request.size
    rng = np.random.default_rng(seed)
    picture = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    caps = backend.capabilities
    return ImageInput(
        first=picture if caps.first_frame else None,
        last=np.ascontiguousarray(picture[::-1]) if caps.last_frame else None,
    )


def _run(backend: DiffusersBackend, images: bool = False) -> np.ndarray:
    request = _request()
    given = _images(backend, request) if images or backend.family.needs_image else ImageInput()
    steps: list[tuple[int, int]] = []
    plan = backend.plan(request)
    clip = backend.generate(request, lambda step, total: steps.append((step, total)), given)
    frames = np.stack(list(clip.frames))
    assert frames.shape == (plan.num_frames, plan.height, plan.width, 3)
    assert frames.dtype == np.uint8
    assert steps == [(step, plan.steps) for step in range(1, plan.steps + 1)]
    return frames


@pytest.mark.parametrize("name", NAMES)
def test_a_renamed_folder_gets_the_entry_rules_and_completes_a_job(
    name: str, folders: dict[str, Path]
) -> None:
    backend = DiffusersBackend.from_settings(_settings(folders[name]))
    entry = CATALOGUE[name]
    # the I2V 480P and 720P checkpoints have identical configs: unnamed, they get the 720P rules
    expected = UNNAMED_ENTRY.get(name, name)
    assert backend.entry is CATALOGUE[expected]
    assert backend.family.fps == entry.rules.fps
    assert capabilities_for(str(folders[name])).first_frame == entry.rules.first_frame
    _run(backend)
    if entry.rules.first_frame and not entry.rules.needs_image:
        _run(backend, images=True)
    backend.close()


@pytest.mark.parametrize("profile", list(GPU_PROFILES))
@pytest.mark.parametrize("name", PROFILED)
def test_every_documented_profile_completes_or_refuses_at_start(
    name: str, profile: str, folders: dict[str, Path]
) -> None:
    """As documented (a CPU has no cuDNN attention, so those refuse at start naming why), then
    with the GPU-only kernel left out, which must complete a job (or, where the family cannot
    take the profile, refuse at start saying why)."""
    options = GPU_PROFILES[profile]
    runnable = {k: v for k, v in options.items() if k != "attention_backend"}
    why = NOT_APPLICABLE.get((profile, name.split("-")[0]))
    if why is not None:
        with pytest.raises(ModelUnavailable, match=why):
            DiffusersBackend.from_settings(_settings(folders[name], **runnable))
        return
    try:
        backend = DiffusersBackend.from_settings(_settings(folders[name], **options))
    except ModelUnavailable as refused:
        assert "CLIPFORGE_ATTENTION_BACKEND='_native_cudnn'" in str(refused)
        assert "does not run here" in str(refused)
    else:
        _run(backend)
        backend.close()
    backend = DiffusersBackend.from_settings(_settings(folders[name], **runnable))
    _run(backend, images=backend.capabilities.first_frame)
    backend.close()


def test_served_end_to_end_with_a_profile(folders: dict[str, Path], tmp_path: Path) -> None:
    """`clipforge serve` (in-process) with Wan 2.2 TI2V 5B under another name and the tuned
    profile minus the GPU kernel: a text job completes at the entry's frame rate."""
    folder = folders["wan2.2-ti2v-5b"]
    overrides = {**TINY_NATIVE, "compile": True, "step_cache": "first_block"}
    with (
        live_server(
            tmp_path, backend="diffusers", model=str(folder), workers=1, **overrides
        ) as live,
        live.client() as client,
    ):
        created = client.post(
            "/v1/jobs",
            json={
                "model": "bytedance/seedance-1-0-lite-t2v",
                "prompt": "a red ball",
                "duration": 5,
            },
        )
        assert created.status_code in (200, 201), created.text
        job = wait_for_job(
            client, created.json()["id"], lambda j: j["status"] in ("completed", "error")
        )
    assert job["status"] == "completed", job


def test_an_image_job_is_served_end_to_end(folders: dict[str, Path], tmp_path: Path) -> None:
    """`clipforge serve` with Wan 2.1 FLF2V under another name: a first and a last frame go
    through the intake, the store and the worker to the pipeline; the MP4 decodes."""
    from tests.images import data_url, encoded, halves

    folder = folders["wan2.1-flf2v-14b-720p"]
    with (
        live_server(
            tmp_path, backend="diffusers", model=str(folder), workers=1, **TINY_NATIVE
        ) as live,
        live.client() as client,
    ):
        served = {model["id"] for model in client.get("/v1/models").json()["data"]}
        assert served == {"bytedance/seedance-1-0-lite-i2v", "bytedance/seedance-1-0-pro-i2v"}
        body = {
            "model": "bytedance/seedance-1-0-lite-i2v",
            "prompt": "the flag waves",
            "resolution": "480p",
            "image_url": data_url(encoded(halves(640, 360))),
            "last_image_url": data_url(encoded(halves(640, 360)[:, ::-1].copy())),
        }
        created = client.post("/v2/video/generations", json=body)
        assert created.status_code == 200, created.text
        job = wait_for_job(
            client, created.json()["id"], lambda j: j["status"] in ("completed", "error")
        )
        assert job["status"] == "completed", job
        video = client.get(job["video_url"])
    out = tmp_path / "flf2v.mp4"
    out.write_bytes(video.content)
    import av

    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == job["request"]["duration"] * 24 + 1


@pytest.mark.parametrize("name", PROFILED)
def test_group_offload_hooks_run_on_every_component(name: str, folders: dict[str, Path]) -> None:
    """The hooks the small-gpu profile installs (leaf level on diffusers models, A14B's second
    expert included; block level on the text and CLIP image encoders), installed here with
    the CPU as the onload device: the same job, the same frames."""
    from clipforge.backends.diffusers.options import group_offload

    plain = DiffusersBackend.from_settings(_settings(folders[name]))
    offloaded = DiffusersBackend.from_settings(_settings(folders[name]))
    group_offload(offloaded.pipeline, torch.device("cpu"))
    modules = [c for c in offloaded.pipeline.components.values() if isinstance(c, torch.nn.Module)]
    unhooked = [
        type(component).__name__
        for component in modules
        if not any(getattr(m, "_diffusers_hook", None) for m in component.modules())
    ]
    assert modules and not unhooked, unhooked
    images = plain.capabilities.first_frame
    assert np.array_equal(_run(plain, images=images), _run(offloaded, images=images))
