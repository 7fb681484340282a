"""Settings of where videos are stored (a local folder or S3-compatible storage) and the
storage quota (docs/DEPLOY.md; the database is `ServerFields.database_url`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StorageFields(BaseModel):
    """The storage fields of `Settings` (CLIPFORGE_<NAME>)."""

    storage_url: str | None = Field(
        None,
        description="Where videos go: s3://BUCKET or s3://BUCKET/PREFIX for S3-compatible "
        "storage (credentials from the usual AWS_* variables); unset: <data_dir>/videos.",
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3 endpoint for MinIO, R2, Ceph...; unset: AWS."
    )
    s3_region: str | None = Field(None, description="S3 region (unset: boto3's default).")
    storage_quota_bytes: int | None = Field(
        None,
        gt=0,
        description="Bytes the stored files (the videos folder, or the bucket prefix) may "
        "hold: new jobs are refused with a 507 once they hold this much; unset: no quota.",
    )
    storage_usage_refresh_seconds: float = Field(
        30.0,
        gt=0,
        description="How often the quota's count of stored bytes is refreshed (a walk of the "
        "folder or a listing of the prefix, never one per request).",
    )
