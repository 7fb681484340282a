"""Test images built in code (PNG, JPEG with EXIF orientation, WebP, animations, a bomb), and
an HTTP server on loopback that serves them the ways a real one can go wrong."""

from __future__ import annotations

import base64
import contextlib
import io
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image


def halves(
    width: int = 400, height: int = 300, left=(220, 30, 30), right=(30, 30, 220)
) -> np.ndarray:
    """An image whose left half is one colour and right half another."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = left
    pixels[:, width // 2 :] = right
    return pixels


def encoded(pixels: np.ndarray, kind: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=kind, **options)
    return out.getvalue()


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def rotated_jpeg(pixels: np.ndarray) -> bytes:
    """A JPEG stored sideways with EXIF orientation 6 (display it turned 90 degrees clockwise)."""
    sideways = np.rot90(pixels, k=1)  # what a phone writes: the sensor's landscape
    exif = Image.Exif()
    exif[0x0112] = 6
    return encoded(np.ascontiguousarray(sideways), "JPEG", exif=exif, quality=95)


def animated(frames: list[np.ndarray], kind: str = "WEBP") -> bytes:
    images = [Image.fromarray(f) for f in frames]
    out = io.BytesIO()
    images[0].save(out, format=kind, save_all=True, append_images=images[1:], lossless=True)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "image/png"
    delay: float = 0.0
    location: str | None = None
    chunked: bool = False
    length: int | None = None
    """A Content-Length to claim (None: the body's own)."""


@dataclass
class ImageServer:
    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)


@contextmanager
def image_server() -> Iterator[ImageServer]:
    server = ImageServer("")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            # The client gives up on a slow or oversized answer: that is the point.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer()

        def _answer(self) -> None:
            server.hits.append(self.path)
            route = server.routes.get(self.path, Route(404, b"no such image", "text/plain"))
            if route.delay:
                time.sleep(route.delay)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            if route.location:
                self.send_header("Location", route.location)
            if route.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(route.body), 65536):
                    part = route.body[start : start + 65536]
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            length = route.length if route.length is not None else len(route.body)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    http.daemon_threads = True
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{http.server_address[1]}"
    try:
        yield server
    finally:
        http.shutdown()
        http.server_close()
