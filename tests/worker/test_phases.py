"""Progress that covers the whole job: the worker reports each phase (loading, denoising,
encoding, uploading) with its estimate of what follows denoising, and what the model made of
the request; the ETA counts all of it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from clipforge.api.surfaces.native.views import eta_seconds
from clipforge.backends.testpattern import TestPatternBackend
from clipforge.files.local import LocalStorage
from clipforge.schemas import GenerationRequest, Job, JobStatus, Resolution
from clipforge.settings import Settings
from clipforge.store import SQLiteJobStore
from clipforge.store.base import Claim
from clipforge.worker.runner import Worker

REQUEST = GenerationRequest(
    model="bytedance/seedance-1-0-pro-t2v", prompt="a red ball", resolution=Resolution.P480
)


class PhaseLog(SQLiteJobStore):
    """The real store, keeping a note of every phase and reading the worker writes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.phases: list[tuple[str, float | None, int]] = []
        self.readings: list[dict[str, object]] = []

    def record_phase(self, claim: Claim, phase: str, expected_tail_s: float | None = None) -> bool:
        job = self.get(claim.job.id)
        self.phases.append((phase, expected_tail_s, job.progress_step if job else -1))
        return super().record_phase(claim, phase, expected_tail_s)

    def record_reading(self, claim: Claim, reading: dict[str, object]) -> bool:
        self.readings.append(reading)
        return super().record_reading(claim, reading)


def test_a_job_goes_through_every_phase_in_order(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, heartbeat_seconds=0.05, lease_seconds=5)
    store = PhaseLog(tmp_path / "jobs.db")
    storage = LocalStorage(tmp_path / "v", secret=b"k", public_base_url="http://x", ttl_seconds=9)
    worker = Worker(store, storage, lambda: TestPatternBackend(), settings, "host:1:boot:0")
    first, second = store.create(REQUEST), store.create(REQUEST)
    assert worker.run_once() and worker.run_once()
    names = [phase for phase, _, _ in store.phases]
    assert names == ["loading", "denoising", "decoding", "encoding", "uploading"] * 2
    steps_before = {phase: step for phase, _, step in store.phases[:5]}
    assert steps_before["denoising"] == 0 and steps_before["decoding"] == 4  # after the steps
    tails = [tail for _, tail, _ in store.phases]
    guess, learnt = tails[1], tails[6]
    assert guess is not None and learnt is not None and learnt != guess  # the measured rate
    assert all(tail is not None and tail >= 0 for tail in tails[1:5] + tails[6:])
    assert tails[7] >= tails[8] >= tails[9] >= 0  # each phase expects less of the rest
    done = store.get(first.id)
    assert done is not None and done.status is JobStatus.COMPLETED and done.phase is None
    assert done.reading["prompt"] == "a red ball" and store.readings[0] == done.reading
    assert done.reading["frame_rate"] == {
        "fps": 24,
        "frames": 121,
        "how": "hold",
        "native_fps": 8.0,
    }
    assert {"load_s", "denoise_s", "decode_s", "encode_s", "upload_s"} <= set(done.timings)
    assert all(done.timings[key] >= 0 for key in ("denoise_s", "decode_s", "encode_s"))
    assert store.get(second.id).reading == done.reading  # type: ignore[union-attr]


def _running(**fields: object) -> Job:
    base = Job("id", REQUEST, JobStatus.GENERATING, created_at=0.0, updated_at=0.0, started_at=0.0)
    return replace(base, **fields)  # type: ignore[arg-type]


def test_the_eta_counts_what_follows_denoising() -> None:
    denoising = _running(
        phase="denoising",
        phase_started_at=100.0,
        progress_step=2,
        progress_total=4,
        expected_tail_s=5.0,
    )
    assert eta_seconds(denoising, now=102.0) == 2.0 + 5.0  # 2 more steps at 1 s each, then 5
    encoding = _running(phase="encoding", phase_started_at=200.0, expected_tail_s=5.0)
    assert eta_seconds(encoding, now=203.0) == 2.0
    decoding = _running(phase="decoding", phase_started_at=200.0, expected_tail_s=8.0)
    assert eta_seconds(decoding, now=201.0) == 7.0
    assert eta_seconds(encoding, now=300.0) == 0.0  # late: never negative
    assert eta_seconds(_running(phase="loading", phase_started_at=1.0), now=2.0) is None
    assert eta_seconds(replace(denoising, status=JobStatus.QUEUED), now=102.0) is None


def test_the_tail_estimate_shrinks_phase_by_phase() -> None:
    from clipforge.worker.tail import TailEstimate

    tail = TailEstimate()
    first_guess = tail.after("denoising", 1_000_000)
    assert first_guess > 0 and tail.after("uploading", 1_000_000) == 0.0
    tail.learn({"decode_s": 2.0, "encode_s": 3.0, "upload_s": 0.5}, 1_000_000)
    assert tail.after("denoising", 2_000_000) == 2 * 2.0 + 2 * 3.0 + 0.5  # scales with pixels
    assert tail.after("decoding", 1_000_000) == 5.5
    assert tail.after("encoding", 1_000_000) == 3.5
    assert tail.after("uploading", 1_000_000) == 0.5
