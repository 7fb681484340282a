"""The synchronous client: `Client` and the `Generation` it returns."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from clipforge.client import _base
from clipforge.client._base import DEFAULT_MODEL, ClientConfig, ProgressCallback, WaitState
from clipforge.client._models import Job, Model

Jobs = list[Job]
Models = list[Model]


class Client:
    """A ClipForge server over HTTP. Defaults: $CLIPFORGE_URL and $CLIPFORGE_API_KEY.

    Connection errors, 429 (honouring Retry-After) and 5xx are retried `max_retries` times
    with exponential backoff and jitter; then, like any other error status, they raise the
    typed errors of `clipforge.errors` (`ApiError` and its subclasses, `ApiConnectionError`).
    """

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
        self._http = httpx.Client(
            base_url=self._config.base_url, headers=self._config.headers(), timeout=timeout
        )

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def poll_interval(self) -> float:
        """Seconds between polls in `Generation.wait()`."""
        return self._config.poll_interval

    def generate(
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
    ) -> Generation:
        """Queue a generation; options left out take the server's defaults (1080p, 16:9, 5 s,
        a random seed). `image` and `last_image` are the first and last frames of an
        image-to-video model (a path, bytes, or an http(s)/data: URL); `negative_prompt`,
        `num_inference_steps` and `guidance_scale` override the model's sampling where its
        backend takes them (else the server answers 400 naming the field); other API fields
        pass through `options`."""
        options.update(resolution=resolution, aspect_ratio=aspect_ratio, duration=duration)
        options.update(seed=seed, camera_fixed=camera_fixed, watermark=watermark)
        options.update(negative_prompt=negative_prompt, guidance_scale=guidance_scale)
        options.update(num_inference_steps=num_inference_steps)
        create = _base.create_request(prompt, model, options, image, last_image)
        created = self._request("POST", _base.CREATE_PATH, **create)
        return Generation(self, _base.parse_job(created))

    def generation(self, job_id: str) -> Generation:
        """A handle on an existing generation (to wait for, download or cancel)."""
        return Generation(self, self.get(job_id))

    def get(self, job_id: str) -> Job:
        """The job now, with its progress and queue position."""
        return _base.parse_job(self._request("GET", _base.job_path(job_id)))

    def list(self, *, limit: int = 20, offset: int = 0) -> Jobs:
        """Past and present jobs, newest first."""
        params = {"limit": limit, "offset": offset}
        return _base.parse_jobs(self._request("GET", "/v1/jobs", params=params))

    def cancel(self, job_id: str) -> Job:
        """Cancel a queued or running job; a finished one is returned unchanged."""
        return _base.parse_job(self._request("POST", _base.job_path(job_id, "/cancel")))

    def models(self) -> Models:
        """The model ids this server serves."""
        return _base.parse_models(self._request("GET", "/v1/models"))

    def download(self, job: Job, path: str | Path) -> Path:
        """Save a completed job's video to `path` (written to `path.part`, then renamed)."""
        target = Path(path)
        request = self._config.strip_foreign_auth(
            self._http.build_request("GET", _base.require_video(job))
        )
        response = self._send(lambda: self._http.send(request, stream=True))
        partial = _base.partial_path(target)
        try:
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        finally:
            response.close()
        partial.replace(target)
        return target

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._send(lambda: self._http.request(method, path, **kwargs))

    def _send(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        """`send()` with retries; the response on success, else a typed error."""
        for attempt in itertools.count():
            outcome: httpx.Response | Exception
            try:
                outcome = send()
            except httpx.TransportError as exc:
                outcome = exc
            delay = self._config.retry.next_delay(attempt, outcome)
            if delay is None:
                return self._checked(outcome)
            if isinstance(outcome, httpx.Response):
                outcome.close()
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _checked(self, outcome: httpx.Response | Exception) -> httpx.Response:
        if isinstance(outcome, Exception):
            raise _base.connection_error(self.base_url, outcome) from outcome
        if outcome.is_success:
            return outcome
        outcome.read()
        outcome.close()
        raise _base.api_error(outcome)


class Generation:
    """One generation on the server: `wait()` for it, `download()` its video, `cancel()` it."""

    def __init__(self, client: Client, job: Job) -> None:
        self._client = client
        self.job = job

    @property
    def id(self) -> str:
        return self.job.id

    def refresh(self) -> Job:
        """Fetch the job again (also updates `self.job`)."""
        self.job = self._client.get(self.id)
        return self.job

    def wait(
        self,
        on_progress: ProgressCallback | None = None,
        *,
        poll_interval: float | None = None,
        timeout: float | None = None,
    ) -> Job:
        """Poll until the job stops (completed, error or cancelled) and return it.

        `on_progress(job)` is called whenever the status, the step or the queue place
        changes. WaitTimeoutError after `timeout` seconds; the job itself goes on.
        """
        state = WaitState(self.id, timeout)
        interval = poll_interval or self._client.poll_interval
        job = self.job
        while True:
            if on_progress is not None and state.is_news(job):
                on_progress(job)
            if job.done:
                return job
            state.check_deadline()
            time.sleep(interval)
            job = self.refresh()

    def download(self, path: str | Path) -> Path:
        """Wait for the job if it is still running, then save its video to `path`.

        JobFailedError when it ended in error or was cancelled.
        """
        job = self.job if self.job.done else self.wait()
        return self._client.download(job, path)

    def cancel(self) -> Job:
        self.job = self._client.cancel(self.id)
        return self.job
