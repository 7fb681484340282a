"""Sampling profiles (`@quality`, `@cached`, `@fast`): the published data, the distilled sampler's
arithmetic, and a profile's sampler receiving exactly the published timesteps through the backend
on tiny pipelines (its LoRA or distilled weights taken from a hub cache, offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.catalog import capabilities_for
from clipforge.backends.diffusers.distilled import DistilledFlowScheduler
from clipforge.backends.diffusers.entries import CATALOGUE
from clipforge.backends.diffusers.profile_entries import PROFILES
from clipforge.backends.diffusers.profiles import (
    FAST,
    DistilledSampler,
    nearest_subset,
    split_profile,
)
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.errors import GenerationFailed, ModelUnavailable
from clipforge.routing.weights import weights_for_model
from clipforge.schemas import GenerationRequest
from tests.backends.hub_cache import offline_hub, put_in_hub_cache, tiny_lora
from tests.conftest import TINY_NATIVE, make_tiny_settings
from tests.live import live_server, wait_for_job

REQUEST = GenerationRequest(model="m", prompt="a red ball rolls", seed=3)
LIGHTX2V_SEEN = [1000.0, 937.5, 2500 / 3, 625.0]
"""[1000, 750, 500, 250] as indices into the shift-5 table: sigma 5s / (1 + 4s) x 1000."""
LTX_PUBLISHED = (1000.0, 993.0, 987.0, 981.0, 975.0, 909.0, 725.0)


def test_every_profile_belongs_to_an_entry_and_cites_each_value() -> None:
    for entry, profiles in PROFILES.items():
        assert entry in CATALOGUE
        for name, profile in profiles.items():
            assert profile.name in (name, FAST) and profile.sources
            values = {"steps": profile.steps, "timesteps": profile.schedule}
            values |= {"lora": profile.adapters, "magcache": profile.magcache}
            cited = {field for field, value in values.items() if value}
            assert cited <= set(profile.sources), (entry, name)


def test_profile_names_and_the_nearest_subset() -> None:
    assert split_profile("wan2.1-t2v-14b@fast") == ("wan2.1-t2v-14b", "fast")
    assert split_profile("/models/a@b/folder") == ("/models/a@b/folder", None)
    assert nearest_subset((1000, 750, 500, 250), 2) == (1000, 250)
    assert nearest_subset((1000, 750, 500, 250), 3) == (1000, 500, 250)
    with pytest.raises(ModelUnavailable, match="at most 4"):
        nearest_subset((1000, 750, 500, 250), 5)


def test_the_distilled_sampler_steps_as_published() -> None:
    sampler = DistilledFlowScheduler(published_timesteps=(1000, 757, 522), shift=8, warp=False)
    assert sampler.timesteps.tolist() == [1000, 757, 522]  # FastVideo: the model sees them
    assert sampler.sigmas[1] == pytest.approx(0.757, abs=5e-4)  # nearest shift-8 sigma
    warped = DistilledFlowScheduler(published_timesteps=(1000, 750, 500, 250), shift=5)
    assert warped.timesteps.tolist() == pytest.approx(LIGHTX2V_SEEN)
    x, v = torch.ones(4), torch.full((4,), 0.5)
    euler = DistilledFlowScheduler(published_timesteps=(1000, 750), shift=5, renoise=False)
    euler.set_timesteps(2)
    assert euler.step(v, 1000, x)[0] == pytest.approx(x + (0.9375 - 1.0) * v)
    warped.reseed(7, torch.device("cpu"))
    renoised = warped.step(v, 1000, x)[0]  # x0 = x - v, then 6.25% x0 + 93.75% fresh noise
    noise = torch.randn(4, generator=torch.Generator().manual_seed(8))
    assert renoised == pytest.approx(0.0625 * (x - v) + 0.9375 * noise)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny twins of three entries, and a hub cache with their fast profiles' LoRAs and
    distilled weights (the FastWan stand-in built from another seed)."""
    root = tmp_path_factory.mktemp("profiles")
    folders = {
        name: build_tiny_pipeline(name, root / f"weights-{index}")
        for index, name in enumerate(("wan2.1-t2v-14b", "wan2.2-t2v-a14b", "wan2.1-t2v-1.3b"))
    }
    cache = root / "hub"
    for name, folder in folders.items():
        profile = PROFILES[name][FAST]
        for index, adapter in enumerate(profile.adapters):
            from diffusers import DiffusionPipeline

            component = getattr(DiffusionPipeline.from_pretrained(folder), adapter.component)
            lora = tiny_lora(component, root / f"lora-{name}-{index}.safetensors", seed=index)
            put_in_hub_cache(cache, adapter.hub_id, {adapter.weight_name: lora})
        if profile.weights:
            distilled = build_tiny_pipeline(name, root / "distilled", seed=9)
            put_in_hub_cache(cache, profile.weights, {".": distilled})
    return folders | {"hub": cache}


