"""Store fixtures: every test in tests/store runs once per engine (DESIGN.md habit 4).

An engine is added here and only here: a parameter of `engine` and a branch in `Engine`.
Tests get a `store` (fresh database, fake clock), or `make_store` for more than one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from clipforge.store import JobStore, SQLiteJobStore
from tests.postgres import PostgresCluster
from tests.store.support import FakeClock


@dataclass
class Engine:
    """How to make an empty database of one engine and open a store on it."""

    name: str
    folder: Path
    cluster: PostgresCluster | None = None
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def new_url(self) -> str:
        """The URL of a fresh, empty database (what `open_store` takes)."""
        if self.name == "sqlite":
            return f"sqlite:///{self.folder / f'jobs-{next(self._numbers)}.db'}"
        if self.name == "postgresql" and self.cluster is not None:
            return self.cluster.new_schema()
        raise AssertionError(f"unknown engine {self.name}")

    def open(self, url: str, *, clock: Callable[[], float], max_attempts: int) -> JobStore:
        if self.name == "sqlite":
            path = url.removeprefix("sqlite:///")
            return SQLiteJobStore(path, max_attempts=max_attempts, clock=clock)
        if self.name == "postgresql":
            from clipforge.store.postgres import PostgresJobStore

            return PostgresJobStore(url, max_attempts=max_attempts, clock=clock, pool_size=12)
        raise AssertionError(f"unknown engine {self.name}")


MakeStore = Callable[..., JobStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    if request.param == "postgresql":
        return Engine(request.param, tmp_path, request.getfixturevalue("postgres"))
    return Engine(request.param, tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_store(engine: Engine, clock: FakeClock) -> Iterator[MakeStore]:
    """`make_store(url=None, clock=<the clock fixture>, max_attempts=3)`: closed at teardown."""
    opened: list[JobStore] = []

    def make(
        url: str | None = None,
        *,
        clock: Callable[[], float] = clock,
        max_attempts: int = 3,
    ) -> JobStore:
        store = engine.open(url or engine.new_url(), clock=clock, max_attempts=max_attempts)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: MakeStore) -> JobStore:
    return make_store()
