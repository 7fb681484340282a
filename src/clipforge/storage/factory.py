"""The storage the settings ask for: S3-compatible when `storage_url` is s3://, else local."""

from __future__ import annotations

from clipforge.settings import Settings
from clipforge.storage.base import Storage
from clipforge.storage.local import LocalStorage


def build_storage(settings: Settings) -> Storage:
    if settings.storage_url:
        from clipforge.storage.s3 import S3Storage  # boto3 only when asked for

        return S3Storage.from_url(
            settings.storage_url,
            ttl_seconds=settings.url_ttl_seconds,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    return LocalStorage(
        settings.videos_dir,
        secret=settings.resolved_signing_secret,
        public_base_url=settings.resolved_public_base_url,
        ttl_seconds=settings.url_ttl_seconds,
    )
