"""The Python SDK (Client and AsyncClient) against real servers on loopback.

A live ClipForge server (test pattern, paced so that progress can be watched) for the happy
paths and typed errors; a tiny flaky FastAPI app for the retries.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

import clipforge
from clipforge import (
    ApiConnectionError,
    ApiError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    ClientError,
    Job,
    JobFailedError,
    NotFoundError,
    RateLimitError,
    ServerError,
    WaitTimeoutError,
)
from clipforge.client._base import RetryPolicy, retry_after_seconds
from clipforge.errors import ClipForgeError
from tests.live import LiveServer, free_port, live_server
from tests.slow_worker import paced_worker

KEY = "sdk-key"
PHASES = ("loading", "denoising", "decoding", "encoding", "uploading")  # the documented order
STEP_SECONDS = 0.15


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("sdk")
    with (
        live_server(data, backend="testpattern", workers=0, api_keys=KEY) as live,
        paced_worker(live, STEP_SECONDS),
    ):
        yield live


@pytest.fixture
def client(server: LiveServer) -> Iterator[Client]:
    with Client(server.url, KEY, poll_interval=0.05) as sdk:
        yield sdk


def assert_progress_story(seen: list[Job]) -> None:
    """Snapshots in lifecycle order, each one news, steps counting up, ending completed."""
    order = {"queued": 0, "generating": 1, "completed": 2}
    ranks = [order[job.status] for job in seen]
    assert ranks == sorted(ranks) and seen[-1].status == "completed"
    keys = [job.change_key() for job in seen]
    assert all(a != b for a, b in itertools.pairwise(keys))
    steps = [job.progress.step for job in seen if job.status == "generating"]
    assert steps == sorted(steps) and max(steps) >= 2
    assert any(job.eta_seconds is not None for job in seen if job.progress.step >= 1)
    phases = [job.phase for job in seen if job.status == "generating"]
    assert "denoising" in phases, phases
    assert [PHASES.index(p) for p in phases if p] == sorted(PHASES.index(p) for p in phases if p)
    assert all(job.phase is None for job in seen if job.status != "generating")


def assert_clip(path: Path, size: tuple[int, int], seconds: float = 5.0) -> None:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == size
        frames = sum(1 for _ in container.decode(stream))
    assert frames == 24 * seconds + 1


def test_generate_wait_download(client: Client, tmp_path: Path) -> None:
    generation = client.generate("a red ball", resolution="480p", aspect_ratio="1:1", seed=5)
    # generate() reads the job back: a fast worker may already have claimed it.
    assert generation.job.status in ("queued", "generating")
    assert generation.job.request.seed == 5
    seen: list[Job] = []
    job = generation.wait(on_progress=seen.append)
    assert job.ok and job.video_url and job.request.resolution == "480p"
    assert_progress_story(seen)
    assert job.reading["prompt"] == "a red ball" and job.reading["frame_rate"]["fps"] == 24
    path = generation.download(tmp_path / "ball.mp4")
    assert path == tmp_path / "ball.mp4" and not (tmp_path / "ball.mp4.part").exists()
    assert_clip(path, (640, 640))


def test_download_waits_for_a_running_job(client: Client, tmp_path: Path) -> None:
    generation = client.generate("a blue square", resolution="480p", duration=5)
    path = generation.download(tmp_path / "square.mp4")
    assert generation.job.status == "completed"
    assert_clip(path, (864, 480))


def test_get_list_models_and_cancel(client: Client) -> None:
    first = client.generate("first", resolution="480p")
    second = client.generate("second", resolution="480p")
    assert client.cancel(second.id).status == "cancelled"
    assert second.wait().status == "cancelled"
    with pytest.raises(JobFailedError, match="no video"):
        second.download("never.mp4")
    assert first.wait().status == "completed"
    listed = client.list(limit=2)
    assert [job.id for job in listed] == [second.id, first.id]
    assert client.list(limit=1, offset=1)[0].id == first.id
    # The same file; the signature's expiry is computed at each read.
    assert client.get(first.id).video_url.split("?")[0] == first.job.video_url.split("?")[0]
    models = client.models()
    assert "bytedance/seedance-1-0-pro-t2v" in {model.id for model in models}
    assert {model.backend for model in models} == {"testpattern"}


def test_wait_gives_up_after_its_timeout(client: Client) -> None:
    generation = client.generate("slow", resolution="480p")
    with pytest.raises(WaitTimeoutError, match=generation.id):
        generation.wait(timeout=0)
    assert generation.cancel().status == "cancelled"


def test_typed_errors(server: LiveServer, client: Client) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.get("no-such-job")
    assert missing.value.status_code == 404 and missing.value.request_id
    assert "no-such-job" in missing.value.message and str(missing.value).startswith("HTTP 404")
    with pytest.raises(BadRequestError, match="resolution"):
        client.generate("x", resolution="480x")
    with Client(server.url, "wrong-key") as stranger, pytest.raises(AuthenticationError):
        stranger.models()
    nowhere = Client(f"http://127.0.0.1:{free_port()}", KEY, max_retries=0)
    with nowhere, pytest.raises(ApiConnectionError, match="cannot reach"):
        nowhere.models()
    assert issubclass(NotFoundError, ApiError) and issubclass(ApiError, ClientError)
    assert issubclass(ApiConnectionError, ClientError) and issubclass(ClientError, ClipForgeError)


def test_defaults_come_from_the_environment(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLIPFORGE_URL", server.url)
    monkeypatch.setenv("CLIPFORGE_API_KEY", KEY)
    with Client() as sdk:
        assert sdk.base_url == server.url and sdk.models()
    monkeypatch.setenv("CLIPFORGE_API_KEY", "wrong")
    with Client() as sdk, pytest.raises(AuthenticationError):
        sdk.models()


def test_async_client_has_the_same_methods(server: LiveServer, tmp_path: Path) -> None:
    sync_methods = {name for name in dir(Client) if not name.startswith("_")}
    async_methods = {name for name in dir(AsyncClient) if not name.startswith("_")}
    assert sync_methods - {"close"} == async_methods - {"aclose"}

    async def scenario() -> tuple[list[Job], Path, list[Job]]:
        seen: list[Job] = []

        async def record(job: Job) -> None:
            seen.append(job)

        async with AsyncClient(server.url, KEY, poll_interval=0.05) as sdk:
            generation = await sdk.generate("a green ball", resolution="480p", seed=3)
            job = await generation.wait(on_progress=record)
            assert job.ok
            path = await generation.download(tmp_path / "async.mp4")
            doomed = await sdk.generate("doomed", resolution="480p")
            assert (await sdk.cancel(doomed.id)).status == "cancelled"
            with pytest.raises(NotFoundError):
                await sdk.get("no-such-job")
            assert await sdk.models()
            return seen, path, await sdk.list(limit=2)

    seen, path, listed = asyncio.run(scenario())
    assert_progress_story(seen)
    assert_clip(path, (864, 480))
    assert [job.status for job in listed] == ["cancelled", "completed"]


def test_sampling_overrides_are_named_arguments(client: Client) -> None:
    generation = client.generate("a ball", resolution="480p", num_inference_steps=3)
    assert generation.job.request.num_inference_steps == 3
    assert generation.wait().progress.total == 3  # the backend ran that many steps
    for name, value in (("guidance_scale", 2.0), ("negative_prompt", "blur")):
        with pytest.raises(BadRequestError, match=name):  # the test pattern takes neither
            client.generate("a ball", resolution="480p", **{name: value})

    async def from_async() -> int | None:
        async with AsyncClient(client.base_url, KEY) as sdk:
            job = await sdk.generate("a ball", resolution="480p", num_inference_steps=2)
            return job.job.request.num_inference_steps

    assert asyncio.run(from_async()) == 2


def test_import_clipforge_stays_light() -> None:
    code = (
        "import sys, clipforge\n"
        "heavy = {'torch', 'fastapi', 'uvicorn', 'httpx'}\n"
        "before = sorted(heavy & set(sys.modules))\n"
        "from clipforge import Client\n"
        "print(before, sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] ['httpx']"
    assert {"Client", "AsyncClient", "ApiError", "Generation"} <= set(clipforge.__all__)
    assert all(getattr(clipforge, name) is not None for name in clipforge.__all__)
    with pytest.raises(AttributeError):
        _ = clipforge.NoSuchThing  # type: ignore[attr-defined]


# --- retries against a flaky server ----------------------------------------------------------


class Flaky:
    """A FastAPI app whose /v1/models fails with the given (status, headers), then succeeds."""

    def __init__(self, failures: list[tuple[int, dict[str, str]]]) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.app = FastAPI()
        self.app.get("/v1/models")(self.models)

    async def models(self) -> JSONResponse:
        self.calls += 1
        if self.failures:
            status, headers = self.failures.pop(0)
            return JSONResponse({"message": "not now"}, status_code=status, headers=headers)
        model = {"id": "m", "backend": "testpattern", "weights": None, "image_input": False}
        return JSONResponse({"data": [model]})


@contextmanager
def serving(app: FastAPI, port: int | None = None, delay: float = 0.0) -> Iterator[str]:
    """Serve `app` on loopback (after `delay` seconds) until the block ends."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))

    def run() -> None:
        time.sleep(delay)
        server.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while delay == 0 and not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_retries_5xx_and_429_honouring_retry_after() -> None:
    flaky = Flaky([(503, {}), (502, {}), (429, {"Retry-After": "1"})])
    with serving(flaky.app) as url, Client(url, retry_backoff=0.01) as sdk:
        started = time.monotonic()
        assert [model.id for model in sdk.models()] == ["m"]
        elapsed = time.monotonic() - started
    assert flaky.calls == 4
    assert 1.0 <= elapsed < 3.0


