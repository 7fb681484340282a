"""LoRA adapters through a live server: two models (tiny Wan and tiny LTX weights), each with
its declared adapters (one of Wan's cannot load), chosen per request on every surface."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import av
import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from clipforge.api.accept.fields import LoraIn
from clipforge.backends.diffusers.tiny import build_tiny_pipeline
from clipforge.backends.diffusers.tiny.lora import build_tiny_lora
from clipforge.cli.app import app
from clipforge.cli.output import adapters_text
from clipforge.client import Model
from clipforge.errors import InvalidField
from clipforge.routing import ModelRouting
from clipforge.settings import Settings
from tests.api.test_aimlapi import assert_error_body
from tests.api.test_ark import assert_ark_error
from tests.conftest import TINY_NATIVE
from tests.live import LiveServer, live_server, wait_for_job

LITE, PRO = "bytedance/seedance-1-0-lite-t2v", "bytedance/seedance-1-0-pro-t2v"
TASKS = "/api/v3/contents/generations/tasks"
ARK_LITE = "seedance-1-0-lite-t2v-250428"
DONE = ("completed", "error", "cancelled")
BASE_TO_BASE = 0.1
"""Mean difference (levels of 255) of two served MP4s of one request without adapters: seen
at most 0.01; an adapter changes the tiny model's clip by about 3.7."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("loras")
    wan = build_tiny_pipeline("wan", root / "wan")
    ltx = build_tiny_pipeline("ltx", root / "ltx")
    loras = {
        str(wan): [
            {"name": "style", "source": str(build_tiny_lora(wan, root / "style.safetensors"))},
            {"name": "broken", "source": str(root / "missing.safetensors"), "scale": 0.7},
        ],
        str(ltx): [
            {"name": "glow", "source": str(build_tiny_lora(ltx, root / "glow.safetensors"))}
        ],
    }
    settings: dict[str, Any] = {
        **TINY_NATIVE,
        "backend": "diffusers",
        "model_map": {LITE: str(wan), PRO: str(ltx)},
        "loras": loras,
        "heartbeat_seconds": 0.5,
    }
    with live_server(root / "data", **settings) as live:
        yield live


@pytest.fixture(scope="module")
def base(server: LiveServer) -> np.ndarray:
    """The lite model's clip without adapters (its job warms the worker)."""
    return _render(server)[1]


def _wait_ready(live: LiveServer) -> dict[str, Any]:
    """/readyz once the warm worker reported its adapters."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body: dict[str, Any] = httpx.get(f"{live.url}/readyz").json()
        if body.get("warnings"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"no adapter warning in /readyz: {body}")


def _render(live: LiveServer, **fields: Any) -> tuple[str, np.ndarray]:
    """A short clip of the lite model through Ark (29 frames: cheap to encode), decoded."""
    content = [{"type": "text", "text": "a red ball --rs 480p --seed 7"}]
    body = {"model": ARK_LITE, "content": content, "frames": 29, **fields}
    with live.client() as http:
        job = _finish(http, http.post(TASKS, json=body))
        data = httpx.get(job["video_url"]).content
    with av.open(io.BytesIO(data)) as container:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    return job["id"], frames


def _finish(http: httpx.Client, created: httpx.Response) -> dict[str, Any]:
    """The native view of the job `created` made, once it completed."""
    assert created.status_code in (200, 201), created.text
    job = wait_for_job(http, created.json()["id"], lambda j: j["status"] in DONE)
    assert job["status"] == "completed", job
    return job


def _wait_status(live: LiveServer, model: str, status: str) -> None:
    """Until /v1/models says `status` of the model's first adapter (workers report soon)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        models = {m["id"]: m for m in httpx.get(f"{live.url}/v1/models").json()["data"]}
        if models[model]["loras"][0]["status"] == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"{model}: {models[model]['loras']}")


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b).mean())


def _worker(live: LiveServer) -> Any:
    return live.server.pool.workers[0]


def test_models_and_readyz_say_which_adapter_failed(server: LiveServer) -> None:
    _render(server)  # the worker holds the lite model (whatever ran before)
    ready = _wait_ready(server)
    assert ready["status"] == "ready"  # degraded, not down: the other adapters serve
    assert any("'broken'" in line and "no file at" in line for line in ready["warnings"])
    models = {m["id"]: m for m in httpx.get(f"{server.url}/v1/models").json()["data"]}
    lite = {lora["name"]: lora for lora in models[LITE]["loras"]}
    assert lite["style"] == {"name": "style", "scale": 1.0, "status": "loaded", "error": None}
    assert lite["broken"]["status"] == "failed" and "no file at" in lite["broken"]["error"]
    assert [lora["name"] for lora in models[PRO]["loras"]] == ["glow"]
    assert models[PRO]["loras"][0]["status"] == "declared"  # no worker holds it now
    result = CliRunner().invoke(app, ["models", "--server", server.url, "--json"])
    assert result.exit_code == 0, result.output
    shown = {m["id"]: m for m in json.loads(result.stdout)}
    assert [(a["name"], a["status"]) for a in shown[LITE]["loras"]] == [
        ("style", "loaded"),
        ("broken", "failed"),
    ]
    text = adapters_text(Model.model_validate(shown[LITE]))  # the table's column
    assert text.startswith("style (1, loaded); broken (0.7, failed): adapter 'broken': no file")


