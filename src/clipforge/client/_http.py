"""A small synchronous HTTP client for a ClipForge server (the CLI's transport)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from clipforge.errors import ClipForgeError

CREATE_PATH = "/v2/video/generations"


class ServerError(ClipForgeError):
    """The server answered with an error body, or could not be reached."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ClipForgeHTTP:
    """create / job / download against one server."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 30.0):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", CREATE_PATH, json=body)

    def job(self, job_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/jobs/{job_id}")

    def download(self, url: str, path: Path) -> int:
        """Stream the video at `url` into `path`; returns the byte count."""
        written = 0
        partial = path.with_name(path.name + ".part")
        with self._http.stream("GET", url) as response:
            _raise_for_error(response)
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    written += out.write(chunk)
        partial.replace(path)
        return written

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServerError(f"cannot reach {self._http.base_url}: {exc}") from exc
        _raise_for_error(response)
        data: dict[str, Any] = response.json()
        return data


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    response.read()
    try:
        message = response.json().get("message", response.text)
    except ValueError:
        message = response.text
    raise ServerError(f"HTTP {response.status_code}: {message}", response.status_code)
