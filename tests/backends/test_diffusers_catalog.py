"""The model catalogue: its facts, request mapping per entry, weights routing, missing weights."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diffusers
import numpy as np
import pytest
import torch
from huggingface_hub import constants as hub_constants

from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.catalog import capabilities_for, find_entry, lookup, rules_for
from clipforge.backends.diffusers.config import repository_names
from clipforge.backends.diffusers.entries import CATALOGUE, ENTRIES
from clipforge.backends.diffusers.loading import load_pipeline, resolve_weights
from clipforge.backends.diffusers.rules import CatalogEntry
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.backends.geometry import bucket_size
from clipforge.errors import InvalidField, JobCancelled, ModelUnavailable
from clipforge.routing import ModelRouting
from clipforge.schemas import DURATIONS, AspectRatio, GenerationRequest, Resolution
from clipforge.settings import Settings
from tests.conftest import make_tiny_settings
from tests.live import free_port

COMBINATIONS = list(itertools.product(Resolution, AspectRatio))


def _request(**fields: Any) -> GenerationRequest:
    values: dict[str, Any] = {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a red ball"}
    return GenerationRequest(**(values | fields))


I2V = ("wan2.1-i2v-14b-480p", "wan2.1-i2v-14b-720p", "wan2.1-flf2v-14b-720p", "wan2.2-i2v-a14b")
LTX2 = ("ltx-2", "ltx-2.3", "ltx-2.3-distilled")
VACE = ("wan2.1-vace-1.3b", "wan2.1-vace-14b")
HUNYUAN = tuple(
    f"hunyuanvideo-1.5-{variant}"
    for variant in (
        "480p-t2v",
        "480p-i2v",
        "720p-t2v",
        "720p-i2v",
        "480p-t2v-distilled",
        "480p-i2v-distilled",
        "720p-i2v-distilled",
        "480p-i2v-step-distilled",
    )
)


def test_the_catalogue_holds_the_issue_models() -> None:
    assert set(CATALOGUE) == {
        "wan2.1-t2v-1.3b",
        "wan2.1-t2v-14b",
        "wan2.2-ti2v-5b",
        "wan2.2-t2v-a14b",
        "ltx-video-0.9.5",
        "ltx-video-0.9.7-dev",
        "ltx-video-0.9.7-distilled",
        "ltx-video-0.9.8-13b-dev",
        "ltx-video-0.9.8-13b-distilled",
        *I2V,
        *LTX2,
        *VACE,
        *HUNYUAN,
    }
    owners = {
        "wan": ("Wan-AI/",),
        "ltx": ("Lightricks/", "diffusers/"),
        "hun": ("hunyuanvideo-community/",),
    }
    for entry in ENTRIES:
        assert hasattr(diffusers, entry.pipeline_class), entry.pipeline_class
        # diffusers/: the LTX-2.3 conversions the diffusers team publishes
        assert entry.hub_id.startswith(owners[entry.name[:3]])
        assert entry.rules.frame_step == (8 if entry.name.startswith("ltx") else 4)
        for width, height in entry.native_sizes:
            assert width % entry.rules.size_multiple == 0
            assert height % entry.rules.size_multiple == 0


def test_every_value_an_entry_sets_cites_its_source() -> None:
    for entry in ENTRIES:
        rules, cited = entry.rules, entry.rules.sources
        needed = {"fps", "sizes", "steps", "guidance"}
        needed |= {"flow_shift", "vae"} if rules.flow_shift else {"decode"}
        schedule = "sigmas" if rules.sigmas else "timesteps"  # LTX-2's schedules are sigmas
        needed |= {"two_stage", schedule} if rules.two_stage else set()
        assert needed <= set(cited), (entry.name, needed - set(cited))
        assert all(source.strip() for source in cited.values())


C = "\uff0c"  # the full-width comma of Wan's Chinese prompts
WAN_BASE = C.join(("色调艳丽", "过曝", "静态", "细节模糊不清", "字幕", "风格", "作品", "画作"))
WAN_PREFIX = {"wan2.1-i2v-14b-480p": "镜头晃动" + C, "wan2.1-i2v-14b-720p": "镜头晃动" + C}
WAN_PREFIX["wan2.1-flf2v-14b-720p"] = C.join(("镜头切换", "镜头晃动", ""))


def test_default_negative_prompts_are_the_ones_upstream_sends() -> None:
    """Wan's code sends its Chinese `sample_neg_prompt` (Wan 2.1 I2V puts "camera shake"
    first, FLF2V "shot change" before that); LTX's inference.py its English one; LTX-2 its
    own long English one (its pipelines' default); HunyuanVideo 1.5 and a distilled entry
    (guidance off) none."""
    for entry in ENTRIES:
        negative = entry.rules.negative_prompt
        if entry.name.startswith("wan"):
            assert negative is not None
            assert negative.endswith(C.join(("三条腿", "背景人很多", "倒着走")))
            assert negative.startswith(WAN_PREFIX.get(entry.name, "") + WAN_BASE), entry.name
        elif entry.distilled:
            assert negative is None
        elif entry.rules.audio:  # LTX-2
            assert negative is not None and negative.startswith("blurry, out of focus, overexposed")
        elif entry.name.startswith("hunyuanvideo"):
            assert negative is None  # HunyuanVideo 1.5's pipeline sends an empty one
        else:
            assert negative == "worst quality, inconsistent motion, blurry, jittery, distorted"
        assert negative is None or entry.rules.sources["negative_prompt"]


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_entry_rules_agree_with_each_other_and_the_weights(name: str) -> None:
    """Relations between an entry's values (the values themselves cite their sources, above):
    the default clip is 5 s at the model's frame rate on its frame grid, a second guidance
    scale exactly for two-expert (A14B) weights, a distilled entry samples few steps without
    classifier-free guidance, and what the config says the weights take is what the rules
    send."""
    entry = CATALOGUE[name]
    rules = entry.rules
    assert entry.default_frames == 5 * rules.fps + 1
    assert (entry.default_frames - 1) % rules.frame_step == 0
    assert (rules.guidance_scale_2 is not None) == ("a14b" in name)
    if entry.distilled:
        assert rules.steps <= 10 and rules.guidance_scale == 1.0
    elif name.endswith("-distilled"):  # CFG-distilled (HunyuanVideo 1.5): all the steps
        assert rules.steps >= 30 and rules.guidance_scale == 1.0
    else:
        assert rules.steps >= 30 and rules.guidance_scale > 1.0
    assert capabilities_for(name).first_frame == rules.first_frame
    assert rules.last_frame <= rules.first_frame  # a last frame only with a first


@pytest.mark.parametrize(
    ("name", "sides"),
    [
        ("wan2.1-t2v-1.3b", (480, 480, 480)),
        ("wan2.1-t2v-14b", (480, 720, 720)),
        ("wan2.2-ti2v-5b", (704, 704, 704)),
        ("wan2.2-t2v-a14b", (480, 720, 720)),
        ("wan2.1-i2v-14b-480p", (480, 480, 480)),
        ("wan2.1-i2v-14b-720p", (480, 720, 720)),
        ("wan2.1-flf2v-14b-720p", (480, 720, 720)),
        ("wan2.2-i2v-a14b", (480, 720, 720)),
        ("ltx-video-0.9.5", (480, 704, 704)),
        ("ltx-video-0.9.7-distilled", (480, 704, 704)),
        ("wan2.1-vace-1.3b", (480, 480, 480)),
        ("wan2.1-vace-14b", (480, 720, 720)),
        ("hunyuanvideo-1.5-480p-i2v", (480, 480, 480)),
        ("hunyuanvideo-1.5-720p-t2v", (720, 720, 720)),
    ],
)
def test_the_requested_resolution_is_honoured(
    name: str, sides: tuple[int, int, int], request: pytest.FixtureRequest
) -> None:
    """480p renders at the 480 tier on every model with a 480p size (Wan 14B and A14B rendered
    720p: about 4x the work); 720p and 1080p at the model's largest native size (Wan: that
    tier's trained pixel area, so 16:9 is one latent row shorter: 464 for 480)."""
    backend = _backend_for(CATALOGUE[name], request)
    for resolution, side in zip(("480p", "720p", "1080p"), sides, strict=True):
        req = _request(resolution=resolution, aspect_ratio="16:9")
        plan = backend.plan(req)
        _check_tier(CATALOGUE[name], side, req, plan)
        rules = CATALOGUE[name].rules
        assert rules.shift_for(side) == (rules.flow_shift[side] if rules.flow_shift else None)


def _check_tier(entry: CatalogEntry, side: int, req: GenerationRequest, plan: Any) -> None:
    """Wan: the tier's trained pixel area (max_area: at most it, sides floored), the request's
    aspect ratio; LTX: the tier's short side, the long side as near the aspect as the multiple
    allows."""
    m, (width, height) = entry.rules.size_multiple, req.size
    if entry.rules.bucket_bases:  # HunyuanVideo 1.5: its aspect-ratio buckets
        base = entry.rules.bucket_bases[side]
        assert (plan.width, plan.height) == bucket_size(width, height, base, m), plan
        assert 0.85 * base**2 <= plan.width * plan.height <= base**2, (entry.name, plan)
        return
    area = entry.rules.pixel_areas.get(side)
    if area is not None:
        assert 0.9 * area <= plan.width * plan.height <= area, (entry.name, side, plan)
        assert plan.width / plan.height == pytest.approx(width / height, rel=0.06), plan
        return
    assert min(plan.width, plan.height) == side, (entry.name, plan)
    exact = side * max(width, height) / min(width, height)
    assert abs(max(plan.width, plan.height) - exact) <= m / 2 + m, (entry.name, plan)


def _backend_for(entry: CatalogEntry, request: pytest.FixtureRequest) -> DiffusersBackend:
    """The entry's rules on a tiny pipeline of its family (same VAE compression ratios)."""
    # HunyuanVideo 1.5 plans on Wan's VAE ratios (16 px a token, 4 frames a latent frame)
    family = "ltx" if entry.name.startswith("ltx") else "wan"
    path = request.getfixturevalue(f"tiny_{family}_path")
    pipeline = diffusers.DiffusionPipeline.from_pretrained(path, local_files_only=True)
    return DiffusersBackend(pipeline, Settings(device="cpu"), torch.device("cpu"), entry)


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_request_maps_to_a_native_size_and_frame_count(
    name: str, request: pytest.FixtureRequest
) -> None:
    entry = CATALOGUE[name]
    backend = _backend_for(entry, request)
    m, step = entry.rules.size_multiple, entry.rules.frame_step
    for (resolution, ratio), duration in itertools.product(COMBINATIONS, DURATIONS):
        req = _request(resolution=resolution, aspect_ratio=ratio, duration=duration)
        plan = backend.plan(req)
        width, height = req.size
        assert plan.width % m == 0 and plan.height % m == 0, (name, ratio, plan)
        _check_tier(entry, entry.rules.short_side_for(resolution.value), req, plan)
        assert (plan.width > plan.height) == (width > height), (name, ratio, plan)
        assert (plan.width == plan.height) == (width == height), (name, ratio, plan)
        assert plan.num_frames == duration * entry.rules.fps + 1, (name, duration, plan)
        assert (plan.num_frames - 1) % step == 0
        assert (plan.fps, plan.steps) == (entry.rules.fps, entry.rules.steps)


def test_find_entry_by_name_hub_id_or_folder_name() -> None:
    assert find_entry("wan9-t2v") is None
    assert find_entry("WAN2.1-T2V-1.3B") is CATALOGUE["wan2.1-t2v-1.3b"]
    assert find_entry("Wan2.1-T2V-14B-Diffusers") is CATALOGUE["wan2.1-t2v-14b"]
    assert find_entry("Wan-AI/Wan2.2-T2V-A14B-Diffusers") is CATALOGUE["wan2.2-t2v-a14b"]
    assert resolve_weights("ltx-video-0.9.5").source == "Lightricks/LTX-Video-0.9.5"
    assert resolve_weights("someone/other-model").entry is None


def test_missing_weights_offline_name_the_entry_the_hub_id_and_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)  # never reach for the network
    with pytest.raises(ModelUnavailable) as caught:
        load_pipeline(resolve_weights("wan2.1-t2v-1.3b"), torch.float32)
    message = str(caught.value)
    assert "'wan2.1-t2v-1.3b'" in message
    assert "Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in message
    assert "HF_HUB_OFFLINE" in message and "hf download" in message


