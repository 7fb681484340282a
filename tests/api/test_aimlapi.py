"""The AI/ML API surface over real HTTP: defaults, enums, nulls, errors, auth, headers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from clipforge.schemas import (
    FRAME_SIZES,
    SEED_MAX,
    AspectRatio,
    Resolution,
    frame_count,
    usage_tokens,
)
from clipforge.seedance_models import HD
from tests.live import live_server

LEGACY = "/v2/generate/video/bytedance/generation"
UNIVERSAL = "/v2/video/generations"
MODEL = "bytedance/seedance-1-0-pro-t2v"


def create(http: httpx.Client, path: str = LEGACY, **fields: Any) -> httpx.Response:
    return http.post(path, json={"model": MODEL, "prompt": "a red ball", **fields})


def stored_request(http: httpx.Client, job_id: str) -> dict[str, Any]:
    response = http.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 200
    request: dict[str, Any] = response.json()["request"]
    return request


def assert_error_body(response: httpx.Response, status: int, *needles: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "path", "requestId", "statusCode", "timestamp"}
    assert body["statusCode"] == status
    assert body["path"] == response.request.url.path
    assert body["requestId"] == response.headers["x-inference-id"]
    datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    for needle in needles:
        assert needle in body["message"], body["message"]


@pytest.mark.parametrize("path, status", [(LEGACY, 201), (UNIVERSAL, 200)])
def test_create_applies_the_documented_defaults(http: httpx.Client, path: str, status: int) -> None:
    response = create(http, path)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "queued"
    assert body["meta"] == {"usage": {"credits_used": 246840}}
    request = stored_request(http, body["id"])
    assert request["resolution"] == "1080p"
    assert request["aspect_ratio"] == "16:9"
    assert request["duration"] == 5
    assert request["watermark"] is False
    assert request["camera_fixed"] is False
    assert 0 <= request["seed"] <= SEED_MAX


def test_unset_seeds_are_random_and_given_seeds_are_kept(http: httpx.Client) -> None:
    seeds = {stored_request(http, create(http).json()["id"])["seed"] for _ in range(5)}
    assert len(seeds) == 5
    assert stored_request(http, create(http, seed=42).json()["id"])["seed"] == 42
    assert stored_request(http, create(http, seed=-1).json()["id"])["seed"] >= 0


@pytest.mark.parametrize("resolution", HD)  # the 1.0 ids; 4k is 2.0 only
@pytest.mark.parametrize("ratio", list(AspectRatio))
@pytest.mark.parametrize("duration", [5, 10])
def test_every_enum_value_is_accepted_and_priced(
    http: httpx.Client, resolution: Resolution, ratio: AspectRatio, duration: int
) -> None:
    response = create(
        http, resolution=resolution.value, aspect_ratio=ratio.value, duration=duration
    )
    assert response.status_code == 201, response.text
    width, height = FRAME_SIZES[resolution][ratio]
    expected = usage_tokens(width, height, frame_count(duration))
    assert response.json()["meta"]["usage"]["credits_used"] == expected
    request = stored_request(http, response.json()["id"])
    assert (request["resolution"], request["aspect_ratio"], request["duration"]) == (
        resolution.value,
        ratio.value,
        duration,
    )


def test_json_null_means_absent(http: httpx.Client) -> None:
    nulls = dict.fromkeys(
        [
            "resolution",
            "aspect_ratio",
            "duration",
            "watermark",
            "seed",
            "camerafixed",
            "camera_fixed",
            "image_url",
            "last_image_url",
        ]
    )
    response = create(http, **nulls)
    assert response.status_code == 201, response.text
    request = stored_request(http, response.json()["id"])
    assert (request["resolution"], request["aspect_ratio"], request["duration"]) == (
        "1080p",
        "16:9",
        5,
    )


@pytest.mark.parametrize("spelling", ["camerafixed", "camera_fixed"])
def test_both_camerafixed_spellings(http: httpx.Client, spelling: str) -> None:
    job_id = create(http, **{spelling: True}).json()["id"]
    assert stored_request(http, job_id)["camera_fixed"] is True


def test_watermark_and_unknown_fields(http: httpx.Client) -> None:
    response = create(http, watermark=True, generate_audio=False)
    assert response.status_code == 201
    assert stored_request(http, response.json()["id"])["watermark"] is True


BAD_FIELDS = [
    ({"resolution": "4k"}, "resolution", ["480p", "720p", "1080p"]),
    ({"resolution": 720}, "resolution", ["480p"]),
    ({"aspect_ratio": "2:1"}, "aspect_ratio", ["16:9", "9:21"]),
    ({"duration": 7}, "duration", ["5", "10"]),
    ({"duration": "5"}, "duration", ["5", "10"]),
    ({"watermark": "yes"}, "watermark", ["bool"]),
    ({"camerafixed": 1}, "camerafixed", ["bool"]),
    ({"camera_fixed": "true"}, "camera_fixed", ["bool"]),
    ({"seed": "abc"}, "seed", ["integer"]),
    ({"seed": SEED_MAX + 1}, "seed", ["less than or equal"]),
    ({"seed": -2}, "seed", ["greater than or equal"]),
    ({"prompt": ""}, "prompt", ["at least 1"]),
    ({"prompt": 12}, "prompt", ["string"]),
    ({"prompt": "x" * 4001}, "prompt", ["at most 4000"]),
    ({"model": "openai/sora-2"}, "model", ["bytedance/seedance-1-0-pro-t2v"]),
    # served (the built-in model takes images), so the first frame is what is missing
    ({"model": "bytedance/seedance-1-0-pro-i2v"}, "image_url", ["needs a first frame image"]),
    ({"image_url": "https://example.com/a.png"}, "image_url", ["no image input"]),
    # not part of this API: refused rather than accepted and never called
    ({"callback_url": "http://127.0.0.1:9/hook"}, "callback_url", ["unknown field"]),
]


@pytest.mark.parametrize("fields, field, allowed", BAD_FIELDS)
def test_bad_fields_get_400_naming_field_and_allowed_values(
    http: httpx.Client, fields: dict[str, Any], field: str, allowed: list[str]
) -> None:
    response = create(http, **fields)
    assert_error_body(response, 400, field, *allowed)


@pytest.mark.parametrize("missing", ["model", "prompt"])
def test_missing_required_field(http: httpx.Client, missing: str) -> None:
    body = {"model": MODEL, "prompt": "a red ball"}
    del body[missing]
    assert_error_body(http.post(LEGACY, json=body), 400, f"{missing}: field required")


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b'"text"', b""])
def test_body_that_is_not_a_json_object(http: httpx.Client, content: bytes) -> None:
    response = http.post(LEGACY, content=content, headers={"content-type": "application/json"})
    assert_error_body(response, 400)


@pytest.mark.parametrize("path", [LEGACY, UNIVERSAL])
def test_poll_unknown_and_missing_ids(http: httpx.Client, path: str) -> None:
    assert_error_body(http.get(path, params={"generation_id": "nope"}), 404, "nope")
    assert_error_body(http.get(path), 400, "generation_id")


@pytest.mark.parametrize("path", [LEGACY, UNIVERSAL])
def test_poll_shows_a_queued_job(http: httpx.Client, path: str) -> None:
    job_id = create(http, resolution="480p").json()["id"]
    body = http.get(path, params={"generation_id": job_id}).json()
    assert body == {
        "id": job_id,
        "status": "queued",
        "video": None,
        "error": None,
        "meta": {"usage": {"credits_used": 864 * 480 * 121 // 1024}},
    }


def test_request_id_headers(http: httpx.Client) -> None:
    response = http.post(
        LEGACY,
        json={"model": MODEL, "prompt": "x"},
        headers={"X-Client-Request-Id": "client-123"},
    )
    assert response.headers["x-client-request-id"] == "client-123"
    first = response.headers["x-inference-id"]
    assert first and first != create(http).headers["x-inference-id"]


def test_openapi_documents_both_surfaces(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths[LEGACY])
    assert {"post", "get"} <= set(paths[UNIVERSAL])


def test_unknown_route_uses_the_error_body(http: httpx.Client) -> None:
    assert_error_body(http.get("/v2/nothing-here"), 404)


def test_api_keys(tmp_path: Path) -> None:
    with live_server(tmp_path, backend="testpattern", workers=0, api_keys="k1,k2") as live:
        with live.client() as anonymous:
            assert_error_body(create(anonymous), 401, "API key")
            assert_error_body(anonymous.get(LEGACY, params={"generation_id": "x"}), 401)
            assert anonymous.get("/healthz").status_code == 200
        with live.client("wrong") as wrong:
            assert_error_body(create(wrong), 401, "invalid")
        with live.client("k2") as good:
            job_id = create(good).json()["id"]
            assert good.get(LEGACY, params={"generation_id": job_id}).status_code == 200
