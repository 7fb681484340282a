"""LTX-2 with sound (issue 29): a tiny LTX-2.3 folder with the released structure (Gemma 3 text
encoder, connectors, audio VAE, vocoder with bandwidth extension), under a name that is not the
catalogue's, is identified from its configs and served end to end by `clipforge serve`: a 1.5
job with a prompt alone gives an MP4 whose video and AAC track (at the vocoder's 48 kHz) are as
long as each other; a 2.0 job with a first and a last frame and `generate_audio: false` gives
a silent MP4, both frames having reached the pipeline as conditions on the first and last
latent frame. The folder is built once for the module."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from clipforge.backends.diffusers import sampling
from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.catalog import lookup
from clipforge.backends.diffusers.entries import CATALOGUE
from clipforge.backends.diffusers.sampling import ltx2_conditions
from clipforge.backends.diffusers.tiny import build_tiny_pipeline, ltx2
from clipforge.routing import ModelRouting
from clipforge.routing.weights import DEFAULT_MODEL_MAP
from clipforge.schemas import GenerationRequest
from clipforge.seedance_models import MODEL_IDS
from clipforge.settings import Settings
from tests.conftest import TINY_NATIVE
from tests.images import data_url, encoded
from tests.live import LiveServer, live_server, wait_for_job

pytestmark = pytest.mark.timeout(300)
V2 = "/v2/video/generations"
# The LTX-2 VAE pads its decoder by reflection: a side must be at least two latents (64 px).
LTX2_NATIVE = {**TINY_NATIVE, "native_short_side": 64, "native_max_frames": None}
SMALL_GPU = {"offload": "group", "vae_tiling": True}
PUBLISHED_STEPS = {"num_inference_steps": None}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline("ltx-2.3", tmp_path_factory.mktemp("ltx2") / "weights-0")


@pytest.fixture(scope="module")
def server(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("ltx2-serve")
    settings = {"backend": "diffusers", "model": str(folder), "workers": 1, **LTX2_NATIVE}
    with live_server(data, **settings) as live:
        yield live


def test_the_configs_tell_the_version_and_the_name_tells_the_distilled_weights(
    folder: Path, tmp_path: Path
) -> None:
    """2.3 from its connectors' per-modality projections; the distilled checkpoint has the
    same configs, so only a folder carrying its hub name gets its 8-step schedule."""
    assert lookup(folder)[0] is CATALOGUE["ltx-2.3"]
    named = tmp_path / "LTX-2.3-Distilled-Diffusers"
    shutil.copytree(folder, named, ignore=shutil.ignore_patterns("*.safetensors"))
    entry, config = lookup(named)
    assert entry is CATALOGUE["ltx-2.3-distilled"], entry
    assert config is not None and config.modality_projections
    assert entry.rules.sigmas and entry.rules.steps == len(entry.rules.sigmas) == 8


def test_the_catalogue_routing_gives_the_ids_with_sound_to_ltx2() -> None:
    """1.5 and 2.x (sound by default) render on LTX-2 with sound; the 1.0 ids keep Wan."""
    routing = ModelRouting(Settings(backend="diffusers", model="catalogue"))
    for model in routing:
        weights = DEFAULT_MODEL_MAP[model.id]
        legacy = model.id.startswith("bytedance/seedance-1-0")
        assert weights.startswith("wan" if legacy else "ltx-2.3"), (model.id, weights)
        assert model.audio is not legacy, model.id
    assert set(routing.ids) == set(MODEL_IDS)


def _fetch(http: httpx.Client, body: dict[str, Any], path: Path) -> dict[str, Any]:
    created = http.post(V2, json=body)
    assert created.status_code == 200, created.text
    job = wait_for_job(http, created.json()["id"], lambda j: j["status"] in ("completed", "error"))
    assert job["status"] == "completed", job
    path.write_bytes(httpx.get(job["video_url"]).content)
    return job


def test_a_1_5_prompt_gives_video_and_sound_of_the_same_length(
    server: LiveServer, tmp_path: Path
) -> None:
    with server.client() as http:
        listed = {m["id"]: m for m in http.get("/v1/models").json()["data"]}
        assert listed["bytedance/seedance-1-5-pro"]["sound"] is True
        assert listed["bytedance/seedance-1-0-lite-t2v"]["sound"] is False
        body = {"model": "bytedance/seedance-1-5-pro", "prompt": "a drum solo", "duration": 4}
        job = _fetch(http, body | {"resolution": "480p"}, tmp_path / "sound.mp4")
    assert job["request"]["generate_audio"] is True
    with av.open(str(tmp_path / "sound.mp4")) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert audio.codec_context.name == "aac" and audio.rate == 48_000  # the 2.3 vocoder
        frames = sum(1 for _ in container.decode(video))
        video_s = float(video.duration * video.time_base)
    with av.open(str(tmp_path / "sound.mp4")) as container:
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    assert frames == 4 * 24 + 1
    assert abs(samples.size / 48_000 - video_s) < 0.03, (samples.size, video_s)
    assert np.abs(samples).max() > 1e-3  # a waveform, not the silence of a missing track


def test_first_and_last_frames_without_sound(
    server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The condition pipeline takes both frames; `generate_audio: false` leaves no track."""
    conditions: list[Any] = []

    def recorded(*args: Any) -> list[Any]:
        conditions.extend(made := ltx2_conditions(*args))
        return made

    monkeypatch.setattr(sampling, "ltx2_conditions", recorded)
    red = np.zeros((360, 640, 3), np.uint8)
    red[..., 0] = 255
    body = {
        "model": "bytedance/seedance-2-0",
        "prompt": "the light fades",
        "duration": 4,
        "resolution": "480p",
        "generate_audio": False,
        "image_url": data_url(encoded(red)),
        "last_image_url": data_url(encoded(red[..., ::-1].copy())),
    }
    with server.client() as http:
        job = _fetch(http, body, tmp_path / "silent.mp4")
    assert job["request"]["generate_audio"] is False
    with av.open(str(tmp_path / "silent.mp4")) as container:
        assert not container.streams.audio
        assert sum(1 for _ in container.decode(video=0)) == 4 * 24 + 1
    assert [c.index for c in conditions] == [0, -1]  # latent frames: the first and the last
    first = np.asarray(conditions[0].frames)
    assert first.shape[0] == 64 and first[..., 0].mean() > 200 > first[..., 2].mean()  # red


