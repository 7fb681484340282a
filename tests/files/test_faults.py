"""Storage faults are sorted by kind, not text, and their messages carry no server path:
OSErrors of a real folder made unwritable, and the classification table itself."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from clipforge.errors import StorageUnavailable
from clipforge.files.faults import as_storage_fault, scrub_paths, storage_faults
from clipforge.files.local import LocalStorage
from tests.files.immutable import require_chattr, unwritable

KEY = "7c9e6679-7425-40de-944b-e07fc1f90ae7.mp4"


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    folder = tmp_path / "videos"
    return LocalStorage(folder, secret=b"k", public_base_url="http://x", ttl_seconds=60)


@pytest.mark.parametrize(
    "code, reason",
    [
        (errno.EROFS, "read-only file system"),
        (errno.ENOSPC, "no space left on the device"),
        (errno.EACCES, "permission denied"),
        (errno.EPERM, "operation not permitted"),
        (errno.EDQUOT, "disk quota exceeded"),
        (errno.EIO, "input/output error"),
    ],
)
def test_infrastructure_errnos_are_storage_faults_without_the_path(code: int, reason: str) -> None:
    error = OSError(code, os.strerror(code), "/srv/clipforge/videos/x.mp4")
    fault = as_storage_fault(error)
    assert isinstance(fault, StorageUnavailable)
    assert fault.reason == reason
    assert "/srv" not in str(fault) and str(fault) == f"storage unavailable: {reason}"


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(errno.ENOENT, "No such file", "/srv/x"),
        OSError(errno.EINVAL, "Invalid argument"),
        ValueError("bad frame"),
        RuntimeError("CUDA out of memory"),
    ],
)
def test_other_errors_are_not_storage_faults(error: Exception) -> None:
    assert as_storage_fault(error) is None
    with pytest.raises(type(error)), storage_faults():
        raise error


def test_an_unwritable_folder_is_a_storage_fault(storage: LocalStorage, tmp_path: Path) -> None:
    require_chattr(tmp_path)
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"video")
    with unwritable(storage.root):
        with pytest.raises(StorageUnavailable) as put:
            storage.put(KEY, source)
        with pytest.raises(StorageUnavailable) as put_bytes:
            storage.put_bytes(KEY, b"video")
        with pytest.raises(FileNotFoundError):  # a missing file is still a missing file
            storage.get_bytes(KEY)
    for raised in (put, put_bytes):
        assert str(raised.value) == "storage unavailable: operation not permitted"
        assert isinstance(raised.value.__cause__, PermissionError)  # the log keeps the detail
    assert source.exists() and os.listdir(storage.root) == []  # nothing half-written
    storage.put(KEY, source)
    assert storage.get_bytes(KEY) == b"video" and storage.used_bytes() == 5


def test_scrub_paths_keeps_urls_and_drops_paths(tmp_path: Path) -> None:
    text = (
        f"[Errno 13] Permission denied: '{tmp_path}/videos/a.png'; see /etc/passwd, "
        "or http://example.com/v1/jobs and s3://bucket/prefix/key"
    )
    scrubbed = scrub_paths(text, tmp_path)
    assert str(tmp_path) not in scrubbed and "/etc/passwd" not in scrubbed
    assert "'<data_dir>/videos/a.png'" in scrubbed and "see <path>," in scrubbed
    assert "http://example.com/v1/jobs" in scrubbed and "s3://bucket/prefix/key" in scrubbed
