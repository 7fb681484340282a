"""The engine-free rules: the diagram guard every write goes through, and id checking."""

from __future__ import annotations

import uuid

import pytest

from clipforge.schemas import JobResult, JobStatus
from clipforge.store import rules, sql


@pytest.mark.parametrize(
    "before, changes",
    [
        (JobStatus.COMPLETED, rules.cancelled(0.0)),
        (JobStatus.CANCELLED, rules.failed("GenerationError", "late", 0.0)),
        (JobStatus.QUEUED, rules.completed(JobResult("k", "b"), 0.0)),
        (JobStatus.ERROR, rules.abandoned(1, 0.0, 3, "stopped responding", crashed=True)),
        (None, rules.cancelled(0.0)),  # a status change must say what it moves from
    ],
)
def test_a_write_off_the_diagram_is_refused_before_it_reaches_sql(
    before: JobStatus | None, changes: rules.Changes
) -> None:
    guard = {"id": str(uuid.uuid4())} | ({"status": before} if before else {})
    with pytest.raises(ValueError, match="transition"):
        sql.update(changes, guard)


def test_writes_on_the_diagram_pass() -> None:
    fence = rules.fence("w1", 1, str(uuid.uuid4()))
    for changes in (
        rules.completed(JobResult("k", "b"), 0.0),
        rules.failed("GenerationError", "x", 0.0),
        rules.abandoned(1, 0.0, 3, "gave the job back", crashed=False),
        rules.progressed(1, 2, 0.0),
    ):
        statement, params = sql.update(changes, fence)
        assert statement.startswith("UPDATE jobs SET") and params["is_worker_id"] == "w1"


def test_only_canonical_uuids_are_job_ids() -> None:
    made = str(uuid.uuid4())
    assert rules.is_job_id(made)
    for other in (made.upper(), made.replace("-", ""), "{" + made + "}", "", "x", None, 7):
        assert not rules.is_job_id(other)
