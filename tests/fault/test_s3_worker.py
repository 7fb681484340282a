"""The scale-out shape on object storage, end to end with real processes: `clipforge serve
--workers 0` and a `clipforge worker` on a throwaway PostgreSQL cluster, videos in an
`s3://` bucket on a moto server on loopback. A job goes in over HTTP, the worker renders it
into the bucket (nothing under the data folder), and the link the API hands out is a
presigned link to the object that verifies (signature, expiry) and serves a decodable MP4."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import boto3
import httpx
import pytest

from clipforge.files.base import video_key
from tests.fault.processes import Workers
from tests.files.s3_links import ACCESS_KEY, SECRET_KEY, moto_endpoint, presigned_problem
from tests.live import start_server_process, wait_for_job
from tests.postgres import PostgresCluster, postgres

__all__ = ["postgres"]  # the cluster fixture

pytestmark = pytest.mark.slow

BUCKET, PREFIX = "clipforge-videos", "renders"
TEXT = {"model": "bytedance/seedance-1-0-pro-t2v", "prompt": "a red ball", "resolution": "480p"}


@pytest.fixture
def endpoint() -> Iterator[str]:
    with moto_endpoint() as address:
        yield address


def test_the_api_and_a_clipforge_worker_serve_videos_from_s3(
    postgres: PostgresCluster, endpoint: str, tmp_path: Path
) -> None:
    aws = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    bucket = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **_keys(aws))
    bucket.create_bucket(Bucket=BUCKET)
    env = aws | {
        "CLIPFORGE_DATABASE_URL": postgres.new_database(),
        "CLIPFORGE_DATA_DIR": str(tmp_path),
        "CLIPFORGE_BACKEND": "testpattern",
        "CLIPFORGE_STORAGE_URL": f"s3://{BUCKET}/{PREFIX}",
        "CLIPFORGE_S3_ENDPOINT_URL": endpoint,
    }
    api = start_server_process(tmp_path, env, "--workers", "0", "--backend", "testpattern")
    workers = Workers(1, env, tmp_path)
    try:
        with httpx.Client(base_url=api.url, timeout=30) as http:
            answer = http.post("/v1/jobs", json=TEXT)
            assert answer.status_code in (200, 201), answer.text
            job_id = answer.json()["id"]
            job = wait_for_job(http, job_id, lambda j: j["status"] not in ("queued", "generating"))
        assert job["status"] == "completed", job
        log = (tmp_path / "worker-1.log").read_text()
        assert f"job {job_id}: attempt 1 on " in log, log  # the worker process ran it
        link = job["video_url"]
        assert link.startswith(f"{endpoint}/{BUCKET}/{PREFIX}/{video_key(job_id)}?"), link
        assert presigned_problem(link) is None
        video = httpx.get(link)
        assert video.status_code == 200
        with av.open(io.BytesIO(video.content)) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == (864, 480)
            assert sum(1 for _ in container.decode(stream)) == 121
        stored = bucket.head_object(Bucket=BUCKET, Key=f"{PREFIX}/{video_key(job_id)}")
        assert stored["ContentLength"] == len(video.content)
        assert not [p for p in (tmp_path / "videos").rglob("*.mp4")]  # only in the bucket
    finally:
        workers.stop()
        api.kill()


def _keys(aws: dict[str, str]) -> dict[str, str]:
    return {
        "aws_access_key_id": aws["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": aws["AWS_SECRET_ACCESS_KEY"],
    }
