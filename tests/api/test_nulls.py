"""JSON null means absent, for every optional field of every surface's create body (the
BytePlus and Volcengine SDKs send every unset argument as null): one test walks them all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from clipforge.api.surfaces.aimlapi import CreateVideoBody
from clipforge.api.surfaces.ark.models import CreateTaskBody
from clipforge.api.surfaces.openai.models import VideoCreateBody
from tests.live import LiveServer, live_server

SURFACES: dict[str, tuple[str, type[BaseModel], dict[str, Any]]] = {
    "aiml": (
        "/v2/video/generations",
        CreateVideoBody,
        {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a ball"},
    ),
    "native": (
        "/v1/jobs",
        CreateVideoBody,
        {"model": "bytedance/seedance-1-0-lite-t2v", "prompt": "a"},
    ),
    "ark": (
        "/api/v3/contents/generations/tasks",
        CreateTaskBody,
        {"model": "seedance-1-0-lite-t2v-250428", "content": [{"type": "text", "text": "a"}]},
    ),
    "openai": ("/v1/videos", VideoCreateBody, {"prompt": "a ball"}),
}
CASES = [
    (surface, name)
    for surface, (_, body, required) in SURFACES.items()
    for name in body.model_fields
    if name not in required
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {"backend": "testpattern", "workers": 0, "callbacks": False, "max_queued_jobs": 0}
    with live_server(tmp_path_factory.mktemp("nulls"), **settings) as live:
        yield live


@pytest.mark.parametrize("surface, field", CASES)
def test_null_is_the_same_as_absent(server: LiveServer, surface: str, field: str) -> None:
    path, _, required = SURFACES[surface]
    with server.client() as http:
        with_null = http.post(path, json={**required, field: None, "seed": 3})
        without = http.post(path, json={**required, "seed": 3})
        assert with_null.status_code == without.status_code, with_null.text
        assert with_null.status_code // 100 == 2, with_null.text
        asked = [
            http.get(f"/v1/jobs/{r.json()['id']}").json()["request"] for r in (with_null, without)
        ]
    assert asked[0] == asked[1]


def test_every_optional_field_is_walked() -> None:
    assert len(CASES) >= 40 and ("ark", "generate_audio") in CASES and ("openai", "size") in CASES


def test_null_inside_an_ark_content_item_is_absent(server: LiveServer) -> None:
    """The Ark SDKs send an image item's unset `role` as null: the first frame, as without."""
    from tests.images import data_url, encoded, halves

    image = {"type": "image_url", "image_url": {"url": data_url(encoded(halves(640, 360)))}}
    text = {"type": "text", "text": "the flag waves"}
    path = "/api/v3/contents/generations/tasks"
    with server.client() as http:
        views = []
        for item in ({**image, "role": None}, image):
            body = {"model": "seedance-1-0-lite-i2v-250428", "content": [text, item], "seed": 3}
            created = http.post(path, json=body)
            assert created.status_code == 200, created.text
            views.append(http.get(f"/v1/jobs/{created.json()['id']}").json()["request"])
    assert views[0] == views[1] and views[0]["image_url"] is not None
