"""Fair share between keys: one key's backlog does not make another key's first job wait
behind all of it; priority and service tier still come first (run against every engine)."""

from __future__ import annotations

from clipforge.schemas import JobResult
from clipforge.store import JobStore
from clipforge.store.base import JobExtras
from tests.store.support import FakeClock, request

BACKLOG = 120


def _submit(
    store: JobStore, clock: FakeClock, owner: str, count: int, priority: int = 0, tier: str = ""
) -> list[str]:
    ids = []
    for n in range(count):
        extras = JobExtras(owner=owner, priority=priority, tier=tier or "default")
        ids.append(store.create(request(f"{owner} {n}"), extras).id)
        clock.advance(0.01)
    return ids


def _claim_all(store: JobStore) -> list[str]:
    taken = []
    while (claim := store.claim("w", 30)) is not None:
        taken.append(claim.job.id)
    return taken


def _run_one(store: JobStore, clock: FakeClock) -> str | None:
    """One worker: claim the next job, and finish it a second later."""
    claim = store.claim("w", 30)
    if claim is None:
        return None
    clock.advance(1)
    assert store.complete(claim, JobResult(f"{claim.job.id}.mp4", "testpattern"))
    return claim.job.id


def test_one_worker_runs_the_second_keys_job_right_after_the_running_one(
    store: JobStore, clock: FakeClock
) -> None:
    backlog = _submit(store, clock, "key-a", BACKLOG)
    assert _run_one(store, clock) == backlog[0]
    running = store.claim("w", 30)
    assert running is not None and running.job.id == backlog[1]
    (second,) = _submit(store, clock, "key-b", 1)
    clock.advance(1)
    assert store.complete(running, JobResult("a.mp4", "testpattern"))

    assert store.queue_position(second) == 0
    assert _run_one(store, clock) == second
    ran = [job_id for job_id in iter(lambda: _run_one(store, clock), None)]
    assert ran == backlog[2:]


def test_one_worker_alternates_between_two_backlogs(store: JobStore, clock: FakeClock) -> None:
    a = _submit(store, clock, "key-a", 3)
    b = _submit(store, clock, "key-b", 3)
    ran = [job_id for job_id in iter(lambda: _run_one(store, clock), None)]
    assert ran == [a[0], b[0], a[1], b[1], a[2], b[2]]


def test_a_second_keys_first_job_does_not_wait_behind_a_backlog(
    store: JobStore, clock: FakeClock
) -> None:
    backlog = _submit(store, clock, "key-a", BACKLOG)
    (second,) = _submit(store, clock, "key-b", 1)

    assert store.queue_position(second) is not None
    assert store.queue_position(second) <= 1  # type: ignore[operator]
    taken = _claim_all(store)

    assert second in taken[:2]
    assert [job_id for job_id in taken if job_id != second] == backlog  # FIFO within a key


def test_a_key_with_a_running_job_yields_to_a_key_with_none(
    store: JobStore, clock: FakeClock
) -> None:
    first, *rest = _submit(store, clock, "key-a", 5)
    running = store.claim("w1", 30)
    assert running is not None and running.job.id == first
    (second,) = _submit(store, clock, "key-b", 1)

    assert store.queue_position(second) == 0
    assert _claim_all(store) == [second, *rest]


def test_keys_take_turns(store: JobStore, clock: FakeClock) -> None:
    a = _submit(store, clock, "key-a", 3)
    b = _submit(store, clock, "key-b", 3)
    assert _claim_all(store) == [a[0], b[0], a[1], b[1], a[2], b[2]]


def test_priority_and_tier_still_come_before_the_turn(store: JobStore, clock: FakeClock) -> None:
    urgent = _submit(store, clock, "key-a", 3, priority=5)
    flex = _submit(store, clock, "key-b", 1, tier="flex")
    plain = _submit(store, clock, "key-b", 2)
    positions = {job_id: store.queue_position(job_id) for job_id in urgent + plain + flex}

    expected = urgent + plain + flex
    assert sorted(positions, key=lambda job_id: positions[job_id]) == expected
    assert _claim_all(store) == expected


def test_jobs_without_a_key_share_as_one_tenant(store: JobStore, clock: FakeClock) -> None:
    anonymous = []
    for n in range(3):
        anonymous.append(store.create(request(f"open {n}")).id)
        clock.advance(1)
    (keyed,) = _submit(store, clock, "key-b", 1)
    assert _claim_all(store)[:2] == [anonymous[0], keyed]


def test_a_warm_workers_preference_still_comes_before_the_turn(
    store: JobStore, clock: FakeClock
) -> None:
    warm, other = "bytedance/seedance-1-0-lite-t2v", "bytedance/seedance-1-0-pro-t2v"
    mine = []
    for _ in range(2):
        mine.append(store.create(request(model=warm), JobExtras(owner="key-a")).id)
        clock.advance(1)
    theirs = store.create(request(model=other), JobExtras(owner="key-b")).id
    claims = [store.claim("w", 30, prefer=[warm]) for _ in range(3)]
    assert [c.job.id if c else None for c in claims] == [*mine, theirs]
