"""Signed links: valid, tampered, expired, and keys that could escape the folder."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from clipforge.errors import LinkRefused
from clipforge.files.base import check_key, video_key
from clipforge.files.local import LocalStorage


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(tmp_path: Path, clock: Clock) -> LocalStorage:
    return LocalStorage(
        tmp_path / "videos",
        secret=b"s" * 32,
        public_base_url="https://videos.example.com/",
        ttl_seconds=60,
        clock=clock,
    )


def _stored(storage: LocalStorage, tmp_path: Path, job_id: str = "job-1") -> str:
    source = tmp_path / "scratch.mp4"
    source.write_bytes(b"mp4 bytes")
    key = video_key(job_id)
    storage.put(key, source)
    assert not source.exists()
    return key


def _link_parts(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path.rsplit("/", 1)[1], int(query["expires"][0]), query["signature"][0]


def test_signed_link_is_absolute_and_opens(storage: LocalStorage, tmp_path: Path) -> None:
    key = _stored(storage, tmp_path)
    url = storage.url(key)
    assert url.startswith("https://videos.example.com/files/job-1.mp4?")
    assert storage.open_signed(*_link_parts(url)).read_bytes() == b"mp4 bytes"


def test_tampered_links_are_refused(storage: LocalStorage, tmp_path: Path) -> None:
    key = _stored(storage, tmp_path)
    _stored(storage, tmp_path, "job-2")
    name, expires, signature = _link_parts(storage.url(key))
    with pytest.raises(LinkRefused, match="signature"):
        storage.open_signed("job-2.mp4", expires, signature)
    with pytest.raises(LinkRefused, match="signature"):
        storage.open_signed(name, expires + 3600, signature)
    with pytest.raises(LinkRefused, match="signature"):
        storage.open_signed(name, expires, signature[:-1] + ("A" if signature[-1] != "A" else "B"))


def test_expired_links_are_refused(storage: LocalStorage, tmp_path: Path, clock: Clock) -> None:
    link = _link_parts(storage.url(_stored(storage, tmp_path)))
    clock.now += 61
    with pytest.raises(LinkRefused, match="expired"):
        storage.open_signed(*link)


def test_another_secret_cannot_sign(storage: LocalStorage, tmp_path: Path, clock: Clock) -> None:
    key = _stored(storage, tmp_path)
    other = LocalStorage(
        tmp_path / "videos",
        secret=b"t" * 32,
        public_base_url="http://x",
        ttl_seconds=60,
        clock=clock,
    )
    with pytest.raises(LinkRefused):
        storage.open_signed(*_link_parts(other.url(key)))


@pytest.mark.parametrize(
    "key",
    ["../secret", "..%2Fsecret.mp4", "a/b.mp4", ".mp4", "x.mp4/..", "job.txt", "", "a\x00.mp4"],
)
def test_keys_that_are_not_plain_names_are_refused(key: str) -> None:
    with pytest.raises(LinkRefused):
        check_key(key)


def test_delete_and_exists(storage: LocalStorage, tmp_path: Path) -> None:
    key = _stored(storage, tmp_path)
    assert storage.exists(key)
    storage.delete(key)
    assert not storage.exists(key)
    storage.delete(key)
