"""Signed video links: GET /files/{key}?expires=..&signature=.. (no API key needed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from clipforge.api.accept.fields import QueryInt
from clipforge.api.deps import ServicesDep
from clipforge.errors import LinkRefused
from clipforge.files.base import media_type
from clipforge.files.local import FILES_PATH, LocalStorage

router = APIRouter(tags=["files"])


@router.head(FILES_PATH + "/{key}", include_in_schema=False)
@router.get(
    FILES_PATH + "/{key}",
    response_class=FileResponse,
    responses={
        200: {"content": {"video/mp4": {}, "image/png": {}}},
        403: {"description": "Bad or expired link"},
    },
    summary="Download a job's file (its video, its first or last frame) through a signed link",
)
def download(
    key: str,
    services: ServicesDep,
    expires: Annotated[QueryInt, Query()] = 0,
    signature: Annotated[str, Query(max_length=128)] = "",
) -> FileResponse:
    storage = services.storage
    if not isinstance(storage, LocalStorage):
        raise LinkRefused("this server does not serve files itself")
    path = storage.open_signed(key, expires, signature)
    return FileResponse(path, media_type=media_type(key), filename=key)
