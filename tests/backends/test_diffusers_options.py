"""Speed and memory options applied to tiny real pipelines on the CPU, each checked by running
the pipeline: compile with every cache and offload hook it can meet, attention backends
against the model's masks, the order diffusers expects."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from huggingface_hub import constants as hub_constants

from clipforge.backends.diffusers import options as diffusers_options
from clipforge.backends.diffusers.attention import (
    MASK_REFUSING,
    MASKED_ATTENTION,
    active_backend,
    probe_inputs,
)
from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.loading import load_pipeline, resolve_weights
from clipforge.backends.diffusers.options import (
    SpeedOptions,
    apply_options,
    compile_transformers,
    enable_step_cache,
    group_offload,
)
from clipforge.backends.diffusers.parallel import (
    context_parallel_config,
    enable_context_parallel,
    parallel_degrees,
)
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.errors import JobCancelled, ModelUnavailable
from clipforge.schemas import GenerationRequest
from clipforge.settings import Settings
from tests.conftest import TINY_NATIVE

CPU = torch.device("cpu")
REQUEST = GenerationRequest(model="m", prompt="a red ball", seed=3)


def _pipeline(path: Path) -> Any:
    return load_pipeline(resolve_weights(str(path)), torch.float32)


def _frames(backend: DiffusersBackend, request: GenerationRequest = REQUEST) -> np.ndarray:
    return np.stack(list(backend.generate(request, lambda s, t: None).frames))


@pytest.fixture
def eager_compile(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dynamo traces as it does on a GPU (the same graph breaks), without code generation."""
    monkeypatch.setattr(diffusers_options, "COMPILE_BACKEND", "eager")
    yield
    torch._dynamo.reset()


def test_options_come_from_settings_and_bad_values_name_the_setting() -> None:
    options = SpeedOptions.from_settings(Settings(vae_tiling=True, step_cache="first_block"))
    assert options.vae_tiling and options.step_cache == "first_block"
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_OFFLOAD='gpu'"):
        SpeedOptions.from_settings(Settings(offload="gpu"))
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_STEP_CACHE"):
        SpeedOptions.from_settings(Settings(step_cache="teacache"))


def _decoder_calls(backend: DiffusersBackend) -> list[int]:
    """How many times the VAE's decoder runs (once per latent frame, per tile when tiled)."""
    calls = [0]
    decoder = backend.pipeline.vae.decoder
    decoder.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


