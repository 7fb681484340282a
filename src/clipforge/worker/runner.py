"""One worker: claim -> run the backend -> encode -> store -> finish, with a heartbeat.

Failures are sorted once, here (DESIGN.md habit 6):
- JobFailure (and anything unexpected): job-level, the job ends in `error` with the message;
- JobCancelled, or a claim that is no longer ours: nothing to write, the store already says so;
- WorkerFailure, or a device out of memory from any backend: worker-level, the job goes back
  to the queue and the backend is reloaded;
- a storage or scratch fault (`files/faults.py`): the infrastructure's, the job goes back to
  the queue uncounted and the worker claims nothing until storage passes a probe.
Job messages never carry the server's paths.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from clipforge.backends.base import Backend, out_of_device_memory
from clipforge.backends.segments import generate_long
from clipforge.errors import JobCancelled, JobFailure, WorkerFailure
from clipforge.files.base import Storage, frame_key, job_keys, still_key, video_key
from clipforge.files.faults import as_storage_fault, scrub_paths
from clipforge.files.health import StorageHealth
from clipforge.logs import log_fields
from clipforge.routing.workers import WeightsRouting
from clipforge.schemas import GenerationRequest, JobResult
from clipforge.settings import Settings
from clipforge.store.base import Claim, JobStore
from clipforge.video.cadence import Cadence, plan_cadence
from clipforge.worker.encode import encode_clip
from clipforge.worker.frames import job_images
from clipforge.worker.heartbeat import Heartbeat
from clipforge.worker.identity import local_worker_id
from clipforge.worker.plan import check_plan, draft_steps, job_metadata
from clipforge.worker.presence import Presence
from clipforge.worker.scratch import process_scratch, storage_health
from clipforge.worker.tail import TailEstimate
from clipforge.worker.warm import WarmBackend

log = logging.getLogger(__name__)

BackendLoader = Callable[[], Backend]


class Worker:
    """Runs jobs one at a time on one device, keeping its backend loaded between jobs.

    `load_backend` is either one loader for every job, or a `WeightsRouting` when model ids
    are served by different weights: then the worker prefers jobs for the weights it holds.
    """

    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        load_backend: BackendLoader | WeightsRouting,
        settings: Settings,
        worker_id: str | None = None,
        health: StorageHealth | None = None,
    ) -> None:
        self.store = store
        self.storage = storage
        self.settings = settings
        self.health = health or storage_health(storage, settings.data_dir)
        """Whether storage takes writes (shared by the workers of a process)."""
        self.worker_id = worker_id or local_worker_id(0)
        routing = (
            load_backend
            if isinstance(load_backend, WeightsRouting)
            else WeightsRouting.single(load_backend)
        )
        self.warm = WarmBackend(routing)
        self.current: Claim | None = None
        """The claim of the job running now (None while idle)."""
        self._presence: Presence | None = None
        self.tail = TailEstimate()
        """What follows denoising, as this worker last measured it (the ETA adds it)."""

    @property
    def backend(self) -> Backend:
        """The warm backend, loaded on first use (for the first served model id)."""
        return self.warm.warm_up()

    @property
    def busy(self) -> bool:
        return self.current is not None

    @property
    def warm_model(self) -> str | None:
        return self.warm.weights

    @property
    def adapter_status(self) -> dict[str, str | None]:
        """The warm model's LoRA adapters -> None when loaded, else why not."""
        backend = self.warm.backend
        return backend.adapter_status() if backend is not None else {}

    @property
    def device(self) -> object:
        """The torch device of the warm backend, where it has one (for its memory)."""
        return getattr(self.warm.backend, "device", None)

    def present(self) -> Presence:
        """Report this worker in the store while the block runs (readiness, metrics); a job
        starting or ending is reported at once."""
        self._presence = Presence(self.store, self, self.settings.heartbeat_seconds)
        return self._presence

    def run(self, stop: threading.Event) -> None:
        """Take jobs until `stop` is set."""
        with self.present():
            while not stop.is_set():
                if paused := self.health.wait_before_claim():
                    stop.wait(paused)
                    continue
                try:
                    busy = self.run_once()
                except Exception:
                    # The store itself failed (disk full, database locked for too long): keep
                    # the worker alive and try again; the job, if any, is recovered by its lease.
                    log.exception("worker %s: store error, retrying", self.worker_id)
                    busy = False
                if not busy:
                    stop.wait(self.settings.poll_interval_seconds)

    def run_once(self) -> bool:
        """Run one job if one is queued; False when the queue was empty."""
        lease = self.settings.lease_seconds
        claim = self.store.claim(self.worker_id, lease, prefer=self.warm.preferred())
        if claim is None:
            return False
        self.execute(claim)
        return True

    def execute(self, claim: Claim) -> None:
        """Run one claimed job to its end, sorting failures (the module docstring)."""
        job = claim.job
        fields = {"job_id": job.id, "attempt": claim.attempt, "model": job.request.model}
        self._now_running(claim)
        try:
            with log_fields(**fields, worker=self.worker_id):
                log.info("job %s: attempt %d on %s", job.id, claim.attempt, self.worker_id)
                self._sorted(claim)
        finally:
            self._now_running(None)

    def _now_running(self, claim: Claim | None) -> None:
        self.current = claim
        if self._presence is not None:
            self._presence.report_soon()

    def _sorted(self, claim: Claim) -> None:
        try:
            self._run(claim)
        except JobCancelled:
            log.info("job %s: cancelled or taken over", claim.job.id)
        except WorkerFailure as exc:
            self._give_back(claim, exc)
        except JobFailure as exc:
            self.store.fail(claim, exc.name, self._scrubbed(str(exc)))
        except Exception as exc:
            if out_of_device_memory(exc):
                self._give_back(claim, exc)
                return
            if (fault := as_storage_fault(exc)) is None:
                log.exception("job %s failed", claim.job.id)
                message = self._scrubbed(f"{type(exc).__name__}: {exc}")
                self.store.fail(claim, "GenerationError", message)
                return
            log.warning("job %s: %s; queued again, uncounted", claim.job.id, fault, exc_info=exc)
            self.health.fault(fault, job_given_back=self.store.give_back(claim))

    def _give_back(self, claim: Claim, exc: Exception) -> None:
        log.warning("job %s: worker failure, job requeued: %s", claim.job.id, exc)
        self.store.release(claim)
        self._drop_backend()

    def _scrubbed(self, message: str) -> str:
        return scrub_paths(message, self.settings.data_dir)

    def close(self) -> None:
        self._drop_backend()

    def _run(self, claim: Claim) -> None:
        scratch = self._scratch_path(claim)
        try:
            with Heartbeat(self.store, claim, self.settings) as beat:
                result, still_files = self._render(claim, beat, scratch)
            self._publish(claim, scratch, result, still_files)
        finally:
            try:
                scratch.unlink(missing_ok=True)
            except OSError as exc:  # unwritable scratch: the restart's cleanup removes it
                log.warning("scratch file not removed: %s", type(exc).__name__)

    def _render(
        self, claim: Claim, beat: Heartbeat, scratch: Path
    ) -> tuple[JobResult, dict[str, bytes]]:
        request = claim.job.request
        started = time.perf_counter()
        self._phase(claim, "loading")
        backend = self.warm.for_model(request.model, bool(request.reference_images))
        loaded = time.perf_counter()
        images = job_images(self.storage, claim.job)
        request = draft_steps(backend, request)
        cadence = self._cadence(request, check_plan(backend, request, images).num_frames)
        reading = backend.interpret(request).as_dict() | {"frame_rate": cadence.as_dict()}
        if not self.store.record_reading(claim, reading):
            raise JobCancelled("claim lost before generating")
        pixel_frames = request.pixel_frames
        self._phase(claim, "denoising", self.tail.after("denoising", pixel_frames))
        steps_done: list[float] = []
        progress = self._progress(claim, beat, steps_done, pixel_frames)
        clip = generate_long(backend, request, progress, images)
        decoded = time.perf_counter()
        denoised = steps_done[0] if steps_done else decoded
        self._phase(claim, "encoding", self.tail.after("encoding", pixel_frames))
        if clip.num_frames != cadence.native_frames:
            cadence = self._cadence(request, clip.num_frames)
        metadata = job_metadata(claim, backend.name)
        encode_s, stills = encode_clip(clip, request, cadence, scratch, metadata)
        beat.check()
        first_started = claim.job.started_at or claim.job.created_at
        timings = {
            "queue_wait_s": max(0.0, first_started - claim.job.created_at),
            "load_s": loaded - started,
            "denoise_s": denoised - loaded,
            "decode_s": decoded - denoised,
            "encode_s": encode_s,
            "total_s": time.perf_counter() - started,
        }
        still_files = stills.encoded()
        result = JobResult(video_key(claim.job.id), backend.name, timings, tuple(still_files))
        return result, still_files

    def _cadence(self, request: GenerationRequest, native_frames: int) -> Cadence:
        mode = self.settings.frame_rate_mode
        return plan_cadence(native_frames, request.seconds, request.frames, mode)

    def _phase(self, claim: Claim, phase: str, expected_tail_s: float | None = None) -> None:
        if not self.store.record_phase(claim, phase, expected_tail_s):
            raise JobCancelled(f"claim lost before {phase}")

    def _publish(
        self, claim: Claim, scratch: Path, result: JobResult, still_files: dict[str, bytes]
    ) -> None:
        if not self.store.heartbeat(claim, self.settings.lease_seconds):
            raise JobCancelled("claim lost before publishing")
        job_id = claim.job.id
        pixel_frames = claim.job.request.pixel_frames
        self._phase(claim, "uploading", self.tail.after("uploading", pixel_frames))
        started = time.perf_counter()
        for kind, data in still_files.items():
            self.storage.put_bytes(still_key(job_id, kind), data)
        self.storage.put(result.video_key, scratch)
        result.timings["upload_s"] = time.perf_counter() - started
        self.tail.learn(result.timings, pixel_frames)
        if not self.store.complete(claim, result):
            # Cancelled (or deleted) meanwhile: nothing will point at these files. A job
            # taken over by another worker keeps them: that worker writes the same keys.
            if self.store.is_cancelled(job_id) or self.store.get(job_id) is None:
                for key in job_keys(job_id):
                    if key not in (frame_key(job_id, "first"), frame_key(job_id, "last")):
                        self.storage.delete(key)
            raise JobCancelled("claim lost before completion")

    def _progress(
        self, claim: Claim, beat: Heartbeat, steps_done: list[float], pixel_frames: int
    ) -> Callable[[int, int], None]:
        """The backend's step callback; after the last step the job is decoding (the time
        goes into `steps_done`)."""

        def progress(step: int, total: int) -> None:
            beat.check()
            if not self.store.record_progress(claim, step, total):
                raise JobCancelled("job cancelled")
            if step == total and not steps_done:
                steps_done.append(time.perf_counter())
                self._phase(claim, "decoding", self.tail.after("decoding", pixel_frames))

        return progress

    def _scratch_path(self, claim: Claim) -> Path:
        return process_scratch(self.settings.data_dir) / f"{claim.job.id}.{claim.attempt}.mp4"

    def _drop_backend(self) -> None:
        self.warm.close()
