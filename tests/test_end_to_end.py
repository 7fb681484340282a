"""The whole path with a real (tiny, random-weight) diffusers model over real HTTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import requests

from tests.clients.seed_client import run_seed_client
from tests.live import (
    LiveServer,
    ServerProcess,
    live_server,
    start_server_process,
    wait_for_job,
)

# real servers in child processes, real tiny models: longer than the suite's 60 s per test
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def decode(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return {
            "size": (stream.width, stream.height),
            "fps": stream.average_rate,
            "frames": frames,
            "pix_fmt": stream.codec_context.pix_fmt,
            "codec": stream.codec_context.name,
            "tags": dict(container.metadata),
        }


def tiny_overrides(model: Path) -> dict[str, Any]:
    return {
        "backend": "diffusers",
        "model": str(model),
        "native_short_side": 32,
        "native_max_frames": 9,
        "num_inference_steps": 2,
    }


@pytest.fixture(scope="module")
def wan_server(
    tiny_wan_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("e2e")
    with live_server(data, api_keys="seed-key", **tiny_overrides(tiny_wan_path)) as live:
        yield live


@pytest.fixture(scope="module")
def seed_run(wan_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the seed document's client (a 1080p, 121-frame clip: the costliest render
    here), read by both tests below."""
    folder = tmp_path_factory.mktemp("seed")
    final = run_seed_client(folder, wan_server.url, "seed-key", sleep_seconds=0.2)
    assert final is not None, "the seed client returned nothing"
    return final


def test_the_seed_documents_polling_loop_gets_a_real_video(
    wan_server: LiveServer, seed_run: dict[str, Any], tmp_path: Path
) -> None:
    final = seed_run
    assert final["status"] == "completed", final
    assert final["error"] is None
    assert final["meta"]["usage"]["credits_used"] == 246840
    url = final["video"]["url"]
    assert url.startswith(wan_server.url + "/files/")
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    video = tmp_path / "seed.mp4"
    video.write_bytes(response.content)
    info = decode(video)
    assert info["size"] == (1920, 1088)
    assert info["fps"] == Fraction(24)
    assert info["frames"] == 121
    assert (info["codec"], info["pix_fmt"]) == ("h264", "yuv420p")
    assert info["tags"]["clipforge_model"] == "bytedance/seedance-1-0-pro-t2v"
    assert info["tags"]["clipforge_prompt"].startswith("A menacing evil dragon")


def test_video_links_are_signed(wan_server: LiveServer, seed_run: dict[str, Any]) -> None:
    url = seed_run["video"]["url"]
    assert httpx.head(url).status_code == 200
    assert httpx.get(url.replace("signature=", "signature=x")).status_code == 403
    assert httpx.get(url.split("?")[0]).status_code == 403
    expires = url.split("expires=")[1].split("&")[0]
    assert httpx.get(url.replace(expires, str(int(expires) + 1))).status_code == 403
    assert httpx.get(wan_server.url + "/files/..%2Fclipforge.db").status_code in (403, 404)


def test_a_job_survives_sigkill_of_the_server(tiny_wan_path: Path, tmp_path: Path) -> None:
    env = {
        "CLIPFORGE_NATIVE_SHORT_SIDE": "32",
        "CLIPFORGE_NATIVE_MAX_FRAMES": "9",
        "CLIPFORGE_NUM_INFERENCE_STEPS": "400",
        "CLIPFORGE_HEARTBEAT_SECONDS": "0.5",
    }
    first: ServerProcess = start_server_process(tmp_path, env, "--model", str(tiny_wan_path))
    body = {
        "model": "bytedance/seedance-1-0-pro-t2v",
        "prompt": "a red ball",
        "seed": 7,
        "resolution": "480p",
    }
    with httpx.Client(base_url=first.url, timeout=30) as client:
        job_id = client.post("/v2/video/generations", json=body).json()["id"]
        running = wait_for_job(client, job_id, lambda j: j["progress"]["step"] >= 2)
        assert running["status"] == "generating" and running["attempts"] == 1
    first.kill()
    scratch = tmp_path / "tmp"
    [killed] = [p for p in scratch.iterdir() if p.name.split(".")[-2] == str(first.process.pid)]

    second = start_server_process(tmp_path, env, "--model", str(tiny_wan_path))
    try:
        with httpx.Client(base_url=second.url, timeout=30) as client:
            finished = ("completed", "error")
            done = wait_for_job(client, job_id, lambda j: j["status"] in finished, 600)
            assert done["status"] == "completed", done
            assert done["attempts"] == 2 and done["worker_crashes"] == 1
            assert done["error"] is None
            assert done["progress"]["step"] == done["progress"]["total"] == 400
            assert not killed.exists()  # the killed process's scratch folder went at start-up
    finally:
        second.kill()


