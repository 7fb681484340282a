"""Scratch folders per process: a killed process's leftovers go when a worker starts."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from clipforge.worker.identity import process_name
from clipforge.worker.scratch import process_scratch, remove_orphaned_scratch, scratch_root


def test_a_dead_processs_scratch_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    mine = process_scratch(tmp_path)
    (mine / "job.1.mp4").write_bytes(b"in progress")
    host, _, boot = process_name(".").rsplit(".", 2)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead = scratch_root(tmp_path) / f"{host}.{gone.stdout.strip()}.{boot}"
    dead.mkdir()
    (dead / ".job.2.mp4.1a2b.part").write_bytes(b"half a clip")
    elsewhere = scratch_root(tmp_path) / "another-host.1.cafe"  # not ours to judge
    elsewhere.mkdir()
    old_loose, new_loose = scratch_root(tmp_path) / "old.mp4", scratch_root(tmp_path) / "new.mp4"
    old_loose.write_bytes(b"x")
    new_loose.write_bytes(b"y")
    an_hour_ago = time.time() - 3700
    import os

    os.utime(old_loose, (an_hour_ago, an_hour_ago))

    assert remove_orphaned_scratch(tmp_path) == 2
    assert (mine / "job.1.mp4").exists() and elsewhere.exists() and new_loose.exists()
    assert not dead.exists() and not old_loose.exists()
    assert remove_orphaned_scratch(tmp_path) == 0
