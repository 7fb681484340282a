"""The storage quota counts what a real folder holds, but at most once per refresh period:
creates between two counts cost no walk of the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipforge.errors import StorageQuotaExceeded
from clipforge.files.local import LocalStorage
from clipforge.files.quota import StorageQuota


class CountedStorage(LocalStorage):
    """A real folder that counts how often its usage is walked."""

    walks = 0

    def used_bytes(self) -> int:
        self.walks += 1
        return super().used_bytes()


def test_the_quota_refuses_once_reached_and_counts_only_now_and_then(tmp_path: Path) -> None:
    storage = CountedStorage(tmp_path, secret=b"k", public_base_url="http://x", ttl_seconds=60)
    now = [0.0]
    quota = StorageQuota(storage, 1000, refresh_seconds=30, clock=lambda: now[0])
    for _ in range(50):
        quota.check()
    assert storage.walks == 1
    storage.put_bytes("0f8fad5b-d9cb-479f-a165-70867c5a5ef1.mp4", b"x" * 1000)
    quota.check()  # the last count still says there is room
    now[0] = 31.0
    with pytest.raises(StorageQuotaExceeded) as refused:
        quota.check()
    assert (refused.value.status_code, refused.value.used, storage.walks) == (507, 1000, 2)
    assert "storage quota reached: 1000 of 1000 bytes" in str(refused.value)


def test_no_quota_never_counts(tmp_path: Path) -> None:
    storage = CountedStorage(tmp_path, secret=b"k", public_base_url="http://x", ttl_seconds=60)
    quota = StorageQuota(storage, None, refresh_seconds=30)
    quota.check()
    assert not quota.enabled and storage.walks == 0