def test_an_unreachable_hub_says_so_and_what_to_do(tmp_path: Path) -> None:
    """Without HF_HUB_OFFLINE, a hub that cannot be reached (here: a closed port on loopback,
    so nothing leaves this machine) is named with the network error, not with diffusers'
    pointer to a stack trace nobody is shown."""
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "CLIPFORGE_"))}
    env |= {"HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf")}
    command = [sys.executable, "-m", "clipforge", "serve", "--model", "wan2.1-t2v-1.3b"]
    command += ["--data-dir", str(tmp_path / "data"), "--port", str(free_port())]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"Hugging Face hub ({endpoint}) could not be reached" in done.stderr
    assert "Connection refused" in done.stderr
    assert "hf download Wan-AI/Wan2.1-T2V-1.3B-Diffusers" in done.stderr
    assert "stacktrace above" not in done.stderr


# --- the distilled LTX entry, from a folder named like its hub repository ----------------------


@pytest.fixture(scope="module")
def distilled(
    tiny_ltx_condition_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    tiny_settings: Callable[..., Settings],
) -> DiffusersBackend:
    folder = tmp_path_factory.mktemp("weights") / "LTX-Video-0.9.7-distilled"
    shutil.copytree(tiny_ltx_condition_path, folder)
    return DiffusersBackend.from_settings(tiny_settings(folder))


