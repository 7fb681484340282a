"""A near miss is answered with the close match from the allowed set, on every surface's 400;
a key sent without `Bearer` is told so (not "missing API key")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import LiveServer, live_server

T2V = "bytedance/seedance-1-0-pro-t2v"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data: Path = tmp_path_factory.mktemp("keyed")
    with live_server(data, backend="builtin", workers=0, callbacks=False, api_keys="k1") as live:
        yield live


def _message(response: httpx.Response) -> str:
    body = response.json()
    return str(body["error"]["message"] if "error" in body else body["message"])


@pytest.mark.parametrize(
    ("path", "body", "hint"),
    [
        ("/v2/video/generations", {"model": T2V, "prompt": "x", "durration": 5}, "'duration'"),
        ("/v1/jobs", {"model": T2V, "prompt": "x", "aspect_ration": "16:9"}, "'aspect_ratio'"),
        ("/v2/video/generations", {"model": T2V[:-1] + "x", "prompt": "x"}, repr(T2V)),
        ("/v2/video/generations", {"model": T2V, "prompt": "x", "resolution": "720"}, "'720p'"),
        ("/v1/videos", {"model": T2V, "prompt": "x", "secondz": "4"}, "'seconds'"),
        (
            "/api/v3/contents/generations/tasks",
            {"model": "seedance-1-0-pro-250528", "content": [{"type": "text", "txt": "x"}]},
            "'text'",
        ),
    ],
)
def test_a_near_miss_gets_did_you_mean(
    http: httpx.Client, path: str, body: dict[str, object], hint: str
) -> None:
    response = http.post(path, json=body)
    assert response.status_code == 400, response.text
    assert f"did you mean {hint}?" in _message(response), response.text


def test_nothing_close_suggests_nothing(http: httpx.Client) -> None:
    response = http.post("/v1/jobs", json={"model": T2V, "prompt": "x", "zzzzqqq": 1})
    assert response.status_code == 400 and "did you mean" not in _message(response)


def test_a_key_without_bearer_is_told_so(keyed: LiveServer) -> None:
    with httpx.Client(base_url=keyed.url) as http:
        bare = http.get("/v1/models", headers={"Authorization": "k1"})
        missing = http.get("/v1/models")
        good = http.get("/v1/models", headers={"Authorization": "Bearer k1"})
    assert bare.status_code == 401 and "no `Bearer `" in _message(bare), bare.text
    assert missing.status_code == 401 and "missing API key" in _message(missing)
    assert good.status_code == 200
