"""Ark's task says the file's frame rate and count once a worker has planned them."""

from __future__ import annotations

import dataclasses

from clipforge.api.surfaces.ark.views import _written
from clipforge.schemas import GenerationRequest, Job, JobStatus
from clipforge.video.cadence import plan_cadence


def test_arks_task_says_the_files_rate_once_planned() -> None:
    request = GenerationRequest(model="bytedance/seedance-1-0-pro-t2v", prompt="a ball")
    job = Job(id="cgt-1", request=request, status=JobStatus.QUEUED, created_at=0, updated_at=0)
    assert (_written(job, "fps", 24), _written(job, "frames", 121)) == (24, 121)
    planned = dataclasses.replace(job, reading={"frame_rate": plan_cadence(81, 5, 121).as_dict()})
    assert (_written(planned, "fps", 24), _written(planned, "frames", 121)) == (16, 81)
