"""The seed document's own polling loop, run with only its base URL, key and sleep swapped.

`seed_polling_loop.py.txt` is the code of ../shared/seeds/000_*.txt with its indentation
restored (the document lost it); `test_seed_client.py` checks that every line of it is a line
of the seed document, so that this stays the real client and not our idea of it.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).with_name("seed_polling_loop.py.txt")
HOSTED_BASE = "https://api.aimlapi.com"
HOSTED_KEY = "<YOUR_AIMLAPI_KEY>"
HOSTED_SLEEP = "time.sleep(10)"


def swapped_source(base_url: str, api_key: str, sleep_seconds: float) -> str:
    source = TEMPLATE.read_text()
    for original in (HOSTED_BASE, HOSTED_KEY, HOSTED_SLEEP):
        assert original in source, original
    return (
        source.replace(HOSTED_BASE, base_url)
        .replace(f'api_key = "{HOSTED_KEY}"', f'api_key = "{api_key}"')
        .replace(HOSTED_SLEEP, f"time.sleep({sleep_seconds})")
    )


def run_seed_client(
    workdir: Path, base_url: str, api_key: str, sleep_seconds: float = 0.5
) -> dict[str, Any] | None:
    """Run the swapped script's main() and return what it returns (the final poll body)."""
    script = workdir / "seed_polling_loop.py"
    script.write_text(swapped_source(base_url, api_key, sleep_seconds))
    namespace = runpy.run_path(str(script), run_name="seed_client")
    result: dict[str, Any] | None = namespace["main"]()
    return result
