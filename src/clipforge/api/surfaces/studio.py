"""The web studio: a static page at `/` with its script and style (no build step)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

STUDIO_ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "compare.js": "text/javascript; charset=utf-8",
    "controls.js": "text/javascript; charset=utf-8",
    "form.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
NO_CACHE = {"Cache-Control": "no-cache"}


def _web() -> Traversable:
    return files("clipforge") / "web"


@router.get("/")
async def index() -> Response:
    """The studio page (public: the page asks for a key only when the API wants one)."""
    page = (_web() / "index.html").read_bytes()
    return Response(page, media_type="text/html; charset=utf-8", headers=NO_CACHE)


@router.get("/studio/{name}")
async def asset(name: str) -> Response:
    """The studio's script and style sheet; nothing else in the package is reachable."""
    media_type = STUDIO_ASSETS.get(name)
    if media_type is None:
        raise HTTPException(404, f"no studio file {name!r}")
    return Response((_web() / name).read_bytes(), media_type=media_type, headers=NO_CACHE)