def test_retries_give_up_with_the_typed_error() -> None:
    flaky = Flaky([(500, {})] * 3 + [(429, {"Retry-After": "0"})] * 3 + [(400, {})])
    with serving(flaky.app) as url, Client(url, max_retries=2, retry_backoff=0.01) as sdk:
        with pytest.raises(ServerError) as failed:
            sdk.models()
        assert failed.value.status_code == 500 and flaky.calls == 3
        with pytest.raises(RateLimitError):
            sdk.models()
        assert flaky.calls == 6
        with pytest.raises(BadRequestError, match="not now"):
            sdk.models()
        assert flaky.calls == 7  # a 400 is not retried


def test_retries_connection_errors_until_the_server_is_up() -> None:
    flaky = Flaky([])
    port = free_port()
    with (
        serving(flaky.app, port=port, delay=0.5),
        Client(f"http://127.0.0.1:{port}", max_retries=8, retry_backoff=0.2) as sdk,
    ):
        assert sdk.models()[0].id == "m"
    assert flaky.calls == 1


def test_async_client_retries_too() -> None:
    flaky = Flaky([(503, {}), (429, {"Retry-After": "0.2"})])

    async def models(url: str) -> list[str]:
        async with AsyncClient(url, retry_backoff=0.01) as sdk:
            return [model.id for model in await sdk.models()]

    with serving(flaky.app) as url:
        assert asyncio.run(models(url)) == ["m"]
    assert flaky.calls == 3


def test_backoff_grows_with_jitter_and_reads_retry_after() -> None:
    policy = RetryPolicy(max_retries=5, base_delay=0.5, max_delay=4.0)
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0]):
        delays = {policy.delay(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jitter
    assert policy.delay(0, retry_after=7) == 7
    assert policy.delay(0, retry_after=600) == policy.max_retry_after
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "3"})) == 3
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": date})) < 0
    assert retry_after_seconds(httpx.Response(429)) is None
    assert policy.next_delay(5, httpx.Response(503)) is None
    assert policy.next_delay(0, httpx.Response(503)) is not None  # a storage fault: wait
    assert policy.next_delay(0, httpx.Response(507)) is None  # the quota: waiting won't do
    assert policy.next_delay(0, httpx.Response(404)) is None
    assert policy.next_delay(0, httpx.ConnectError("refused")) is not None
