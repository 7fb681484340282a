"""Form bodies (multipart/form-data, as the OpenAI SDK sends an upload, or urlencoded),
parsed off the event loop: the body is received as it arrives (the body limit of
`api/http/limits.py` applies), then split into values and files in a worker thread, so that a
20 MB upload being parsed never holds up another request (`/healthz` included)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from clipforge.errors import InvalidField

MAX_PARTS = 200
"""Fields and files one form may have (each costs a little; no create needs many)."""


@dataclass
class Part:
    name: str = ""
    filename: str | None = None
    chunks: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class Upload:
    """A file of a form: its field, its bytes and their SHA-256 (hashed in the parsing
    thread, not on the event loop: what an Idempotency-Key compares)."""

    name: str
    data: bytes
    sha256: str


@dataclass(frozen=True)
class Form:
    """A parsed form: its text values and its files."""

    values: list[tuple[str, str]]
    files: list[Upload]


async def read_form(request: Request) -> Form:
    """The request's form body, parsed in a thread; a malformed one is a 400 naming `body`.
    The chunks go to the thread as they came (no 20 MB join on the event loop), and the
    parser takes them one by one, so the thread never holds the GIL for long at a time."""
    chunks = [chunk async for chunk in request.stream() if chunk]
    return await asyncio.to_thread(parse_form, request.headers.get("content-type", ""), chunks)


def parse_form(content_type: str, chunks: list[bytes]) -> Form:
    kind, options = parse_options_header(content_type)
    if kind == b"application/x-www-form-urlencoded":
        try:
            text = b"".join(chunks).decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_PARTS)
        except ValueError as exc:
            raise InvalidField("body", f"not a valid urlencoded form ({exc})") from None
        return Form(pairs, [])
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidField("body", "a multipart form needs a boundary")
    parts = _parts(boundary, chunks)
    values: list[tuple[str, str]] = []
    files: list[Upload] = []
    for part in parts:
        data = b"".join(part.chunks)
        if part.filename is not None:
            files.append(Upload(part.name, data, hashlib.sha256(data).hexdigest()))
            continue
        try:
            values.append((part.name, data.decode("utf-8")))
        except UnicodeDecodeError:
            raise InvalidField(part.name or "body", "a form value must be UTF-8 text") from None
    return Form(values, files)


def _parts(boundary: bytes, chunks: list[bytes]) -> list[Part]:
    parts: list[Part] = []
    header: list[bytes] = [b"", b""]

    def begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise InvalidField("body", f"a form may have at most {MAX_PARTS} parts")
        parts.append(Part())

    def header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def header_end() -> None:
        _take_header(parts[-1], header[0].lower(), header[1])
        header[:] = [b"", b""]

    def part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].chunks.append(data[start:end])

    callbacks = {
        "on_part_begin": begin,
        "on_header_field": header_field,
        "on_header_value": header_value,
        "on_header_end": header_end,
        "on_part_data": part_data,
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except InvalidField:
        raise
    except Exception as exc:  # python-multipart's errors: a malformed body
        raise InvalidField("body", f"not a valid multipart form ({exc})") from None
    return parts


def _take_header(part: Part, name: bytes, value: bytes) -> None:
    text = value.decode("latin-1")
    if name == b"content-disposition":
        _, options = parse_options_header(text)
        part.name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        part.filename = None if filename is None else filename.decode("utf-8", "replace")
