"""What a store keeps besides jobs: API keys and request rates (the front door), workers'
presence and the queue's shape (readiness and metrics). `JobStore` includes it."""

from __future__ import annotations

from abc import ABC, abstractmethod

from clipforge.store.keys import NO_LIMITS, ApiKey, KeyLimits
from clipforge.store.presence import QueueShape, WorkerPresence
from clipforge.store.webhooks import StoredWebhookSecret


class OperationsStore(ABC):
    """Keys, request rates, workers' presence and the queue's shape. Synchronous and
    thread-safe, like `JobStore`."""

    @abstractmethod
    def report_worker(self, presence: WorkerPresence) -> None:
        """Record a worker's presence: every heartbeat, busy or idle (`store/presence.py`)."""

    @abstractmethod
    def remove_worker(self, worker_id: str) -> None:
        """A worker stopped: forget its presence."""

    @abstractmethod
    def workers_seen_since(self, since: float) -> list[WorkerPresence]:
        """The workers that reported themselves at `since` or later (the live ones)."""

    @abstractmethod
    def queue_shape(self) -> list[QueueShape]:
        """Per model with queued jobs: how many, and when the oldest was created."""

    @abstractmethod
    def create_key(self, name: str, limits: KeyLimits = NO_LIMITS) -> tuple[ApiKey, str]:
        """A new API key: its record and the key itself (shown once, stored only hashed)."""

    @abstractmethod
    def find_key(self, secret: str) -> ApiKey | None:
        """The active (not revoked) key whose secret this is, or None."""

    @abstractmethod
    def ever_keyed(self) -> bool:
        """True once any key was created, revoked ones included: such a server stays keyed."""

    @abstractmethod
    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones too, oldest first (never their secrets)."""

    @abstractmethod
    def revoke_key(self, key_id: str) -> bool:
        """Revoke a key by id; False if unknown or already revoked. Its queued jobs are
        cancelled with it (running ones finish)."""

    @abstractmethod
    def webhook_secret(self, key_id: str) -> StoredWebhookSecret | None:
        """The webhook secrets stored for `key_id`, or None (it uses a derived one)."""

    @abstractmethod
    def put_webhook_secret(
        self, key_id: str, secret: str, previous: str | None, previous_until: float | None
    ) -> None:
        """Store `key_id`'s webhook secret, and the one still valid until `previous_until`."""

    @abstractmethod
    def take_request(self, key_id: str, per_minute: int) -> float | None:
        """Count one request of `key_id` against `per_minute`; None when allowed, else the
        seconds until the next request would be (nothing is counted then). Counted in the
        database, so every API process sharing it enforces one limit."""
