"""Folders made unwritable for real: as root `chmod` stops nothing, `chattr +i` does (on
filesystems that have the flag)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest


def chattr(flag: str, folders: Sequence[Path]) -> None:
    subprocess.run(["chattr", flag, *map(str, folders)], check=True, capture_output=True)


def require_chattr(folder: Path) -> None:
    """Skip the test where `chattr +i` cannot make `folder` unwritable."""
    if shutil.which("chattr") is None:
        pytest.skip("no chattr here")
    probe = folder / "chattr-probe"
    probe.mkdir(parents=True, exist_ok=True)
    try:
        chattr("+i", [probe])
    except subprocess.CalledProcessError:
        pytest.skip("chattr +i is not allowed here (not root, or no such flag)")
    try:
        (probe / "x").write_bytes(b"x")
    except OSError:
        return
    finally:
        chattr("-i", [probe])
        shutil.rmtree(probe)
    pytest.skip("chattr +i does not stop writes here")


@contextmanager
def unwritable(*folders: Path) -> Iterator[None]:
    """The folders (not their subfolders) refuse new files until the block ends."""
    chattr("+i", folders)
    try:
        yield
    finally:
        chattr("-i", folders)
