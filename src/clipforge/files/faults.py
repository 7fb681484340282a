"""Which errors are the infrastructure's, not the job's: storage and scratch space that cannot
be written or reached. Sorted once, here, and raised as `StorageUnavailable` at the storage
seam (every `Storage` method) and by the worker for its scratch files.

A fault is told by its kind (an errno, an S3 error code, a botocore error class), never by
its text, and its message names only the kind: the text of an OSError carries the server's
paths, and that of a botocore error the endpoint. `scrub_paths` removes paths from any text
that does reach a client (job messages, `/readyz`).
"""

from __future__ import annotations

import errno
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clipforge.errors import StorageUnavailable

INFRASTRUCTURE_ERRNOS: dict[int, str] = {
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EIO: "input/output error",
}
"""OSError errnos that say the storage, not the job, is at fault."""

_BOTO_MODULES = ("botocore.exceptions", "boto3.exceptions", "s3transfer.exceptions")
_NOT_FOUND = ("404", "NoSuchKey", "NotFound")
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.~>-])/(?:[^\s/'\"]+/)*[^\s/'\",;)]*")


def as_storage_fault(exc: BaseException) -> StorageUnavailable | None:
    """`exc` as a StorageUnavailable when it is an infrastructure error, else None."""
    if isinstance(exc, StorageUnavailable):
        return exc
    if isinstance(exc, OSError) and exc.errno in INFRASTRUCTURE_ERRNOS:
        return StorageUnavailable(INFRASTRUCTURE_ERRNOS[exc.errno])
    if type(exc).__module__ in _BOTO_MODULES or _is_boto_error(exc):
        return StorageUnavailable(f"object storage: {_boto_reason(exc)}")
    return None


@contextmanager
def storage_faults() -> Iterator[None]:
    """Raise an infrastructure error of the block as StorageUnavailable (chained to it, for
    the log); anything else, FileNotFoundError included, goes through unchanged."""
    try:
        yield
    except Exception as exc:
        fault = as_storage_fault(exc)
        if fault is None or fault is exc:
            raise
        raise fault from exc


def scrub_paths(text: str, *roots: Path) -> str:
    """`text` without server paths: each of `roots` (the data folder) as `<data_dir>`,
    any other absolute path as `<path>`; URLs are left alone."""
    for root in roots:
        for spelling in {str(root), str(root.resolve())}:
            if len(spelling) > 1:
                text = text.replace(spelling, "<data_dir>")
    return _ABSOLUTE_PATH.sub("<path>", text)


def _is_boto_error(exc: BaseException) -> bool:
    for name in _BOTO_MODULES:
        module = sys.modules.get(name)
        bases = tuple(
            getattr(module, base)
            for base in ("BotoCoreError", "ClientError", "Boto3Error")
            if module is not None and hasattr(module, base)
        )
        if bases and isinstance(exc, bases):
            return True
    return False


def _boto_reason(exc: BaseException) -> str:
    """The S3 error code, or botocore's error class (their texts carry the endpoint)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return f"error {code}"
    return type(exc).__name__


def is_not_found(exc: BaseException) -> bool:
    """An S3 ClientError that says the object is not there (not a fault)."""
    response = getattr(exc, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") in _NOT_FOUND
