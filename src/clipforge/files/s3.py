"""S3-compatible object storage (AWS, MinIO, R2, Ceph) through boto3; links are presigned.

A video's object key is the storage key (derived from the job id, `files/base.py`) under
an optional prefix. Clients fetch videos from the object store itself, through a presigned
GET URL that expires after `ttl_seconds`; the API serves no bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from clipforge.files.base import Storage, check_key, media_type
from clipforge.files.faults import is_not_found, storage_faults


class S3Storage(Storage):
    """Videos as objects `{prefix}{key}` in one bucket."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        ttl_seconds: int,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3Storage needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._ttl = ttl_seconds
        self._client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(signature_version="s3v4", retries={"mode": "standard"}),
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> S3Storage:
        """`s3://BUCKET` or `s3://BUCKET/PREFIX`."""
        if not url.startswith("s3://"):
            raise ValueError(f"expected s3://BUCKET[/PREFIX], got {url!r}")
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return cls(bucket, prefix=prefix, **options)

    def object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, source: Path) -> None:
        extra = {"ContentType": media_type(key)}
        with storage_faults():
            self._client.upload_file(
                str(source), self.bucket, self.object_key(key), ExtraArgs=extra
            )
        source.unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes) -> None:
        with storage_faults():
            self._client.put_object(
                Bucket=self.bucket, Key=self.object_key(key), Body=data, ContentType=media_type(key)
            )

    def get_bytes(self, key: str) -> bytes:
        with storage_faults():
            try:
                answer = self._client.get_object(Bucket=self.bucket, Key=self.object_key(key))
            except ClientError as exc:
                if is_not_found(exc):
                    raise FileNotFoundError(key) from exc
                raise
            data: bytes = answer["Body"].read()
        return data

    def url(self, key: str) -> str:
        params = {"Bucket": self.bucket, "Key": self.object_key(key)}
        url: str = self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=self._ttl
        )
        return url

    def delete(self, key: str) -> None:
        with storage_faults():
            self._client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def exists(self, key: str) -> bool:
        with storage_faults():
            try:
                self._client.head_object(Bucket=self.bucket, Key=self.object_key(key))
            except ClientError as exc:
                if is_not_found(exc):
                    return False
                raise
        return True

    def used_bytes(self) -> int:
        total = 0
        with storage_faults():
            pages = self._client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
                total += sum(item["Size"] for item in page.get("Contents", ()))
        return total
