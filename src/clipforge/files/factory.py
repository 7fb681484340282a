"""The storage the settings ask for: S3-compatible when `storage_url` is s3://, else local."""

from __future__ import annotations

from clipforge.files.base import Storage
from clipforge.files.local import LocalStorage
from clipforge.settings import Settings
from clipforge.signing import link_key


def build_storage(settings: Settings) -> Storage:
    if settings.storage_url:
        from clipforge.files.s3 import S3Storage  # boto3 only when asked for

        return S3Storage.from_url(
            settings.storage_url,
            ttl_seconds=settings.url_ttl_seconds,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    return LocalStorage(
        settings.videos_dir,
        secret=link_key(settings.resolved_signing_secret),
        public_base_url=settings.resolved_public_base_url,
        ttl_seconds=settings.url_ttl_seconds,
    )