def test_a_folder_named_like_an_entry_gets_its_class_and_rules(distilled: DiffusersBackend) -> None:
    assert distilled.entry is CATALOGUE["ltx-video-0.9.7-distilled"]
    assert type(distilled.pipeline).__name__ == "LTXConditionPipeline"
    arguments = distilled.call_arguments(_request(seed=1), distilled.plan(_request()), print)
    assert arguments["guidance_scale"] == 1.0 and "negative_prompt" not in arguments
    assert arguments["decode_timestep"] == 0.05 and arguments["frame_rate"] == 24


def test_distilled_same_seed_same_frames(distilled: DiffusersBackend) -> None:
    def frames(seed: int) -> np.ndarray:
        return np.stack(list(distilled.generate(_request(seed=seed), lambda s, t: None).frames))

    first, again, other = frames(4), frames(4), frames(5)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_distilled_cancel_skips_the_decode(
    distilled: DiffusersBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes: list[int] = []
    real_decode = distilled.pipeline.vae.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        decodes.append(1)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(distilled.pipeline.vae, "decode", counting_decode)

    def cancel(step: int, total: int) -> None:
        raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        distilled.generate(_request(seed=2), cancel)
    assert decodes == []
    distilled.generate(_request(seed=2), lambda s, t: None)
    assert decodes == [1]


@pytest.fixture(scope="module")
def experts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("guidance")
    names = ("wan2.1-t2v-1.3b", "wan2.2-t2v-a14b", "ltx-video-0.9.5")
    return {name: build_tiny_pipeline(name, root / f"w{i}") for i, name in enumerate(names)}


def _guidance_used(folder: Path, guidance: float | None) -> tuple[float, float | None]:
    backend = DiffusersBackend.from_settings(make_tiny_settings(folder, guidance_scale=guidance))
    backend.generate(_request(seed=1), lambda s, t: None)  # runs the pipeline end to end
    pipeline = backend.pipeline
    return pipeline._guidance_scale, getattr(pipeline, "_guidance_scale_2", None)


@pytest.mark.parametrize("name", ["wan2.1-t2v-1.3b", "ltx-video-0.9.5"])
def test_a_guidance_setting_runs_on_single_expert_pipelines(
    name: str, experts: dict[str, Path]
) -> None:
    """CLIPFORGE_GUIDANCE_SCALE sent guidance_scale_2 to every pipeline: Wan 2.1 refused it
    (no boundary_ratio), LTX took no such argument; every job of the fast profile failed."""
    assert _guidance_used(experts[name], 1.0)[0] == 1.0


def test_two_experts_get_their_own_guidance_or_the_setting(experts: dict[str, Path]) -> None:
    folder = experts["wan2.2-t2v-a14b"]
    assert _guidance_used(folder, None) == (4.0, 3.0)
    assert _guidance_used(folder, 1.0) == (1.0, 1.0)


# --- rules from the weights' own configs: renamed folders and hub cache snapshots --------------


@pytest.fixture(scope="module")
def i2v_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline("wan2.1-i2v-14b-480p", tmp_path_factory.mktemp("i2v") / "x")


def _snapshot(cache: Path, hub_id: str, folder: Path) -> Path:
    """The layout `hf download` leaves in HF_HUB_CACHE: models--owner--name/snapshots/<rev>."""
    repo = cache / f"models--{hub_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / "0123abcd"
    shutil.copytree(folder, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    return snapshot


def test_a_hub_cache_snapshot_gets_the_rules_of_its_repository(
    i2v_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """480P and 720P I2V have identical configs: the cache path's repository name tells them
    apart; a renamed copy gets the 720P entry (both sizes, as upstream's i2v-14B task)."""
    hub_id = CATALOGUE["wan2.1-i2v-14b-480p"].hub_id
    snapshot = _snapshot(tmp_path, hub_id, i2v_folder)
    assert resolve_weights(str(snapshot)).entry is CATALOGUE["wan2.1-i2v-14b-480p"]
    assert resolve_weights(str(i2v_folder)).entry is CATALOGUE["wan2.1-i2v-14b-720p"]
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path))
    for weights in (hub_id, "wan2.1-i2v-14b-480p"):  # read from the cache, no network
        entry, config = lookup(weights)
        assert entry is CATALOGUE["wan2.1-i2v-14b-480p"]
        assert config is not None and config.has_image_encoder


def test_another_repositorys_look_alike_gets_generic_rules(
    i2v_folder: Path, tmp_path: Path
) -> None:
    """LTX-Video 0.9.7 dev has the distilled model's configs; Wan I2V fine-tunes on the hub
    have the I2V configs: weights that name a repository outside the catalogue (a hub cache
    path, a hub id) get their pipeline class's generic rules, not a look-alike entry's."""
    other = _snapshot(tmp_path, "someone/Wan2.1-I2V-finetune", i2v_folder)
    entry, config = lookup(str(other))
    assert entry is None and config is not None
    rules = rules_for(entry, config)
    assert rules is not None and rules.name != CATALOGUE["wan2.1-i2v-14b-480p"].rules.name
    assert rules.first_frame  # still an image-to-video pipeline, by its class
    renamed = tmp_path / "my-wan-i2v"  # a local folder's own name decides nothing
    shutil.copytree(i2v_folder, renamed)
    assert lookup(str(renamed))[0] is CATALOGUE["wan2.1-i2v-14b-720p"]
    assert repository_names("someone/model") == ["someone/model"]
    assert repository_names(str(renamed)) == []


def test_config_wins_over_a_misleading_name(i2v_folder: Path, tmp_path: Path) -> None:
    named = tmp_path / "Wan2.1-T2V-1.3B-Diffusers"  # an I2V model under a T2V model's name
    shutil.copytree(i2v_folder, named)
    assert resolve_weights(str(named)).entry is CATALOGUE["wan2.1-i2v-14b-720p"]
    assert capabilities_for(str(named)).first_frame


def test_capabilities_read_configs_without_torch(i2v_folder: Path) -> None:
    """The API process asks routing what weights can do: no torch import, no model load."""
    code = (
        "import sys; from clipforge.backends.diffusers.catalog import capabilities_for; "
        f"c = capabilities_for({str(i2v_folder)!r}); "
        "assert c.first_frame and not c.last_frame and c.fps == 16, c; "
        "assert 'torch' not in sys.modules and 'diffusers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_step_distilled_entry_takes_no_steps_guidance_or_negative_prompt() -> None:
    """HunyuanVideo 1.5's step-distilled checkpoint publishes no timesteps, but a request's
    guidance would turn classifier-free guidance back on in its guider: refused like LTX's."""
    for name in ("hunyuanvideo-1.5-480p-i2v-step-distilled", "ltx-video-0.9.7-distilled"):
        capabilities = capabilities_for(name)
        assert not capabilities.guidance, name
        assert not capabilities.sampling_steps and not capabilities.negative_prompt, name
    assert capabilities_for("hunyuanvideo-1.5-480p-i2v").guidance


CFG_DISTILLED = tuple(
    f"hunyuanvideo-1.5-{variant}-distilled" for variant in ("480p-t2v", "480p-i2v", "720p-i2v")
)


@pytest.mark.parametrize("name", CFG_DISTILLED)
def test_a_cfg_distilled_entry_takes_steps_but_no_guidance_or_negative_prompt(
    name: str, tmp_path: Path
) -> None:
    """HunyuanVideo 1.5 CFG-distilled: guidance 1 in Tencent's table and its saved guider
    (CFG off), 50 steps. A request's guidance would turn classifier-free guidance on in the
    guider, and a negative prompt acts only through it: a 400 naming the field."""
    capabilities = capabilities_for(name)
    assert capabilities.sampling_steps
    assert not capabilities.guidance and not capabilities.negative_prompt
    routing = ModelRouting(Settings(data_dir=tmp_path, backend="diffusers", model=name))
    model = f"bytedance/seedance-1-0-lite-{'i2v' if 'i2v' in name else 't2v'}"
    routing.check(GenerationRequest(model=model, prompt="a", num_inference_steps=30))
    for field, value in (("guidance_scale", 6.0), ("negative_prompt", "blurry")):
        with pytest.raises(InvalidField, match=field) as refused:
            routing.check(GenerationRequest(model=model, prompt="a", **{field: value}))
        assert refused.value.field == field