def test_the_small_gpu_profile_keeps_the_sound(folder: Path) -> None:
    """docs/GPU.md's 24 GB profile (group offload, VAE tiling) hooks the audio components too
    (audio VAE, vocoder, Gemma 3, connectors): a clip with its waveform at 48 kHz."""
    settings = Settings(backend="diffusers", model=str(folder), **LTX2_NATIVE)
    backend = DiffusersBackend.from_settings(settings.model_copy(update=SMALL_GPU))
    request = GenerationRequest(prompt="rain", model="m", duration=4, generate_audio=True)
    clip = backend.generate(request, lambda step, total: None)
    assert len(list(clip.frames)) == 4 * 24 + 1
    assert clip.sample_rate == 48_000 and clip.audio is not None
    assert abs(clip.audio.size / 48_000 - 4) < 0.1
    backend.close()


def test_the_distilled_weights_run_two_stages_with_their_upsampler(
    folder: Path, tmp_path: Path
) -> None:
    """Named as the distilled checkpoint and with a `latent_upsampler/`: 8 sigmas at half
    size, the x2 upsampler, 3 stage-2 sigmas at the native size; the sound survives both."""
    named = shutil.copytree(folder, tmp_path / "LTX-2.3-Distilled-Diffusers")
    ltx2.latent_upsampler().save_pretrained(named / "latent_upsampler")
    settings = Settings(backend="diffusers", model=str(named), **LTX2_NATIVE)
    backend = DiffusersBackend.from_settings(settings.model_copy(update=PUBLISHED_STEPS))
    request = GenerationRequest(prompt="rain", model="m", duration=4, generate_audio=True)
    steps: list[tuple[int, int]] = []
    clip = backend.generate(request, lambda step, total: steps.append((step, total)))
    frames = list(clip.frames)
    assert steps == [(step, 11) for step in range(1, 12)]
    assert len(frames) == 4 * 24 + 1 and frames[0].shape[0] == 64  # twice the 32-px stage one
    assert clip.audio is not None and abs(clip.audio.size / clip.sample_rate - 4) < 0.1
    backend.close()
