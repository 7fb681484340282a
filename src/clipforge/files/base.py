"""The storage contract: finished videos go in under a key derived from the job id."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import Path

from clipforge.errors import LinkRefused

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}\.mp4$")


def video_key(job_id: str) -> str:
    """The storage key of a job's video. Never built from anything a client typed."""
    key = f"{job_id}.mp4"
    check_key(key)
    return key


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
    def url(self, key: str) -> str:
        """An absolute, signed, expiring URL for `key`."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove `key` if present."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """True if `key` is stored."""
