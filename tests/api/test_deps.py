"""Services.call: store work on PostgreSQL runs on as many threads as the store's pool has
connections (a network round trip each), not one at a time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from clipforge.api.deps import Services
from clipforge.files.factory import build_storage
from clipforge.routing import ModelRouting
from clipforge.settings import Settings
from clipforge.store.postgres import PostgresJobStore
from tests.postgres import PostgresCluster, postgres

__all__ = ["postgres"]  # the cluster fixture


def test_store_calls_on_postgresql_overlap_up_to_the_pool_size(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    store = PostgresJobStore(postgres.new_schema(), pool_size=4)
    settings = Settings(data_dir=tmp_path)
    services = Services(settings, store, build_storage(settings), ModelRouting(settings))

    def slow_count() -> int:
        time.sleep(0.3)  # a slow query's wait, on a connection of its own
        return store.count_jobs()

    async def four() -> float:
        started = time.monotonic()
        assert await asyncio.gather(*(services.call(slow_count) for _ in range(4))) == [0] * 4
        return time.monotonic() - started

    try:
        assert store.concurrency == 4
        assert asyncio.run(four()) < 0.9  # one thread: 1.2 s
    finally:
        services.executor.shutdown()
        store.close()