def test_per_request_adapters_switch_without_reloading_the_model(
    server: LiveServer, base: np.ndarray
) -> None:
    worker = _worker(server)
    loads, adapter_loads = worker.warm.loads, worker.warm.backend.adapters.loads
    job_id, styled = _render(server, loras=[{"name": "style"}])
    _, again = _render(server)
    # The backend's frames are the base model's bit for bit (test_diffusers_adapters.py); the
    # served MP4s of one request vary by a few levels in a few frames from run to run even
    # without adapters, so here the adapter's change is held against that.
    assert _difference(styled, base) > 1.0
    assert _difference(again, base) < BASE_TO_BASE
    assert worker.warm.loads == loads  # no reload of the base model
    assert worker.warm.backend.adapters.loads == adapter_loads  # nor of the adapter
    with server.client() as http:
        recorded = http.get(f"/v1/jobs/{job_id}").json()["request"]["loras"]
    assert recorded == [{"name": "style", "scale": 1.0}]  # the declared default, recorded


def test_per_model_adapters_on_the_openai_and_native_surfaces(server: LiveServer) -> None:
    glow = {"prompt": "a glow", "model": "sora-2-pro", "size": "864x480"}
    style = {"model": LITE, "prompt": "a ball", "resolution": "480p"}
    with server.client() as http:
        video = http.post("/v1/videos", json=glow | {"loras": [{"name": "glow", "scale": 0.5}]})
        job = _finish(http, video)
        assert job["request"]["model"] == PRO
        assert job["request"]["loras"] == [{"name": "glow", "scale": 0.5}]
        _wait_status(server, PRO, "loaded")  # the worker holds the LTX model now
        job = _finish(http, http.post("/v1/jobs", json=style | {"loras": [{"name": "style"}]}))
        assert job["request"]["loras"] == [{"name": "style", "scale": 1.0}]  # the default


BAD = [
    ([{"name": "pixel"}], "loras[0].name", "no LoRA adapter of model"),
    ([{"name": "/srv/loras/x.safetensors"}], "loras[0].name", "never by path or URL"),
    ([{"name": "https://example.com/x.safetensors"}], "loras[0].name", "never by path"),
    ([{"name": "style", "path": "/tmp/x.safetensors"}], "loras.0.path", ""),
    ([{"name": "style", "scale": "big"}], "loras.0.scale", ""),
    ([{"name": "style"}, {"name": "style"}], "loras[1].name", "named twice"),
    ([{"name": "broken"}], "loras[0].name", "failed to load"),
]


@pytest.mark.parametrize("loras, field, words", BAD)
def test_a_bad_adapter_is_a_400_naming_the_field_on_every_surface(
    server: LiveServer, loras: list[dict[str, Any]], field: str, words: str
) -> None:
    if words == "failed to load":  # known while a worker holds the model: make sure one does
        _render(server)
        _wait_ready(server)
    with server.client() as http:
        native = http.post(
            "/v2/video/generations", json={"model": LITE, "prompt": "x", "loras": loras}
        )
        assert_error_body(native, 400, field, words)
        openai = http.post("/v1/videos", json={"prompt": "x", "model": LITE, "loras": loras})
        assert openai.status_code == 400, openai.text
        assert openai.json()["error"]["param"] == field
        content = [{"type": "text", "text": "x"}]
        ark = http.post(
            TASKS,
            json={"model": ARK_LITE, "content": content, "loras": loras},
        )
        assert_ark_error(ark, 400, "InvalidParameter", field)


def test_fixed_adapters_take_no_choice() -> None:
    adapters = {"w": [{"name": "fast", "source": "/loras/fast.safetensors"}]}
    routing = ModelRouting(
        Settings(backend="diffusers", model="w", loras=adapters, lora_fixed=["w"])
    )
    served = routing.require(LITE)
    assert served.fixed_adapters and [a.name for a in served.adapters] == ["fast"]
    with pytest.raises(InvalidField, match="fixed adapters"):
        routing.loras(served, [LoraIn(name="fast")])
    assert routing.loras(served, None) == ()
    assert routing.unserved_adapter_keys() == []
    typo = Settings(backend="diffusers", model="w", loras={"W": adapters["w"]})
    assert ModelRouting(typo).unserved_adapter_keys() == ["W"]  # `clipforge serve` warns


def test_the_openai_sdk_form_fields_name_adapters(server: LiveServer) -> None:
    """The openai SDK sends `extra_body={"loras": [...]}` in its forms as loras[][name] and
    loras[][scale] fields (its "brackets" arrays)."""
    form = {"prompt": "x", "model": LITE, "size": "864x480"}
    with server.client() as http:
        unknown = http.post("/v1/videos", data=form | {"loras[][name]": "pixel"})
        assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "loras[0].name"
        uneven = form | {"loras[][name]": ["style", "style"], "loras[][scale]": "0.5"}
        assert http.post("/v1/videos", data=uneven).json()["error"]["param"] == "loras"
        taken = http.post(
            "/v1/videos", data=form | {"loras[][name]": "style", "loras[][scale]": "0.5"}
        )
        assert taken.status_code == 200, taken.text
        job = http.post(f"/v1/jobs/{taken.json()['id']}/cancel").json()
        assert job["request"]["loras"] == [{"name": "style", "scale": 0.5}]
