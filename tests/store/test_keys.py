"""API keys in the store, on both engines: revoking a key cancels its queued jobs, and each
key's webhook secrets are kept (and replaced) as `clipforge/signing.py` asks."""

from __future__ import annotations

from clipforge.schemas import Job, JobResult, JobStatus
from clipforge.store import JobStore
from clipforge.store.base import JobExtras
from clipforge.store.webhooks import StoredWebhookSecret
from tests.store.support import FakeClock, request

LEASE = 30.0
RESULT = JobResult("job.mp4", "testpattern", {})


def test_revoking_a_key_cancels_its_queued_jobs_and_lets_running_ones_finish(
    store: JobStore, clock: FakeClock
) -> None:
    ended: list[Job] = []
    store.on_finished = ended.append
    key, _ = store.create_key("tenant")
    other, _ = store.create_key("other")
    running = store.create(request("running"), JobExtras(owner=key.id))
    clock.advance(1)
    queued = [store.create(request(f"queued {n}"), JobExtras(owner=key.id)) for n in range(3)]
    kept = store.create(request("another key's"), JobExtras(owner=other.id))
    claim = store.claim("w1", LEASE)
    assert claim is not None and claim.job.id == running.id

    assert store.revoke_key(key.id)
    for job in queued:
        after = store.get(job.id)
        assert after is not None and after.status is JobStatus.CANCELLED
    assert sorted(job.id for job in ended) == sorted(job.id for job in queued)
    after_kept = store.get(kept.id)
    assert after_kept is not None and after_kept.status is JobStatus.QUEUED
    claimed = store.claim("w2", LEASE)
    assert claimed is not None and claimed.job.id == kept.id  # none of the revoked key's
    assert store.claim("w3", LEASE) is None
    assert store.complete(claim, RESULT)  # the running one finishes
    done = store.get(running.id)
    assert done is not None and done.status is JobStatus.COMPLETED
    assert not store.revoke_key(key.id)  # already revoked: nothing more happens


def test_webhook_secrets_are_stored_per_key_and_replaced(store: JobStore) -> None:
    assert store.webhook_secret("k1") is None
    store.put_webhook_secret("k1", "whsec_AAAA", None, None)
    store.put_webhook_secret("env-abc", "whsec_BBBB", None, None)
    assert store.webhook_secret("k1") == StoredWebhookSecret("k1", "whsec_AAAA", None, None)
    store.put_webhook_secret("k1", "whsec_CCCC", "whsec_AAAA", 1234.5)
    assert store.webhook_secret("k1") == StoredWebhookSecret(
        "k1", "whsec_CCCC", "whsec_AAAA", 1234.5
    )
    stored = store.webhook_secret("env-abc")
    assert stored is not None and stored.secret == "whsec_BBBB"