def test_two_servers_never_run_the_same_job(tiny_wan_path: Path, tmp_path: Path) -> None:
    """Two processes on one data folder: every job completes exactly once."""
    env = {
        "CLIPFORGE_NATIVE_SHORT_SIDE": "32",
        "CLIPFORGE_NATIVE_MAX_FRAMES": "9",
        "CLIPFORGE_NUM_INFERENCE_STEPS": "2",
    }
    servers = [start_server_process(tmp_path, env, "--model", str(tiny_wan_path)) for _ in range(2)]
    try:
        with httpx.Client(base_url=servers[0].url, timeout=30) as client:
            body = {"model": "bytedance/seedance-1-0-pro-t2v", "resolution": "480p"}
            ids = [
                client.post("/v2/video/generations", json={**body, "prompt": f"clip {i}"}).json()[
                    "id"
                ]
                for i in range(6)
            ]
            jobs = [wait_for_job(client, i, lambda j: j["status"] == "completed", 300) for i in ids]
    finally:
        for server in servers:
            server.kill()
    assert [job["attempts"] for job in jobs] == [1] * 6
    log = (tmp_path / "server.log").read_text()
    runs = re.findall(r"job (\S+): attempt \d+ on [^:\s]+:(\d+):", log)
    assert sorted(job_id for job_id, _ in runs) == sorted(ids)  # each job run once
    assert {int(pid) for _, pid in runs} == {server.process.pid for server in servers}, runs


def test_serve_without_a_model_says_how_to_configure_one(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clipforge.cli import app

    args = ["serve", "--backend", "diffusers", "--data-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args, env={})
    assert result.exit_code == 2
    assert "No weights are configured" in result.output
    assert "clipforge serve --model" in result.output
    assert "CLIPFORGE_NATIVE_SHORT_SIDE=32 CLIPFORGE_NUM_INFERENCE_STEPS=4" in result.output


@pytest.mark.parametrize("backend", [None, "diffusers"])
def test_a_model_map_alone_serves_its_ids(
    backend: str | None, tiny_wan_path: Path, tmp_path: Path
) -> None:
    """CLIPFORGE_MODEL_MAP without CLIPFORGE_MODEL (and with CLIPFORGE_BACKEND=diffusers, as
    docs/GPU.md writes it): the mapped id runs on those weights, the others are not served."""
    mapped = "bytedance/seedance-1-0-lite-t2v"
    env = {
        "CLIPFORGE_MODEL_MAP": json.dumps({mapped: str(tiny_wan_path)}),
        "CLIPFORGE_NATIVE_SHORT_SIDE": "32",
        "CLIPFORGE_NATIVE_MAX_FRAMES": "9",
        "CLIPFORGE_NUM_INFERENCE_STEPS": "2",
    }
    env |= {"CLIPFORGE_BACKEND": backend} if backend else {}
    server = start_server_process(tmp_path, env)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            served = {model["id"]: model for model in client.get("/v1/models").json()["data"]}
            assert set(served) == {mapped}, served
            body = {"model": mapped, "prompt": "a red ball", "resolution": "480p"}
            job_id = client.post("/v2/video/generations", json=body).json()["id"]
            done = wait_for_job(client, job_id, lambda j: j["status"] in ("completed", "error"))
            assert done["status"] == "completed", done
            other = {**body, "model": "bytedance/seedance-1-0-pro-t2v"}
            refused = client.post("/v2/video/generations", json=other)
            assert refused.status_code == 400 and "model" in refused.text
    finally:
        server.kill()
    assert "backend 'diffusers'" in (tmp_path / "server.log").read_text()
