"""Real `clipforge worker` processes for the fault tests, and a supervisor that SIGKILLs them.

The supervisor plays systemd's `Restart=always`: a worker that exits (killed, or stopped by
a lost database connection) is started again.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path


class Workers:
    """`count` worker processes sharing `env`; logs in `folder`."""

    def __init__(self, count: int, env: dict[str, str], folder: Path) -> None:
        self.env = {**os.environ, **env}
        self.folder = folder
        self.procs: list[subprocess.Popen[bytes]] = []
        self.starts = 0
        self.kills = 0
        for _ in range(count):
            self.procs.append(self._spawn())

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.starts += 1
        log = (self.folder / f"worker-{self.starts}.log").open("wb")
        command = [sys.executable, "-m", "clipforge", "worker", "--backend", "testpattern"]
        return subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def kill_one(self, busy_pids: set[int], rng: random.Random) -> int | None:
        """SIGKILL a worker that holds a running job (any worker if none does)."""
        alive = [p for p in self.procs if p.poll() is None]
        targets = [p for p in alive if p.pid in busy_pids] or alive
        if not targets:
            return None
        victim = rng.choice(targets)
        victim.send_signal(signal.SIGKILL)
        victim.wait(30)
        self.kills += 1
        return victim.pid

    def restart_dead(self) -> None:
        for index, proc in enumerate(self.procs):
            if proc.poll() is not None:
                self.procs[index] = self._spawn()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)


class Chaos(threading.Thread):
    """Every `every` seconds: kill a busy worker, then restart whatever is dead."""

    def __init__(
        self, workers: Workers, busy: Callable[[], set[int]], every: float, seed: int = 7
    ) -> None:
        super().__init__(daemon=True, name="chaos")
        self.workers, self.busy, self.every = workers, busy, every
        self.rng = random.Random(seed)
        self.stopped = threading.Event()
        self.killing = threading.Event()
        self.killing.set()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            if self.killing.is_set():
                try:
                    busy = self.busy()
                except Exception:
                    busy = set()  # the database is restarting: kill anyone
                self.workers.kill_one(busy, self.rng)
            self.workers.restart_dead()
        self.workers.restart_dead()


def pid_of(worker_id: str | None) -> int | None:
    """The pid in a local worker id (`host:pid:boot:index`)."""
    parts = (worker_id or "").split(":")
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else None
