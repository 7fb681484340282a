"""The seams of DESIGN.md, checked on the source: what each layer may not import, and that
each decision has one home (the served ids, the native size, the device)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "clipforge"
SERVER = ("api", "store", "files", "worker", "backends", "queue", "wiring", "cli", "routing")
SERVER_MODULES = tuple(f"clipforge.{name}" for name in (*SERVER, "settings", "video"))

FORBIDDEN = {
    "api": ("clipforge.backends", "clipforge.worker", "clipforge.cli", "torch", "diffusers"),
    "client": (*SERVER_MODULES, "fastapi", "uvicorn", "torch", "typer", "rich"),
    "store": ("clipforge.api", "clipforge.backends", "clipforge.worker", "torch"),
    "backends": ("clipforge.store", "clipforge.api", "clipforge.worker", "clipforge.files"),
    "video": ("clipforge.api", "clipforge.store", "clipforge.worker", "clipforge.backends"),
    "worker": ("clipforge.api", "clipforge.cli"),
    "background": ("clipforge.api", "clipforge.backends", "clipforge.worker", "fastapi", "torch"),
    "routing": ("clipforge.api", "clipforge.worker", "clipforge.store", "fastapi", "torch"),
    "settings": ("clipforge.api", "clipforge.backends", "clipforge.routing", "torch"),
}

# Inside api/: the surfaces use the shared layers, never each other; the plumbing knows no
# surface. (A surface's package may import its own modules.)
API_FORBIDDEN = {
    "api/http": ("clipforge.api.surfaces", "clipforge.api.accept"),
    "api/accept": ("clipforge.api.surfaces",),
}


SURFACE_EXTENDS = {"native": "aimlapi"}
"""ClipForge's native surface takes the AI/ML create body as it is (one body, two answers)."""


def _surface_of(name: str) -> str | None:
    prefix = "clipforge.api.surfaces."
    return name[len(prefix) :].split(".")[0] if name.startswith(prefix) else None


def test_api_inner_layers_import_no_surface() -> None:
    broken = []
    for folder, forbidden in API_FORBIDDEN.items():
        for path in sorted((SRC / folder).rglob("*.py")):
            for name in imports(path):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    broken.append(f"{path.relative_to(SRC)} imports {name}")
    surfaces = SRC / "api" / "surfaces"
    for path in sorted(surfaces.rglob("*.py")):
        own = path.relative_to(surfaces).parts[0].removesuffix(".py")
        for name in imports(path):
            other = _surface_of(name)
            if other is not None and other not in (own, SURFACE_EXTENDS.get(own)):
                broken.append(f"{path.relative_to(SRC)} imports another surface: {name}")
    assert not broken, "\n".join(broken)


def test_the_worker_process_shape_imports_no_fastapi() -> None:
    """`clipforge worker` (wiring + worker process + callback sender) runs without the API."""
    script = (
        "import sys, clipforge.wiring, clipforge.worker.process, clipforge.background.callbacks;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')"
        " or m.startswith('clipforge.api.surfaces.ark.routes')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_it_must_not(layer: str) -> None:
    broken = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for name in imports(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer]):
                broken.append(f"{path.relative_to(SRC)} imports {name}")
    assert not broken, "\n".join(broken)


def _definitions(name: str) -> list[str]:
    found = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            defined = isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign):
                targets = [node.target]
            assigned = any(isinstance(t, ast.Name) and t.id == name for t in targets)
            if defined or assigned:
                found.append(str(path.relative_to(SRC)))
    return found


@pytest.mark.parametrize(
    "name, home",
    [
        ("native_size", "backends/geometry.py"),
        ("resolve_device", "backends/devices.py"),
        ("DEFAULT_MODEL_MAP", "routing/weights.py"),
        ("weights_for_model", "routing/weights.py"),
        ("ModelRouting", "routing/__init__.py"),
        ("ServedModel", "routing/served.py"),
        ("Settings", "settings/__init__.py"),
    ],
)
def test_each_decision_has_one_home(name: str, home: str) -> None:
    assert _definitions(name) == [home]


def test_only_the_routing_computes_the_served_ids() -> None:
    """The Seedance ids are vocabulary (schemas.py, and the per-model table
    seedance_models.py); which of them are served is decided in routing/ alone (the table
    of served ids, and what one served id takes)."""
    users = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name not in ("schemas.py", "seedance_models.py")
        and ("IMAGE_TO_VIDEO_MODELS" in path.read_text() or "SEEDANCE_MODELS" in path.read_text())
    ]
    assert sorted(users) == ["routing/__init__.py", "routing/served.py"]


BLOCKER = """
import importlib.abc, sys
BLOCKED = {blocked!r}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{{name}} is server code")
        return None

sys.meta_path.insert(0, Block())
from clipforge import Client, AsyncClient, JobFailedError
with Client({url!r}) as client:
    job = client.generate("a red ball", resolution="480p", duration=5).wait()
    assert job.status == "completed", job
print("sdk ok", sorted(m for m in sys.modules if m.startswith("clipforge")))
"""


def test_the_sdk_works_with_the_server_code_unimportable(tmp_path: Path) -> None:
    from tests.live import live_server

    blocked = [*SERVER_MODULES, "fastapi", "uvicorn", "torch", "typer", "rich", "starlette"]
    with live_server(tmp_path, backend="testpattern", workers=1) as live:
        script = BLOCKER.format(blocked=blocked, url=live.url)
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr
    assert "sdk ok" in done.stdout