def _record(backend: DiffusersBackend) -> list[tuple[str, float]]:
    """(which denoiser, timestep) of every transformer call, and the scheduler's steps."""
    seen: list[tuple[str, float]] = []
    pipeline = backend.pipeline
    for name in ("transformer", "transformer_2"):
        module = getattr(pipeline, name, None)
        if module is not None:
            module.register_forward_pre_hook(
                lambda m, a, k, name=name: seen.append((name, float(k["timestep"].flatten()[0]))),
                with_kwargs=True,
            )
    step = pipeline.scheduler.step

    def recorded(output: Any, timestep: Any, sample: Any, **kwargs: Any) -> Any:
        seen.append(("step", float(timestep)))
        return step(output, timestep, sample, **kwargs)

    pipeline.scheduler.step = recorded
    return seen


@pytest.mark.parametrize(
    "name, expected",
    [
        # LightX2V 4-step LoRA: one unguided call per step at the warped timesteps.
        ("wan2.1-t2v-14b", [("transformer", t) for t in LIGHTX2V_SEEN]),
        # Wan2.2-Lightning: the same four, the high-noise expert above the 875 boundary.
        (
            "wan2.2-t2v-a14b",
            [
                ("transformer", 1000.0),
                ("transformer", 937.5),
                ("transformer_2", 2500 / 3),
                ("transformer_2", 625.0),
            ],
        ),
        # FastWan: DMD's three steps as they are.
        ("wan2.1-t2v-1.3b", [("transformer", t) for t in (1000.0, 757.0, 522.0)]),
    ],
)
def test_a_fast_profile_samples_the_published_timesteps(
    name: str, expected: list[tuple[str, float]], hub: dict[str, Path]
) -> None:
    settings = make_tiny_settings(f"{hub[name]}@fast", num_inference_steps=None)
    with offline_hub(hub["hub"]):
        backend = DiffusersBackend.from_settings(settings)
        seen = _record(backend)
        frames = np.stack(list(backend.generate(REQUEST, lambda s, t: None).frames))
    calls = [(who, t) for who, t in seen if who != "step"]
    steps = [t for who, t in seen if who == "step"]
    assert calls == [(who, pytest.approx(t)) for who, t in expected]
    assert steps == pytest.approx([t for _, t in expected])
    assert frames.shape[0] == 9 and backend.plan(REQUEST).steps == len(expected)
    assert not any("lora" in n for n, _ in backend.pipeline.transformer.named_modules())  # fused
    assert not capabilities_for(str(settings.model)).sampling_steps


def test_fewer_steps_take_the_nearest_subset_and_more_are_refused(hub: dict[str, Path]) -> None:
    with offline_hub(hub["hub"]):
        backend = DiffusersBackend.from_settings(
            make_tiny_settings(f"{hub['wan2.1-t2v-14b']}@fast", num_inference_steps=2)
        )
        seen = _record(backend)
        list(backend.generate(REQUEST, lambda s, t: None).frames)
        assert [t for who, t in seen if who == "step"] == [1000.0, 625.0]  # of 1000 ... 250
        with pytest.raises(GenerationFailed, match=r"num_inference_steps=5.*at most 4"):
            backend.plan(REQUEST.model_copy(update={"num_inference_steps": 5}))
        with pytest.raises(ModelUnavailable, match="CLIPFORGE_NUM_INFERENCE_STEPS=6"):
            DiffusersBackend.from_settings(
                make_tiny_settings(f"{hub['wan2.1-t2v-14b']}@fast", num_inference_steps=6)
            )


def test_the_profile_changes_the_weights_and_the_base_is_untouched(hub: dict[str, Path]) -> None:
    """The LoRA is fused in (the clip differs from the base model's at the same sampler);
    without the suffix the same folder renders as before."""
    folder = hub["wan2.1-t2v-14b"]
    with offline_hub(hub["hub"]):
        fast = DiffusersBackend.from_settings(make_tiny_settings(f"{folder}@fast"))
    base = DiffusersBackend.from_settings(make_tiny_settings(folder))
    assert type(base.pipeline.scheduler).__name__ == "UniPCMultistepScheduler"
    base.pipeline.scheduler = fast.pipeline.scheduler
    base.family = fast.family
    first = np.stack(list(fast.generate(REQUEST, lambda s, t: None).frames))
    second = np.stack(list(base.generate(REQUEST, lambda s, t: None).frames))
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 1


