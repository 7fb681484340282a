"""The official `openai` and AI/ML API SDKs, pinned, each in a virtual environment of its own in
the repository root (both ship a package named `openai`, so neither goes in the test venv).

Made at install time, by README's set-up command and `.ci/run`:

    python tests/clients/sdk_venvs.py

The SDK tests run their scripts with these interpreters, and fail, naming this command, when
an environment is missing or holds another version: a test run never installs anything.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAKE = "python tests/clients/sdk_venvs.py"


@dataclass(frozen=True)
class Sdk:
    folder: str
    distribution: str
    version: str
    module: str  # what the test scripts import

    @property
    def python(self) -> Path:
        return REPO / self.folder / "bin" / "python"

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


SDKS = {
    "openai": Sdk(".venv-openai", "openai", "3.63.0", "openai"),
    # only pre-releases on PyPI (2.24.0rc1 is the newest); pinned, so no --pre
    "aimlapi": Sdk(".venv-aimlapi", "aimlapi-sdk-python", "2.24.0rc1", "aimlapi"),
}


def installed_version(sdk: Sdk) -> str | None:
    """The SDK's version in its environment, or None when the environment cannot import it."""
    if not sdk.python.exists():
        return None
    check = f"import {sdk.module}, importlib.metadata as m; print(m.version({sdk.distribution!r}))"
    done = subprocess.run([sdk.python, "-c", check], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def sdk_python(name: str) -> Path:
    """The interpreter of the SDK's environment; fails the test when it is not ready."""
    import pytest

    sdk = SDKS[name]
    found = installed_version(sdk)
    if found != sdk.version:
        have = "is missing" if found is None else f"holds {sdk.distribution} {found}"
        pytest.fail(f"{sdk.folder} {have}, not {sdk.requirement}: run `{MAKE}`", pytrace=False)
    return sdk.python


def uv() -> str | None:
    """uv beside this interpreter or on PATH (requirements-dev.txt installs it), else None."""
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.exists() else shutil.which("uv")


def install_commands(sdk: Sdk) -> tuple[list[object], list[object]]:
    """How to make the SDK's environment and install it: uv where there is one (several
    times faster than venv + pip), else venv and pip."""
    folder, fast = REPO / sdk.folder, uv()
    if fast is not None:
        make = [fast, "venv", "--quiet", "--clear", "--python", sys.executable, folder]
        return make, [fast, "pip", "install", "--quiet", "--python", sdk.python, sdk.requirement]
    make = [sys.executable, "-m", "venv", "--clear", folder]
    return make, [sdk.python, "-m", "pip", "install", "--quiet", sdk.requirement]


def make_all() -> int:
    """Create (or replace) every environment that is not ready, the installs side by side."""
    running = []
    for sdk in SDKS.values():
        if installed_version(sdk) == sdk.version:
            continue
        make, install = install_commands(sdk)
        subprocess.run(make, check=True)
        running.append((sdk, subprocess.Popen(install)))
    failed = [sdk.requirement for sdk, process in running if process.wait() != 0]
    if failed:
        print(f"could not install {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(make_all())
