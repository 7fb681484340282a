"""A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, a free loopback port.

The cluster runs as the current user, or as `postgres` when the tests run as root (PostgreSQL
refuses to run as root). Tests that need it skip only when the server binaries are missing;
`.ci/run` installs Debian's `postgresql` so that CI runs them.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.ports import free_port

SERVER_USER = "postgres"


def server_bin() -> Path | None:
    """The folder of `pg_ctl` and `initdb` (Debian's versioned folder first), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if found:
        return Path(found[0]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


class PostgresCluster:
    """One cluster; `url(name)` creates a database on first use and returns its URL."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="clipforge-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        self._numbers = itertools.count()
        self._shared: str | None = None
        if self._as_root:
            shutil.chown(self.root, SERVER_USER)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        return subprocess.run(
            ["nice", "-n", "10", *command], check=check, capture_output=True, text=True
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "32MB",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        """Stop (fast: every connection is cut) and start again on the same port."""
        self.stop()
        self.start()

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self, prefix: str = "jobs") -> str:
        """A fresh, empty database; returns its URL."""
        import psycopg

        name = f"{prefix}_{next(self._numbers)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def new_schema(self) -> str:
        """A fresh, empty schema in one shared database (much cheaper than a database);
        the URL sets it as the search path, so everything the store creates lands there."""
        import psycopg

        if self._shared is None:
            self._shared = self.new_database("stores")
        name = f"store_{next(self._numbers)}"
        with psycopg.connect(self._shared, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return f"{self._shared}?options=-csearch_path%3D{name}"

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    """A new running cluster, removed afterwards (skips only without the server binaries)."""
    bin_dir = server_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql)")
    cluster = PostgresCluster(bin_dir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A running cluster for the whole session (of each xdist worker: one cluster each)."""
    with running_cluster() as cluster:
        yield cluster
