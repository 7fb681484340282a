"""The top-level package lists the SDK's names twice (lazily, for light imports): keep in step."""

from __future__ import annotations

import clipforge
import clipforge.client


def test_top_level_exports_are_the_client_exports() -> None:
    assert sorted(clipforge.__all__) == sorted(clipforge.client.__all__)
    assert clipforge.Client is clipforge.client.Client
