"""The storage contract: a job's files (its video, its first and last frames) go in under keys
derived from the job id, never from anything a client typed. Every method raises
`StorageUnavailable` for a fault of the storage itself (`files/faults.py`)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path

from clipforge.errors import LinkRefused

_KEY = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}(\.(first|last|ref[1-9]|poster|sprites|lastframe))?\.(mp4|png|webp|jpg)$"
)
MEDIA_TYPES = {"mp4": "video/mp4", "png": "image/png", "webp": "image/webp", "jpg": "image/jpeg"}
STILL_SUFFIXES = {"poster": "webp", "sprites": "jpg", "lastframe": "png"}
"""A finished job's stills (`video.stills`) and their file types."""


def video_key(job_id: str) -> str:
    """The storage key of a job's video. Never built from anything a client typed."""
    return check_key(f"{job_id}.mp4")


MAX_REFERENCES = 9
REFERENCES = tuple(f"ref{n}" for n in range(1, MAX_REFERENCES + 1))
"""The `which` of a job's reference images (`frame_key(job_id, "ref1")`...), in order."""


def frame_key(job_id: str, which: str) -> str:
    """The storage key of a job's fitted first or last frame, or of a reference image
    (`which`: first, last, ref1..ref9)."""
    return check_key(f"{job_id}.{which}.png")


def still_key(job_id: str, kind: str) -> str:
    """The storage key of a finished job's still (`kind`: poster, sprites, lastframe)."""
    return check_key(f"{job_id}.{kind}.{STILL_SUFFIXES[kind]}")


def job_keys(job_id: str) -> list[str]:
    """Every key a job can have files under (to delete them with the job)."""
    frames = [frame_key(job_id, which) for which in ("first", "last", *REFERENCES)]
    return [video_key(job_id), *frames, *(still_key(job_id, kind) for kind in STILL_SUFFIXES)]


def media_type(key: str) -> str:
    return MEDIA_TYPES[check_key(key).rsplit(".", 1)[1]]


def check_key(key: str) -> str:
    """Refuse anything that is not a plain key (no separators, no dots beyond the suffix)."""
    if not _KEY.fullmatch(key):
        raise LinkRefused("invalid file key")
    return key


class Storage(ABC):
    """Where videos live and how a client gets a time-limited link to one."""

    @abstractmethod
    def put(self, key: str, source: Path) -> None:
        """Move a finished file into storage under `key` (the source is consumed)."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Store `data` under `key` (small files: a job's first and last frames)."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The bytes stored under `key` (FileNotFoundError when there are none)."""

    @abstractmethod
    def url(self, key: str) -> str:
        """An absolute, signed, expiring URL for `key`."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key` if present."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """True if `key` is stored."""

    def used_bytes(self) -> int | None:
        """Bytes stored now (a walk of the folder or a listing of the bucket prefix: call
        it now and then, never per request); None where the storage cannot tell."""
        return None