def test_a_missing_lora_or_profile_is_refused_at_load(hub: dict[str, Path], tmp_path: Path) -> None:
    folder = hub["wan2.1-t2v-14b"]
    with offline_hub(tmp_path), pytest.raises(ModelUnavailable, match="hf download lightx2v/"):
        DiffusersBackend.from_settings(make_tiny_settings(f"{folder}@fast"))
    generic = build_tiny_pipeline("wan", tmp_path / "generic")
    with pytest.raises(ModelUnavailable, match=r"'fast'.*not published.*quality"):
        DiffusersBackend.from_settings(make_tiny_settings(f"{generic}@fast"))


def test_the_sampler_spec_is_data() -> None:
    assert PROFILES["wan2.2-t2v-a14b"][FAST].sampler == DistilledSampler(
        (1000.0, 750.0, 500.0, 250.0), shift=5.0, warp=True, renoise=False
    )


@pytest.mark.parametrize(
    "suffix, steps, expected",
    [("@fast", None, LTX_PUBLISHED), ("", 3, (1000.0, 981.0, 725.0))],
)
def test_ltx_distilled_samples_its_timesteps_or_their_nearest_subset(
    suffix: str, steps: int | None, expected: tuple[float, ...], tmp_path: Path
) -> None:
    """One pass (no upsampler here): the yaml's first-pass timesteps reach the scheduler, or
    an operator's smaller step count takes their nearest subset. The old code replaced them
    (3 steps: 1000, 975, 718.75)."""
    # named: dev and distilled folders have the same configs, an unnamed one is dev (issue 26)
    folder = build_tiny_pipeline("ltx-video-0.9.7-distilled", tmp_path / "ltxv-distilled")
    backend = DiffusersBackend.from_settings(
        make_tiny_settings(f"{folder}{suffix}", num_inference_steps=steps)
    )
    seen = _record(backend)
    list(backend.generate(REQUEST, lambda s, t: None).frames)
    assert [t for who, t in seen if who == "step"] == pytest.approx(list(expected))
    assert not capabilities_for(f"{folder}{suffix}").guidance


def test_fast_ids_take_the_fast_profile_where_the_operator_asks() -> None:
    fast, lite = "bytedance/seedance-1-0-pro-fast", "bytedance/seedance-1-0-lite-t2v"
    assert weights_for_model("catalogue", {}, fast, fast_profile=True) == "wan2.2-ti2v-5b@fast"
    # 2.0 fast renders with sound on LTX-2.3's distilled checkpoint: distilled already, no profile
    assert weights_for_model("catalogue", {}, "bytedance/seedance-2-0-fast", True) == (
        "ltx-2.3-distilled"
    )
    assert weights_for_model("catalogue", {}, fast) == "wan2.2-ti2v-5b"
    assert weights_for_model("catalogue", {}, lite, fast_profile=True) == "wan2.1-t2v-1.3b"


def test_a_live_server_samples_the_fast_profile(
    hub: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A -fast id mapped to `<weights>@fast`: the job's sampler receives the published
    timesteps, and a request's step count is a 400 naming the field."""
    seen: list[float] = []
    step = DistilledFlowScheduler.step

    def recorded(self: Any, output: Any, timestep: Any, sample: Any, **kwargs: Any) -> Any:
        seen.append(float(timestep))
        return step(self, output, timestep, sample, **kwargs)

    monkeypatch.setattr(DistilledFlowScheduler, "step", recorded)
    fast = "bytedance/seedance-1-0-pro-fast"
    overrides = TINY_NATIVE | {"num_inference_steps": None}
    model_map = {fast: f"{hub['wan2.1-t2v-14b']}@fast"}
    with (
        offline_hub(hub["hub"]),
        live_server(
            tmp_path, backend="diffusers", model_map=model_map, workers=1, **overrides
        ) as live,
        live.client() as client,
    ):
        body = {"model": fast, "prompt": "a red ball", "duration": 5}
        refused = client.post("/v1/jobs", json=body | {"num_inference_steps": 8})
        assert refused.status_code == 400 and "num_inference_steps" in refused.text
        created = client.post("/v1/jobs", json=body)
        assert created.status_code in (200, 201), created.text
        done = ("completed", "error")
        job = wait_for_job(client, created.json()["id"], lambda j: j["status"] in done)
    assert job["status"] == "completed", job
    assert seen == pytest.approx(LIGHTX2V_SEEN)
