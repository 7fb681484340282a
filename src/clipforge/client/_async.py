"""The asynchronous client: `AsyncClient` and `AsyncGeneration`, the same methods as `Client`."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from clipforge.client import _base
from clipforge.client._base import DEFAULT_MODEL, ClientConfig, ProgressCallback, WaitState
from clipforge.client._models import Job, Model

Jobs = list[Job]
Models = list[Model]


class AsyncClient:
    """`Client` for asyncio: every method is a coroutine; the same retries and errors."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        retry_backoff: float = 0.25,
        poll_interval: float = 0.5,
    ) -> None:
        self._config = ClientConfig(
            base_url,
            api_key,
            timeout=timeout,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            poll_interval=poll_interval,
        )
        self._http = httpx.AsyncClient(
            base_url=self._config.base_url, headers=self._config.headers(), timeout=timeout
        )

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def poll_interval(self) -> float:
        """Seconds between polls in `AsyncGeneration.wait()`."""
        return self._config.poll_interval

    async def generate(
        self,
        prompt: str,
        *,
        model: str = DEFAULT_MODEL,
        resolution: str | None = None,
        aspect_ratio: str | None = None,
        duration: int | None = None,
        seed: int | None = None,
        camera_fixed: bool | None = None,
        watermark: bool | None = None,
        image: _base.ImageSource | None = None,
        last_image: _base.ImageSource | None = None,
        negative_prompt: str | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        **options: Any,
    ) -> AsyncGeneration:
        """Queue a generation (see `Client.generate`)."""
        options.update(resolution=resolution, aspect_ratio=aspect_ratio, duration=duration)
        options.update(seed=seed, camera_fixed=camera_fixed, watermark=watermark)
        options.update(negative_prompt=negative_prompt, guidance_scale=guidance_scale)
        options.update(num_inference_steps=num_inference_steps)
        create = _base.create_request(prompt, model, options, image, last_image)
        created = await self._request("POST", _base.CREATE_PATH, **create)
        return AsyncGeneration(self, _base.parse_job(created))

    async def generation(self, job_id: str) -> AsyncGeneration:
        """A handle on an existing generation."""
        return AsyncGeneration(self, await self.get(job_id))

    async def get(self, job_id: str) -> Job:
        """The job now, with its progress and queue position."""
        return _base.parse_job(await self._request("GET", _base.job_path(job_id)))

    async def list(self, *, limit: int = 20, offset: int = 0) -> Jobs:
        """Past and present jobs, newest first."""
        params = {"limit": limit, "offset": offset}
        return _base.parse_jobs(await self._request("GET", "/v1/jobs", params=params))

    async def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job; a finished one is returned unchanged."""
        return _base.parse_job(await self._request("POST", _base.job_path(job_id, "/cancel")))

    async def models(self) -> Models:
        """The model ids this server serves."""
        return _base.parse_models(await self._request("GET", "/v1/models"))

    async def download(self, job: Job, path: str | Path) -> Path:
        """Save a completed job's video to `path` (written to `path.part`, then renamed)."""
        target = Path(path)
        request = self._config.strip_foreign_auth(
            self._http.build_request("GET", _base.require_video(job))
        )
        response = await self._send(lambda: self._http.send(request, stream=True))
        partial = _base.partial_path(target)
        try:
            with partial.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
        finally:
            await response.aclose()
        partial.replace(target)
        return target

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._send(lambda: self._http.request(method, path, **kwargs))

    async def _send(self, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """`send()` with retries; the response on success, else a typed error."""
        for attempt in itertools.count():
            outcome: httpx.Response | Exception
            try:
                outcome = await send()
            except httpx.TransportError as exc:
                outcome = exc
            delay = self._config.retry.next_delay(attempt, outcome)
            if delay is None:
                return await self._checked(outcome)
            if isinstance(outcome, httpx.Response):
                await outcome.aclose()
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _checked(self, outcome: httpx.Response | Exception) -> httpx.Response:
        if isinstance(outcome, Exception):
            raise _base.connection_error(self.base_url, outcome) from outcome
        if outcome.is_success:
            return outcome
        await outcome.aread()
        await outcome.aclose()
        raise _base.api_error(outcome)


class AsyncGeneration:
    """One generation on the server (see `Generation`); `on_progress` may be async."""

    def __init__(self, client: AsyncClient, job: Job) -> None:
        self._client = client
        self.job = job

    @property
    def id(self) -> str:
        return self.job.id

    async def refresh(self) -> Job:
        """Fetch the job again (also updates `self.job`)."""
        self.job = await self._client.get(self.id)
        return self.job

    async def wait(
        self,
        on_progress: ProgressCallback | None = None,
        *,
        poll_interval: float | None = None,
        timeout: float | None = None,
    ) -> Job:
        """Poll until the job stops and return it (see `Generation.wait`)."""
        state = WaitState(self.id, timeout)
        interval = poll_interval or self._client.poll_interval
        job = self.job
        while True:
            if on_progress is not None and state.is_news(job):
                result = on_progress(job)
                if inspect.isawaitable(result):
                    await result
            if job.done:
                return job
            state.check_deadline()
            await asyncio.sleep(interval)
            job = await self.refresh()

    async def download(self, path: str | Path) -> Path:
        """Wait for the job if it is still running, then save its video to `path`."""
        job = self.job if self.job.done else await self.wait()
        return await self._client.download(job, path)

    async def cancel(self) -> Job:
        self.job = await self._client.cancel(self.id)
        return self.job
