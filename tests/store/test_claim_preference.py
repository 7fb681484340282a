"""A warm worker prefers jobs for the model it has loaded (run against every engine)."""

from __future__ import annotations

from clipforge.store import JobStore
from clipforge.store.rules import claim_searches
from tests.store.support import FakeClock, request

X = "bytedance/seedance-1-0-lite-t2v"
Y = "bytedance/seedance-1-0-pro-t2v"


def _queue(store: JobStore, clock: FakeClock, *models: str) -> list[str]:
    ids = []
    for model in models:
        ids.append(store.create(request(model=model)).id)
        clock.advance(1)
    return ids


def test_prefers_the_oldest_job_of_its_model_over_an_older_other_job(
    store: JobStore, clock: FakeClock
) -> None:
    old_y, x1, x2 = _queue(store, clock, Y, X, X)

    claims = [store.claim("w", 30, prefer=[X]) for _ in range(3)]

    assert [c.job.id if c else None for c in claims] == [x1, x2, old_y]


def test_takes_another_model_when_none_of_its_own_is_queued(
    store: JobStore, clock: FakeClock
) -> None:
    (y,) = _queue(store, clock, Y)
    claim = store.claim("w", 30, prefer=[X])
    assert claim is not None and claim.job.id == y
    assert store.claim("w", 30, prefer=[X]) is None


def test_without_a_preference_the_oldest_job_goes_first(store: JobStore, clock: FakeClock) -> None:
    y, _ = _queue(store, clock, Y, X)
    claim = store.claim("w", 30)
    assert claim is not None and claim.job.id == y


def test_preference_stays_within_the_models_a_worker_may_take(
    store: JobStore, clock: FakeClock
) -> None:
    _queue(store, clock, X)
    assert store.claim("w", 30, models=[Y], prefer=[X]) is None


def test_claim_searches() -> None:
    assert claim_searches(None, None) == [None]
    assert claim_searches(None, X) == [(X,), None]
    assert claim_searches([X, Y], [Y, "other"]) == [(Y,), (X, Y)]
    assert claim_searches([Y], [X]) == [(Y,)]
    assert claim_searches([], [X]) == []


def _ranked(store: JobStore, clock: FakeClock, ranks: list[tuple[str, int, str]]) -> dict[str, str]:
    from clipforge.store.base import JobExtras

    ids = {}
    for name, priority, tier in ranks:
        ids[name] = store.create(request(name), JobExtras(priority=priority, tier=tier)).id
        clock.advance(1)
    return ids


def test_priority_and_service_tier_order_the_queue(store: JobStore, clock: FakeClock) -> None:
    """Default before flex, then higher priority, then older; queue positions agree."""
    ids = _ranked(
        store,
        clock,
        [
            ("flex", 9, "flex"),
            ("old", 0, "default"),
            ("urgent", 5, "default"),
            ("new", 0, "default"),
        ],
    )
    expected = ["urgent", "old", "new", "flex"]
    positions = {name: store.queue_position(job_id) for name, job_id in ids.items()}
    assert sorted(positions, key=lambda n: positions[n]) == expected
    job = store.get(ids["flex"])
    assert job is not None and (job.priority, job.tier) == (9, "flex")
    claimed = [store.claim("w", 30) for _ in range(4)]
    by_id = {job_id: name for name, job_id in ids.items()}
    assert [by_id[c.job.id] if c else None for c in claimed] == expected


def test_ranking_stays_within_the_warm_models_preference(store: JobStore, clock: FakeClock) -> None:
    from clipforge.store.base import JobExtras

    other = store.create(request(model=Y), JobExtras(priority=100)).id
    clock.advance(1)
    low = store.create(request(model=X)).id
    clock.advance(1)
    high = store.create(request(model=X), JobExtras(priority=3)).id
    claims = [store.claim("w", 30, prefer=[X]) for _ in range(3)]
    assert [c.job.id if c else None for c in claims] == [high, low, other]