def test_vae_tiling_decodes_in_tiles_close_to_the_whole_decode(
    tiny_wan_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    """The 32x64 px video in 32 px tiles at a 16 px stride (2 rows x 4 columns, blended where
    they overlap) against one whole decode: 8x the decoder runs, and the same picture within
    a mean of 6 levels of 255 (measured 3.3 on the random tiny VAE: its seams blend)."""
    whole = DiffusersBackend.from_settings(tiny_settings(tiny_wan_path))
    untiled_calls = _decoder_calls(whole)
    untiled = _frames(whole).astype(float)
    tiled = DiffusersBackend.from_settings(tiny_settings(tiny_wan_path, vae_tiling=True))
    vae = tiled.pipeline.vae
    vae.tile_sample_min_height = vae.tile_sample_min_width = 32  # the tiny size, in tiles
    vae.tile_sample_stride_height = vae.tile_sample_stride_width = 16
    notes = apply_options(tiled.pipeline, SpeedOptions(vae_tiling=True, vae_slicing=True), CPU)
    assert notes == ["vae_tiling", "vae_slicing"]
    tiled_calls = _decoder_calls(tiled)
    frames = _frames(tiled).astype(float)
    assert untiled_calls[0] == 3  # 9 frames -> 3 latent frames, each decoded whole
    assert tiled_calls[0] == 8 * untiled_calls[0], (tiled_calls, untiled_calls)
    assert frames.shape == untiled.shape
    assert np.abs(frames - untiled).mean() <= 6.0
    assert np.corrcoef(frames.ravel(), untiled.ravel())[0, 1] >= 0.95


def test_offload_is_skipped_on_the_cpu_with_a_reason(tiny_ltx_path: Path) -> None:
    pipeline = _pipeline(tiny_ltx_path)
    notes = apply_options(pipeline, SpeedOptions(offload="group"), CPU)
    assert any(n.startswith("offload=group skipped") for n in notes)
    assert pipeline.transformer.device == CPU


def test_vae_tiling_is_on_before_group_offload_starts(
    tiny_wan_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """diffusers' enable_group_offload checks the VAE's tiling (streams learn the layer order
    from the first pass, which tiling repeats): tiling goes first, and a tiled VAE streams
    without the side stream."""
    pipeline = _pipeline(tiny_wan_path)
    seen: list[tuple[str, bool, bool]] = []
    for name in ("vae", "transformer"):
        module = getattr(pipeline, name)

        def record(module: Any = module, name: str = name, **kwargs: Any) -> None:
            seen.append((name, bool(getattr(module, "use_tiling", False)), kwargs["use_stream"]))

        monkeypatch.setattr(module, "enable_group_offload", record)
    monkeypatch.setattr("diffusers.hooks.apply_group_offloading", lambda *a, **k: None)
    monkeypatch.setattr(pipeline, "to", lambda *a, **k: pipeline)
    apply_options(pipeline, SpeedOptions(offload="group", vae_tiling=True), torch.device("cuda"))
    assert sorted(seen) == [("transformer", False, True), ("vae", True, False)]


def _block_work(backend: DiffusersBackend) -> tuple[list[int], list[int]]:
    """Counters of the transformer's calls and of the linear layers its blocks really run
    (a cache hook replaces a module's forward: a skipped block runs none of its layers)."""
    transformer = backend.pipeline.transformer
    calls, layers = [0], [0]
    forward = transformer.forward

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return forward(*args, **kwargs)

    transformer.forward = counted
    for module in transformer.blocks.modules():
        if isinstance(module, torch.nn.Linear):
            module.register_forward_hook(lambda *_: layers.__setitem__(0, layers[0] + 1))
    return calls, layers


@pytest.mark.parametrize(
    ("kind", "threshold", "saved"),
    [("first_block", 0.3, 0.3), ("taylorseer", None, 0.3), ("cache_dit", 0.3, 0.1)],
)
def test_a_step_cache_saves_block_work_and_stays_close_to_the_uncached_run(
    kind: str,
    threshold: float | None,
    saved: float,
    tiny_wan_path: Path,
    tiny_settings: Callable[..., Settings],
) -> None:
    """12 steps, with classifier-free guidance: the transformer is called 24 times either way,
    and the cache skips blocks (or predicts their attention and feed-forward) in at least
    `saved` of the block work. The frames change (something was skipped), by a mean of at
    most 2 levels of 255 (measured: first_block at 0.3, 0.21; taylorseer 0.04). The first
    block cache's threshold is raised from diffusers' 0.05: the random tiny model changes more
    than that every step, so at 0.05 it rightly skips nothing. TaylorSeer once cached nothing:
    diffusers' default patterns name no module of Wan's blocks."""
    if kind == "cache_dit" and importlib.util.find_spec("cache_dit") is None:
        pytest.skip("cache-dit is an optional package, not installed here")
    plain = DiffusersBackend.from_settings(tiny_settings(tiny_wan_path, num_inference_steps=12))
    plain_calls, plain_work = _block_work(plain)
    expected = _frames(plain).astype(float)
    cached = DiffusersBackend.from_settings(
        tiny_settings(
            tiny_wan_path, num_inference_steps=12, step_cache=kind, step_cache_threshold=threshold
        )
    )
    calls, work = _block_work(cached)
    frames = _frames(cached).astype(float)
    assert calls[0] == plain_calls[0] == 24
    assert work[0] <= (1 - saved) * plain_work[0], (work, plain_work)
    difference = np.abs(frames - expected).mean()
    assert 0 < difference <= 2.0, difference


@pytest.mark.parametrize("kind", ["first_block", "taylorseer"])
def test_a_step_cache_is_enabled_and_frames_stay_reproducible(
    kind: str, tiny_wan_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    backend = DiffusersBackend.from_settings(
        tiny_settings(tiny_wan_path, step_cache=kind, num_inference_steps=4)
    )
    assert backend.pipeline.transformer.is_cache_enabled

    def cancel_at_2(step: int, total: int) -> None:
        if step == 2:
            raise JobCancelled("cancelled")

    first = _frames(backend)
    with pytest.raises(JobCancelled):  # a run cancelled mid-video does not leak into the next
        backend.generate(REQUEST, cancel_at_2)
    assert np.array_equal(first, _frames(backend))


def test_a_cache_that_cannot_apply_is_refused(tiny_ltx_path: Path) -> None:
    pipeline = _pipeline(tiny_ltx_path)  # one transformer block: nothing after the first
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_STEP_CACHE=first_block"):
        apply_options(pipeline, SpeedOptions(step_cache="first_block"), CPU)


@pytest.mark.skipif(importlib.util.find_spec("cache_dit") is not None, reason="installed")
def test_cache_dit_asked_for_but_not_installed(tiny_wan_path: Path) -> None:
    pipeline = _pipeline(tiny_wan_path)
    with pytest.raises(ModelUnavailable, match="pip install cache-dit"):
        apply_options(pipeline, SpeedOptions(step_cache="cache_dit", compile=True), CPU)


# --- compile with every cache and offload hook ------------------------------------------------


@pytest.mark.parametrize("offload", ["none", "model", "group"])
@pytest.mark.parametrize("cache", ["none", "first_block", "taylorseer"])
def test_compile_runs_with_every_cache_and_offload(
    cache: str, offload: str, tiny_wan_path: Path, eager_compile: None
) -> None:
    """fullgraph=True broke on the first-block cache ("Unsupported hasattr call") and on group
    offload (its onload is compiler-disabled); the offload hooks are installed here on the CPU,
    the same hooks a GPU gets (without the CUDA stream)."""
    pipeline = _pipeline(tiny_wan_path)
    if offload == "model":
        pipeline.enable_model_cpu_offload(device="cpu")
    elif offload == "group":
        group_offload(pipeline, CPU)
    options = SpeedOptions(compile=True, step_cache=cache, offload=offload)
    notes: list[str] = []
    if cache != "none":
        enable_step_cache(pipeline, options, notes)
    compile_transformers(pipeline, options, notes)
    fullgraph = cache == "none" and offload != "group"
    assert notes[-1] == f"compile (max-autotune-no-cudagraphs, fullgraph={fullgraph})"
    settings = Settings(**{**TINY_NATIVE, "num_inference_steps": 3})
    backend = DiffusersBackend(pipeline, settings, CPU)
    eager_pipeline = _pipeline(tiny_wan_path)
    if cache != "none":
        enable_step_cache(eager_pipeline, options, [])
    eager = _frames(DiffusersBackend(eager_pipeline, settings, CPU))
    compiled = _frames(backend)
    assert compiled.shape == eager.shape  # the same cache, uncompiled: within 2 levels of 255
    assert np.abs(compiled.astype(int) - eager.astype(int)).max() <= 2


@pytest.mark.slow
def test_inductor_compiles_on_the_cpu(
    tiny_wan_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    """The real code generation (not skipped on a CPU any more): one compile of the block,
    whose frames equal the eager run's within 2 levels of 255 (inductor reorders float
    arithmetic; measured: at most 1)."""
    eager = _frames(DiffusersBackend.from_settings(tiny_settings(tiny_wan_path)))
    backend = DiffusersBackend.from_settings(
        tiny_settings(tiny_wan_path, compile=True, compile_mode="default")
    )
    block = backend.pipeline.transformer.blocks[0]
    assert getattr(block, "_compiled_call_impl", None) is not None
    compiled = _frames(backend)
    assert compiled.shape == eager.shape and compiled.std() > 1
    assert np.abs(compiled.astype(int) - eager.astype(int)).max() <= 2
    torch._dynamo.reset()


# --- attention backends -------------------------------------------------------------------


@pytest.mark.parametrize("kernel", ["_native_flash", "flash", "sage", "_flash_3"])
def test_a_kernel_without_masks_is_refused_for_ltx_at_start(
    kernel: str, tiny_ltx_condition_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    """LTX's cross-attention always passes the prompt's padding mask, which these kernels
    refuse: every job failed while the option was accepted (_native_flash even on a CPU)."""
    assert kernel in MASK_REFUSING
    with pytest.raises(ModelUnavailable, match="takes no attention mask") as caught:
        DiffusersBackend.from_settings(
            tiny_settings(tiny_ltx_condition_path, attention_backend=kernel)
        )
    assert "LTXVideoTransformer3DModel" in str(caught.value)


def test_a_kernel_that_does_not_run_here_is_refused_at_start(
    tiny_wan_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    with pytest.raises(ModelUnavailable, match=r"'_native_cudnn' does not run here.*on cpu"):
        DiffusersBackend.from_settings(
            tiny_settings(tiny_wan_path, attention_backend="_native_cudnn")
        )


def test_a_working_kernel_is_set_on_the_model_only(
    tiny_wan_path: Path, tiny_ltx_path: Path, tiny_settings: Callable[..., Settings]
) -> None:
    """set_attention_backend also changes diffusers' process-wide default; ClipForge puts it
    back, so a model loaded later in the process keeps the default kernel."""
    backend = DiffusersBackend.from_settings(
        tiny_settings(tiny_wan_path, attention_backend="_native_math")
    )
    assert active_backend(backend.pipeline.transformer) == "_native_math"
    assert _frames(backend).std() > 1
    other = DiffusersBackend.from_settings(tiny_settings(tiny_ltx_path))
    assert active_backend(other.pipeline.transformer) == "native"


def test_unknown_and_hub_kernels_are_refused(
    tiny_wan_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = _pipeline(tiny_wan_path)
    with pytest.raises(ModelUnavailable, match="CLIPFORGE_ATTENTION_BACKEND='no-such'"):
        apply_options(pipeline, SpeedOptions(attention_backend="no-such"), CPU)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailable, match="HF_HUB_OFFLINE"):
        apply_options(pipeline, SpeedOptions(attention_backend="flash_hub"), CPU)


@pytest.mark.parametrize("kind", ["wan2.1-t2v-1.3b", "wan2.1-i2v-14b-720p", "ltx-video-0.9.5"])
def test_the_masked_attention_table_matches_what_the_models_pass(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import diffusers.models.attention_dispatch as dispatch

    folder = build_tiny_pipeline(kind, tmp_path / "w")
    backend = DiffusersBackend.from_settings(
        Settings(
            model=str(folder),
            device="cpu",
            native_short_side=32,
            native_max_frames=9,
            num_inference_steps=1,
        )
    )
    masks: list[bool] = []
    shapes: set[tuple[Any, ...]] = set()
    real = dispatch.dispatch_attention_fn

    def watching(*args: Any, **kwargs: Any) -> Any:
        masks.append(kwargs.get("attn_mask") is not None)
        shapes.add(_call_shape(*args, kwargs.get("attn_mask")))
        return real(*args, **kwargs)

    for module in (
        "diffusers.models.transformers.transformer_wan",
        "diffusers.models.transformers.transformer_ltx",
    ):
        monkeypatch.setattr(f"{module}.dispatch_attention_fn", watching)
    from clipforge.backends.base import ImageInput

    picture = np.zeros((1088, 1920, 3), dtype=np.uint8)
    images = ImageInput(first=picture) if backend.family.needs_image else ImageInput()
    backend.generate(REQUEST, lambda s, t: None, images)
    transformer = type(backend.pipeline.transformer).__name__
    assert masks and any(masks) == (transformer in MASKED_ATTENTION)
    # The start-up probe calls the kernel as the model's cross-attention does (LTX: the
    # padding bias, one row per head, over more prompt tokens than the query has).
    q, k, v, *mask = probe_inputs(backend.pipeline.transformer, CPU)
    assert _call_shape(q, k, v, mask[0] if mask else None) in shapes


def _call_shape(q: Any, k: Any, v: Any, mask: Any) -> tuple[Any, ...]:
    """What a kernel sees of one attention call, sizes aside: layout, dtype, whether the
    query and key lengths differ, and the mask's layout against them."""
    layout = (q.ndim, q.shape[2] == k.shape[2], q.shape[3], q.dtype, q.shape[1] != k.shape[1])
    if mask is None:
        return (*layout, None)
    per_head = mask.shape[:3] == (q.shape[0], q.shape[2], 1) and mask.shape[3] == k.shape[1]
    return (*layout, mask.ndim, per_head, mask.dtype, bool(mask.min() < 0), bool(mask.max() == 0))


# --- context parallelism (building and refusals; running needs torchrun and GPUs) -----------


def test_context_parallel_config_building() -> None:
    assert parallel_degrees("ulysses", 4, 12) == {"ulysses_degree": 4}
    assert parallel_degrees("ring", 3, 12) == {"ring_degree": 3}
    with pytest.raises(ModelUnavailable, match="12 attention heads over 8 GPUs"):
        parallel_degrees("ulysses", 8, 12)
    with pytest.raises(ModelUnavailable, match="torchrun"):
        parallel_degrees("ring", 1, 12)
    config = context_parallel_config("ulysses", 2, 40)  # Wan 14B: 40 heads
    assert (config.ulysses_degree, config.ring_degree) == (2, 1)


def test_context_parallel_outside_torchrun_is_refused(tiny_wan_path: Path) -> None:
    pipeline = _pipeline(tiny_wan_path)
    with pytest.raises(ModelUnavailable, match="torchrun"):
        enable_context_parallel(pipeline.transformer, "ulysses", CPU)
