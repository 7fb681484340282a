"""Schemathesis fuzzes each surface's part of the OpenAPI document against a live server:
no answer may be a 5xx, and every answer must match the schema documented for its status.

The normal suite sends about 50 generated requests per surface; a bench run sends at least
1000 (README: `CLIPFORGE_FUZZ_REQUESTS=1000 python -m pytest tests/api/test_fuzz.py ...`).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.live import LiveServer, live_server

REQUESTS_PER_SURFACE = int(os.environ.get("CLIPFORGE_FUZZ_REQUESTS", "50"))
KEY = "fuzz-key"
SURFACES = {
    "aimlapi": "AI/ML API",
    "ark": "BytePlus ModelArk",
    "native": "ClipForge",
    "openai": "OpenAI videos",
}
CHECKED = [
    CHECKS.get_one("not_a_server_error"),
    response_schema_conformance,
    content_type_conformance,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("fuzz")
    # Workers off: jobs stay queued. Callback and image URLs may reach loopback, and nothing
    # else (allowlist only), so that fuzzed bodies get past the URL checks and into the rest
    # of the create path (images included: testpattern takes them) without a packet leaving.
    settings = {"url_allowlist": "127.0.0.1", "url_allowlist_only": True}
    # One key (and one address) sends everything, fast: the limits would answer it with 429.
    settings |= {"rate_limit_per_minute": 0, "max_queued_jobs": 0, "auth_failures_per_minute": 0}
    with live_server(folder, backend="testpattern", workers=0, api_keys=KEY, **settings) as live:
        yield live


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_the_surface_survives_fuzzing(server: LiveServer, surface: str) -> None:
    # Half valid data, half invalid.
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    statuses = _fuzz_surface(server, surface, modes, REQUESTS_PER_SURFACE)
    print(f"{surface} answers by status: {dict(sorted(statuses.items()))}")


def test_fuzzing_reaches_past_validation(server: LiveServer) -> None:
    """Valid generated requests get successes as well as refusals on the surfaces together,
    so that the fuzzing above reaches the store and not only the validation."""
    statuses: Counter[int] = Counter()
    for surface in SURFACES:
        statuses += _fuzz_surface(server, surface, (GenerationMode.POSITIVE,), 24)
    assert any(200 <= status < 300 for status in statuses), statuses
    assert any(400 <= status < 500 for status in statuses), statuses


def _fuzz_surface(
    server: LiveServer, surface: str, modes: tuple[GenerationMode, ...], wanted: int
) -> Counter[int]:
    """Send at least `wanted` generated requests to the surface's operations; the answers
    seen, by status."""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json").include(
        tag=SURFACES[surface]
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"no operations tagged {SURFACES[surface]!r}"
    # Operations with few possible inputs (no parameters) give fewer examples than asked,
    # so rounds go on until the surface has its count.
    per_operation = math.ceil(wanted / len(operations) / len(modes))
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {KEY}"
    statuses: Counter[int] = Counter()
    for _ in range(20):
        for operation in operations:
            for mode in modes:
                strategy = operation.as_strategy(generation_mode=mode)
                _fuzz(strategy, server.url, session, per_operation, statuses)
        if statuses.total() >= wanted:
            break
    assert statuses.total() >= wanted, statuses
    return statuses


def _fuzz(
    strategy: st.SearchStrategy,
    base_url: str,
    session: requests.Session,
    n: int,
    statuses: Counter[int],
) -> None:

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, session=session, timeout=60)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKED)

    with suppress(Unsatisfiable):  # no invalid input exists (an operation without parameters)
        run()
