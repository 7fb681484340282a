"""Reference images on the catalogue routing (issue 29): a Seedance 2.x request with
`image_urls` (AI/ML) or `reference_image` items (Ark) is accepted for Wan VACE, takes VACE's
defaults (no sound), and a prompt naming more @ImageN than were sent is a 400 naming the field.
No worker runs: nothing is loaded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.test_seedance_newer import SQUARE, TASKS, V2, refused, stored
from tests.live import live_server

TWO = "bytedance/seedance-2-0"


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data = tmp_path_factory.mktemp("references")
    settings = {"backend": "diffusers", "model": "catalogue", "workers": 0}
    with live_server(data, **settings) as live, live.client() as client:
        yield client


def _aiml(http: httpx.Client, prompt: str, **fields: Any) -> httpx.Response:
    return http.post(V2, json={"model": TWO, "prompt": prompt, **fields})


def _ark(http: httpx.Client, text: str, references: int) -> httpx.Response:
    image = {"type": "image_url", "image_url": {"url": SQUARE}, "role": "reference_image"}
    content = [{"type": "text", "text": text}, *[image] * references]
    return http.post(TASKS, json={"model": "dreamina-seedance-2-0-260128", "content": content})


def test_references_are_taken_for_vace_with_its_defaults(http: httpx.Client) -> None:
    model = http.get(f"/v1/models/{TWO}").json()
    assert (model["reference_weights"], model["reference_images"]) == ("wan2.1-vace-14b", 9)
    accepted = _aiml(http, "@Image1 waves at @Image2", image_urls=[SQUARE, SQUARE])
    assert accepted.status_code == 200, accepted.text
    request = stored(http, accepted.json()["id"])
    assert len(request["reference_images"]) == 2 and request["generate_audio"] is False
    refused(_aiml(http, "a", image_urls=[SQUARE], generate_audio=True), "generate_audio")
    refused(_aiml(http, "@Image1 meets @Image3", image_urls=[SQUARE, SQUARE]), "prompt", "@Image3")
    assert _ark(http, "@Image1 and @Image2 dance", 2).status_code == 200
    refused(_ark(http, "@Image2 dances", 1), "content", "@Image2")
