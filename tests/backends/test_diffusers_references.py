"""Wan VACE and HunyuanVideo 1.5 served end to end: tiny pipelines with their real repositories'
structure, saved in the diffusers layout under names that are not the catalogue's, behind a
live server. A Seedance 2.0 request with `image_urls` renders on its reference weights (VACE),
whose pipeline receives the images in the order sent with @Image1... resolved; a 1.0
image-to-video request on HunyuanVideo 1.5 I2V starts on its image. The pipelines are wrapped
to record what they are called with (built once for the module)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from diffusers import HunyuanVideo15ImageToVideoPipeline, WanVACEPipeline

from clipforge.backends.diffusers.backend import DiffusersBackend
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.errors import JobCancelled
from clipforge.schemas import GenerationRequest
from tests.conftest import TINY_NATIVE, make_tiny_settings
from tests.images import data_url, encoded, halves
from tests.live import LiveServer, live_server, wait_for_job

pytestmark = pytest.mark.timeout(240)
TWO, LITE_I2V = "bytedance/seedance-2-0", "bytedance/seedance-1-0-lite-i2v"


@pytest.fixture(scope="module")
def calls() -> Iterator[dict[str, list[dict[str, Any]]]]:
    """What each wrapped pipeline class was called with, per class name."""
    seen: dict[str, list[dict[str, Any]]] = {}
    with pytest.MonkeyPatch.context() as patch:
        for cls in (WanVACEPipeline, HunyuanVideo15ImageToVideoPipeline):
            patch.setattr(
                cls, "__call__", _recording(cls.__call__, seen.setdefault(cls.__name__, []))
            )
        yield seen


def _recording(call: Any, into: list[dict[str, Any]]) -> Any:
    @functools.wraps(call)  # the backend reads the signature: keep it
    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        into.append(kwargs)
        return call(self, *args, **kwargs)

    return recorded


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("references")
    return {
        name: build_tiny_pipeline(name, root / f"weights-{n}")
        for n, name in enumerate(
            ("wan2.1-vace-1.3b", "hunyuanvideo-1.5-480p-t2v", "hunyuanvideo-1.5-480p-i2v")
        )
    }


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
    folders: dict[str, Path],
    calls: dict[str, list[dict[str, Any]]],
) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("data"),
        backend="diffusers",
        workers=1,
        model_map={
            TWO: str(folders["hunyuanvideo-1.5-480p-t2v"]),
            LITE_I2V: str(folders["hunyuanvideo-1.5-480p-i2v"]),
        },
        reference_model_map={TWO: str(folders["wan2.1-vace-1.3b"])},
        **TINY_NATIVE,
    ) as server:
        yield server


def _finished(live: LiveServer, body: dict[str, Any]) -> dict[str, Any]:
    with live.client() as client:
        created = client.post("/v2/video/generations", json=body)
        assert created.status_code == 200, created.text
        job = wait_for_job(
            client,
            created.json()["id"],
            lambda j: j["status"] != "queued" and (j["status"] in ("completed", "error")),
        )
    assert job["status"] == "completed", job
    return job


def test_models_say_what_an_id_renders_with_references(live: LiveServer) -> None:
    with live.client() as client:
        models = {m["id"]: m for m in client.get("/v1/models").json()["data"]}
    assert models[TWO]["weights"].endswith("weights-1")
    assert models[TWO]["reference_weights"].endswith("weights-0")
    assert models[TWO]["reference_images"] == 9
    assert models[LITE_I2V]["reference_weights"] is None


def test_a_vace_job_receives_its_reference_images_in_order(
    live: LiveServer, calls: dict[str, list[dict[str, Any]]]
) -> None:
    first, second = halves(96, 64), halves(72, 120, left=(20, 200, 40), right=(250, 250, 10))
    body = {
        "model": TWO,
        "prompt": "@Image2 chases @image1 across a field",
        "resolution": "480p",
        "image_urls": [data_url(encoded(first)), data_url(encoded(second))],
    }
    job = _finished(live, body)
    (call,) = calls["WanVACEPipeline"]
    got = [np.asarray(image) for image in call["reference_images"]]
    assert [g.shape for g in got] == [first.shape, second.shape]  # as sent, not fitted
    assert np.array_equal(got[0], first) and np.array_equal(got[1], second)
    resolved = "the subject of reference image 2 chases the subject of reference image 1"
    assert call["prompt"].startswith(resolved)
    assert job["reading"]["prompt"].startswith(resolved)
    assert "video" not in call  # references alone: no frames to keep


def test_a_hunyuan_image_to_video_job_starts_on_its_image(
    live: LiveServer, calls: dict[str, list[dict[str, Any]]]
) -> None:
    sent = halves(640, 360)
    body = {"model": LITE_I2V, "prompt": "the flag waves", "image_url": data_url(encoded(sent))}
    _finished(live, body)
    (call,) = calls["HunyuanVideo15ImageToVideoPipeline"]
    image = np.asarray(call["image"]).astype(int)
    height, width = image.shape[:2]
    assert width > height  # the request's 16:9 bucket
    left, right = image[:, : width // 2 - 2], image[:, width // 2 + 2 :]
    assert np.abs(left - (220, 30, 30)).max() <= 8 and np.abs(right - (30, 30, 220)).max() <= 8
    assert "width" not in call and "guidance_scale" not in call  # its size and guider decide


def test_hunyuan_guidance_progress_and_cancel_without_a_step_callback(
    folders: dict[str, Path],
) -> None:
    """HunyuanVideo 1.5 takes no `guidance_scale` and no `callback_on_step_end`: a request's
    guidance reaches its guider for that call only, progress comes after each scheduler step,
    and a cancel there stops the job before the VAE decodes."""
    backend = DiffusersBackend.from_settings(
        make_tiny_settings(folders["hunyuanvideo-1.5-480p-t2v"])
    )
    pipeline, scales = backend.pipeline, []

    def progress(step: int, total: int) -> None:
        scales.append((step, total, pipeline.guider.guidance_scale))

    backend.generate(GenerationRequest(model="m", prompt="a", guidance_scale=3.0), progress)
    assert scales == [(1, 2, 3.0), (2, 2, 3.0)] and pipeline.guider.guidance_scale == 6.0
    decoded: list[bool] = []
    decode = pipeline.vae.decode
    pipeline.vae.decode = lambda *a, **k: decoded.append(True) or decode(*a, **k)

    def cancel(step: int, total: int) -> None:
        raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        backend.generate(GenerationRequest(model="m", prompt="a"), cancel)
    assert decoded == [] and "step" not in vars(pipeline.scheduler)
