"""The operations tables on SQL (API keys, request rates, workers' presence, the queue's
shape), for both engines, and the engine primitives `SqlJobStore` is written on."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from clipforge.store import keys, sql, throttle, webhooks
from clipforge.store import presence as present
from clipforge.store.keys import NO_LIMITS, ApiKey, KeyLimits
from clipforge.store.operations import OperationsStore
from clipforge.store.presence import QueueShape, WorkerPresence
from clipforge.store.webhooks import StoredWebhookSecret


class Transaction(Protocol):
    """One open transaction of an engine."""

    def rows(self, statement: sql.Statement) -> list[Any]:
        """Run a statement; the rows it returned (none for a write without RETURNING)."""

    def lock(self, name: str) -> None:
        """Hold a lock on `name` until the transaction ends."""


class SqlOperations(OperationsStore):
    """`OperationsStore` on an engine's `_execute` and `_transaction`."""

    _clock: Callable[[], float]

    @abstractmethod
    def _execute(self, statement: sql.Statement) -> list[Any]:
        """Run one statement in its own transaction; the rows it returned."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction (committed when the block ends, rolled back on an error)."""

    # --- workers' presence and the queue's shape (readiness, metrics) ---------------------------

    def report_worker(self, presence: WorkerPresence) -> None:
        with self._transaction() as tx:
            tx.rows(present.upsert(presence))
            tx.rows(present.forget_before(presence.seen_at - present.FORGET_AFTER_SECONDS))

    def remove_worker(self, worker_id: str) -> None:
        self._execute(present.remove(worker_id))

    def workers_seen_since(self, since: float) -> list[WorkerPresence]:
        return [present.from_row(row) for row in self._execute(present.seen_since(since))]

    def queue_shape(self) -> list[QueueShape]:
        return [present.shape_from_row(row) for row in self._execute(present.queue_shape())]

    # --- keys and request limits ------------------------------------------------------------------

    def create_key(self, name: str, limits: KeyLimits = NO_LIMITS) -> tuple[ApiKey, str]:
        secret = keys.new_secret()
        key, statement = keys.insert(name, secret, self._clock(), limits)
        self._execute(statement)
        return key, secret

    def find_key(self, secret: str) -> ApiKey | None:
        rows = self._execute(keys.find_active(secret))
        return keys.from_row(rows[0]) if rows else None

    def ever_keyed(self) -> bool:
        return int(self._execute(keys.count_all())[0][0]) > 0

    def list_keys(self) -> list[ApiKey]:
        return [keys.from_row(row) for row in self._execute(keys.list_all())]

    def webhook_secret(self, key_id: str) -> StoredWebhookSecret | None:
        rows = self._execute(webhooks.find(key_id))
        return webhooks.from_row(rows[0]) if rows else None

    def put_webhook_secret(
        self, key_id: str, secret: str, previous: str | None, previous_until: float | None
    ) -> None:
        self._execute(webhooks.put(key_id, secret, previous, previous_until, self._clock()))

    def take_request(self, key_id: str, per_minute: int) -> float | None:
        now = self._clock()
        with self._transaction() as tx:
            if tx.rows(throttle.take(key_id, now, per_minute)):
                return None
            tat = float(tx.rows(throttle.current(key_id))[0][0])
        return throttle.wait_after_refusal(tat, now, per_minute)
