"""S3Storage against a real S3-protocol server on loopback (moto in server mode), over HTTP.

What this checks: objects go in under the job-derived key and prefix with their content
type, the source file is consumed, `exists` and `delete` work, a presigned URL fetched with
a plain HTTP client returns the video bytes, and the link's signature and expiry hold.

moto checks neither signatures nor expiry (it serves a forged or expired link), so those are
verified by recomputing the SigV4 signature with botocore (tests/files/s3_links.py). Nor does
moto model bucket policies, encryption or eventual consistency.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config

from clipforge.errors import StorageUnavailable
from clipforge.files.base import video_key
from clipforge.files.factory import build_storage
from clipforge.files.s3 import S3Storage
from clipforge.settings import Settings
from tests.files.s3_links import moto_endpoint, presigned_problem, signed_at

BUCKET = "clipforge-videos"
JOB_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_endpoint() as address:
        yield address


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def storage(endpoint: str) -> S3Storage:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    return S3Storage(BUCKET, prefix="videos/", ttl_seconds=60, endpoint_url=endpoint)


def _video(tmp_path: Path, data: bytes = b"\x00\x00\x00\x18ftypmp42 fake mp4") -> Path:
    path = tmp_path / "scratch.mp4"
    path.write_bytes(data)
    return path


def test_put_stores_under_the_prefix_and_consumes_the_source(
    storage: S3Storage, endpoint: str, tmp_path: Path
) -> None:
    source, key = _video(tmp_path), video_key(JOB_ID)
    storage.put(key, source)
    assert not source.exists()
    head = boto3.client("s3", endpoint_url=endpoint).head_object(Bucket=BUCKET, Key=f"videos/{key}")
    assert head["ContentType"] == "video/mp4"
    assert storage.exists(key)
    storage.delete(key)
    assert not storage.exists(key)


def test_a_presigned_url_serves_the_bytes_and_holds_its_signature_and_expiry(
    storage: S3Storage, endpoint: str, tmp_path: Path
) -> None:
    short = S3Storage(BUCKET, ttl_seconds=30, endpoint_url=endpoint)
    data = b"clipforge video bytes" * 100
    short.put(video_key(JOB_ID), _video(tmp_path, data))
    url = short.url(video_key(JOB_ID))
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(endpoint) and query["X-Amz-Expires"] == ["30"]
    answer = httpx.get(url)
    assert answer.status_code == 200 and answer.content == data
    assert presigned_problem(url) is None
    made = signed_at(url)
    assert presigned_problem(url, now=made + timedelta(seconds=29)) is None
    assert presigned_problem(url, now=made + timedelta(seconds=31)) == "expired"
    forged = url.replace(query["X-Amz-Signature"][0], "0" * 64)
    assert presigned_problem(forged) == "signature does not match"
    assert presigned_problem(url, secret="another secret") == "signature does not match"
    other_key = url.replace(JOB_ID, JOB_ID[:-1] + "0")  # the signature covers the object
    assert presigned_problem(other_key) == "signature does not match"


def test_settings_select_s3_by_url(endpoint: str, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, storage_url=f"s3://{BUCKET}/some/prefix", s3_endpoint_url=endpoint
    )
    storage = build_storage(settings)
    assert isinstance(storage, S3Storage)
    assert storage.bucket == BUCKET and storage.object_key("a.mp4") == "some/prefix/a.mp4"
    with pytest.raises(ValueError):
        S3Storage.from_url("gs://bucket", ttl_seconds=1)


def test_s3_errors_and_timeouts_are_storage_faults(endpoint: str, tmp_path: Path) -> None:
    """A bucket that is not there (an S3 error) and an endpoint that does not answer (a
    botocore connection error): StorageUnavailable naming the kind, never the endpoint; a
    missing object is still FileNotFoundError."""
    missing = S3Storage("no-such-bucket", ttl_seconds=60, endpoint_url=endpoint)
    with pytest.raises(StorageUnavailable) as raised:
        missing.put(video_key(JOB_ID), _video(tmp_path))
    assert str(raised.value) == "storage unavailable: object storage: S3UploadFailedError"
    with pytest.raises(StorageUnavailable) as raised:
        missing.put_bytes(video_key(JOB_ID), b"x")
    assert str(raised.value) == "storage unavailable: object storage: error NoSuchBucket"

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    quick = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})
    client = boto3.client("s3", endpoint_url=dead, region_name="us-east-1", config=quick)
    away = S3Storage(BUCKET, ttl_seconds=60, client=client)
    for call in (lambda: away.put_bytes(video_key(JOB_ID), b"x"), away.used_bytes):
        with pytest.raises(StorageUnavailable) as raised:
            call()
        assert "EndpointConnectionError" in str(raised.value) and dead not in str(raised.value)


def test_a_missing_object_is_not_a_fault_and_usage_counts_the_prefix(
    storage: S3Storage, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        storage.get_bytes(f"{JOB_ID[:-1]}0.mp4")
    before = storage.used_bytes()
    storage.put_bytes(f"{JOB_ID[:-1]}1.first.png", b"12345")
    assert storage.used_bytes() == before + 5
