"""Storage health: a fault pauses claiming; probes back off (1, 2, 4 ... at most 15 s) and
the first that passes ends the pause."""

from __future__ import annotations

import errno

from clipforge.errors import StorageUnavailable
from clipforge.files.health import MAX_DELAY_SECONDS, StorageHealth


def test_probes_back_off_until_one_passes() -> None:
    now = [100.0]
    outcomes = [OSError(errno.EROFS, "Read-only file system", "/srv/data")] * 6 + [None]
    probes: list[float] = []

    def probe() -> None:
        probes.append(now[0])
        if (failure := outcomes.pop(0)) is not None:
            raise failure

    health = StorageHealth(probe, clock=lambda: now[0])
    assert health.wait_before_claim() == 0 and probes == []  # healthy: no probe at all
    health.fault(StorageUnavailable("no space left on the device"), job_given_back=True)
    while (wait := health.wait_before_claim()) > 0:
        assert health.unhealthy_for() is not None and health.reason
        now[0] += wait
    assert [round(b - a) for a, b in zip([100.0, *probes], probes, strict=False)] == [
        1,
        2,
        4,
        8,
        15,
        15,
        15,
    ]
    assert health.healthy and health.unhealthy_for() is None
    assert (health.faults, health.given_back) == (7, 1) and MAX_DELAY_SECONDS == 15
